/**
 * HKDF (RFC 5869) over @noble/hashes' HMAC. The envelope needs HKDF-Expand alone
 * (its input key is already uniform), which WebCrypto's HKDF cannot do; and noble's
 * own expand() insists on a PRK of at least HashLen bytes, while Cobblestone feeds
 * HKDF-Expand-SHA-512 a 32-byte key. So the expand loop is written here, on HMAC.
 */
import { hmac } from '@noble/hashes/hmac.js';
import { extract } from '@noble/hashes/hkdf.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type { CHash } from '@noble/hashes/utils.js';

export type HkdfHash = 'SHA-256' | 'SHA-512';

function hashOf(name: HkdfHash): CHash {
  return name === 'SHA-256' ? sha256 : sha512;
}

/** T(i) = HMAC(PRK, T(i-1) || info || i), output = first `length` bytes of T(1)||T(2)||... */
export function hkdfExpand(
  hash: HkdfHash,
  prk: Uint8Array,
  info: Uint8Array,
  length: number,
): Uint8Array {
  const fn = hashOf(hash);
  if (!Number.isSafeInteger(length) || length < 0 || length > 255 * fn.outputLen) {
    throw new RangeError('HKDF-Expand length out of range');
  }
  const out = new Uint8Array(length);
  let previous = new Uint8Array(0);
  for (let counter = 1, offset = 0; offset < length; counter++) {
    const block = hmac
      .create(fn, prk)
      .update(previous)
      .update(info)
      .update(Uint8Array.of(counter))
      .digest();
    out.set(block.subarray(0, Math.min(block.length, length - offset)), offset);
    offset += block.length;
    previous = block;
  }
  return out;
}

export function hkdfExtract(hash: HkdfHash, ikm: Uint8Array, salt: Uint8Array): Uint8Array {
  return extract(hashOf(hash), ikm, salt);
}
