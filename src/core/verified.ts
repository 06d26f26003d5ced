/**
 * Certificate checks that remember: a certificate verified in full against the
 * pinned CA is recorded in the client's storage under the SHA-256 of the CA and of
 * its exact bytes, and the same bytes under the same CA are accepted later from the
 * record, its expiry checked again, without loading the X.509 parser (for the CLI,
 * ~45 ms of each command that signs in; bench/README, start-up). A record is only
 * written after a full verification, so a hit decides as the full check would have,
 * except for a clock moved back before the certificate's start (the in-process cache
 * in crypto/certificates.ts makes the same choice). The storage is as trusted as the
 * keys and CA beside it.
 */
import type { VerifiedUser } from '../crypto/certificates.js';
import { sha256Digest } from '../crypto/hash.js';
import { toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { ClientStorage, VerifiedRecord } from './storage.js';

let certificatesModule: Promise<typeof import('../crypto/certificates.js')> | undefined;
/** The X.509 code, loaded when a certificate is first checked in full, then kept. */
export const loadCertificates = () => (certificatesModule ??= import('../crypto/certificates.js'));

/** The record's name: SHA-256 of the CA, then of the certificate, in hex. */
export async function verificationKey(caDer: Uint8Array, der: Uint8Array): Promise<string> {
  const [ca, certificate] = await Promise.all([sha256Digest(caDer), sha256Digest(der)]);
  return toHex(ca) + toHex(certificate);
}

/** The record, if there is one of this kind still within its validity. */
async function remembered<K extends VerifiedRecord['kind']>(
  storage: ClientStorage,
  key: string,
  kind: K,
): Promise<Extract<VerifiedRecord, { kind: K }> | undefined> {
  const record = await storage.readVerified(key).catch(() => undefined);
  if (record?.kind !== kind || Date.now() > record.notAfter) return undefined;
  return record as Extract<VerifiedRecord, { kind: K }>;
}

/** A cache that cannot be written costs the next command a full check, nothing more. */
function remember(storage: ClientStorage, key: string, record: VerifiedRecord): Promise<void> {
  return storage.saveVerified(key, record).catch(() => undefined);
}

/** verifyUserCertificate, for `username`, through the storage's record of earlier checks. */
export async function verifyUserRemembered(
  storage: ClientStorage,
  caDer: Uint8Array,
  der: Uint8Array,
  username: string,
): Promise<VerifiedUser> {
  const key = await verificationKey(caDer, der);
  const record = await remembered(storage, key, 'user');
  if (record !== undefined) {
    if (record.username !== username)
      throw sispError('E_CERTIFICATE', 'certificate rejected: issued to another user');
    return {
      username: record.username,
      signingKey: record.signingKey.slice(),
      encryptionKey: record.encryptionKey.slice(),
      serial: record.serial,
      notAfter: new Date(record.notAfter),
    };
  }
  const { verifyUserCertificate } = await loadCertificates();
  const verified = await verifyUserCertificate(der, caDer, { username });
  await remember(storage, key, {
    kind: 'user',
    username: verified.username,
    signingKey: verified.signingKey.slice(),
    encryptionKey: verified.encryptionKey.slice(),
    serial: verified.serial,
    notAfter: verified.notAfter.getTime(),
  });
  return verified;
}

/** verifyServerCertificate's wrapping key, through the storage's record of earlier checks. */
export async function verifyServerRemembered(
  storage: ClientStorage,
  caDer: Uint8Array,
  der: Uint8Array,
): Promise<Uint8Array> {
  const key = await verificationKey(caDer, der);
  const record = await remembered(storage, key, 'server');
  if (record !== undefined) return record.encryptionKey.slice();
  const { verifyServerCertificate } = await loadCertificates();
  const { encryptionKey, notAfter } = await verifyServerCertificate(der, caDer);
  await remember(storage, key, {
    kind: 'server',
    encryptionKey: encryptionKey.slice(),
    notAfter: notAfter.getTime(),
  });
  return encryptionKey;
}
