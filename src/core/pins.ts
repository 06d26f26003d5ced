/**
 * Trust on first use: the first keys seen for a user are pinned; a different key
 * later is refused loudly (E_KEY_CHANGED) with both fingerprints, so the person can
 * compare them out of band.
 */
import type { VerifiedUser } from '../crypto/certificates.js';
import { keyFingerprint, readableFingerprint } from '../crypto/fingerprint.js';
import { equalBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { ClientStorage } from './storage.js';

/** Pins `user` on first sight, or checks it against the pin. Returns the readable fingerprint. */
export async function checkPin(storage: ClientStorage, user: VerifiedUser): Promise<string> {
  const fingerprint = readableFingerprint(
    await keyFingerprint(user.signingKey, user.encryptionKey),
  );
  const existing = await storage.getPin(user.username);
  if (existing === undefined) {
    await storage.savePin(user.username, {
      signingKey: user.signingKey,
      encryptionKey: user.encryptionKey,
      fingerprint,
      firstSeen: new Date().toISOString(),
    });
    return fingerprint;
  }
  if (
    !equalBytes(existing.signingKey, user.signingKey) ||
    !equalBytes(existing.encryptionKey, user.encryptionKey)
  ) {
    throw sispError(
      'E_KEY_CHANGED',
      `the key for ${user.username} has CHANGED: pinned ${existing.fingerprint}, server now presents ${fingerprint}. ` +
        'Compare fingerprints with them out of band; if the change is genuine, accept the new key: ' +
        `sisp pins accept ${user.username} '<the fingerprint they read to you>'`,
    );
  }
  return fingerprint;
}

/** Fingerprints as typed: groups of digits, spaces optional. */
function digitsOf(fingerprint: string): string {
  return fingerprint.replace(/[\s-]/g, '');
}

/**
 * Pins the keys the server now presents for `user`, but only when `typed` (read out
 * by them, compared out of band) is their fingerprint. Nothing changes otherwise.
 */
export async function acceptPin(
  storage: ClientStorage,
  user: VerifiedUser,
  typed: string,
): Promise<{ fingerprint: string; previous: string | undefined }> {
  if (typeof typed !== 'string' || !/^\d{40}$/.test(digitsOf(typed)))
    throw sispError('E_BAD_REQUEST', 'a fingerprint is eight groups of five digits');
  const fingerprint = readableFingerprint(
    await keyFingerprint(user.signingKey, user.encryptionKey),
  );
  if (digitsOf(typed) !== digitsOf(fingerprint))
    throw sispError(
      'E_KEY_CHANGED',
      `the fingerprint typed is not that of the key the server presents for ${user.username}; nothing was changed`,
    );
  const previous = await storage.getPin(user.username);
  await storage.savePin(user.username, {
    signingKey: user.signingKey,
    encryptionKey: user.encryptionKey,
    fingerprint,
    firstSeen: new Date().toISOString(),
  });
  return { fingerprint, previous: previous?.fingerprint };
}
