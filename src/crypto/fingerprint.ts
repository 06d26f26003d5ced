/**
 * Fingerprints for people: SHA-256, shown as eight groups of five digits so that two
 * people can read them to each other and compare (in the manner of Signal's safety
 * numbers). Each group encodes 32 bits of the digest reduced mod 100000, so the
 * display carries about 133 bits.
 */
import { concatBytes, utf8 } from '../protocol/bytes.js';
import { sha256Digest } from './hash.js';

export async function certificateFingerprint(der: Uint8Array): Promise<Uint8Array> {
  return sha256Digest(der);
}

/** A user's identity: both public keys, under a label. */
export async function keyFingerprint(
  signingKey: Uint8Array,
  encryptionKey: Uint8Array,
): Promise<Uint8Array> {
  return sha256Digest(concatBytes(utf8('sisp/2 key fingerprint\n'), signingKey, encryptionKey));
}

export function readableFingerprint(digest: Uint8Array): string {
  if (digest.length < 32) throw new TypeError('digest must be at least 32 bytes');
  const view = new DataView(digest.buffer, digest.byteOffset, 32);
  const groups: string[] = [];
  for (let i = 0; i < 8; i++) groups.push(String(view.getUint32(i * 4) % 100000).padStart(5, '0'));
  return groups.join(' ');
}
