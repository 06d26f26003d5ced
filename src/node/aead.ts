/**
 * Node fast path for the envelope's AEAD and hash: OpenSSL through node:crypto,
 * synchronous, with no WebCrypto promise and copy per chunk. Same interface and same
 * test vectors as the WebCrypto default. Node-only: imported by client/ and server/.
 */
import { createCipheriv, createDecipheriv, createHash, createSecretKey } from 'node:crypto';
import type { AeadFactory } from '../crypto/aead.js';
import type { HasherFactory } from '../crypto/hash.js';

const TAG = 16;

export const nodeAes256Gcm: AeadFactory = (key) => {
  if (key.length !== 32) return Promise.reject(new TypeError('AES-256-GCM key must be 32 bytes'));
  // A KeyObject made once: createCipheriv then skips re-importing the raw key per chunk
  // (measured 15-30% faster at 16 KiB chunks).
  const aeadKey = createSecretKey(Uint8Array.from(key));
  const sealParts = (
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array | undefined,
  ): [Uint8Array, Uint8Array] => {
    if (nonce.length !== 12) throw new TypeError('nonce must be 12 bytes');
    const cipher = createCipheriv('aes-256-gcm', aeadKey, nonce);
    if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
    // GCM is a stream mode: update() returns all of it and final() returns nothing.
    const ciphertext = cipher.update(plaintext);
    cipher.final();
    return [ciphertext, cipher.getAuthTag()];
  };
  return Promise.resolve({
    seal(nonce, plaintext, aad) {
      const [ciphertext, tag] = sealParts(nonce, plaintext, aad);
      const out = new Uint8Array(ciphertext.length + TAG);
      out.set(ciphertext, 0);
      out.set(tag, ciphertext.length);
      return out;
    },
    sealDetached(nonce, plaintext) {
      return sealParts(nonce, plaintext, undefined);
    },
    open(nonce, sealed, aad) {
      if (sealed.length < TAG) return null;
      if (nonce.length !== 12) throw new TypeError('nonce must be 12 bytes');
      const body = sealed.subarray(0, sealed.length - TAG);
      const decipher = createDecipheriv('aes-256-gcm', aeadKey, nonce, { authTagLength: TAG });
      decipher.setAuthTag(sealed.subarray(sealed.length - TAG));
      if (aad !== undefined && aad.length > 0) decipher.setAAD(aad);
      const plaintext = decipher.update(body);
      try {
        decipher.final();
      } catch {
        return null;
      }
      return new Uint8Array(plaintext.buffer, plaintext.byteOffset, plaintext.length);
    },
  });
};

export const nodeSha256: HasherFactory = () => {
  const hash = createHash('sha256');
  return {
    update(bytes) {
      hash.update(bytes);
    },
    digest() {
      return new Uint8Array(hash.digest());
    },
  };
};
