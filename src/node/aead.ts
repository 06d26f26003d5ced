/**
 * Node fast path for the envelope's AEAD and hash: OpenSSL through node:crypto,
 * synchronous, with no WebCrypto promise and copy per chunk. Same interface and same
 * test vectors as the WebCrypto default. Node-only: imported by client/ and server/.
 */
import { createCipheriv, createDecipheriv, createHash } from 'node:crypto';
import type { AeadFactory } from '../crypto/aead.js';
import type { HasherFactory } from '../crypto/hash.js';

const TAG = 16;

export const nodeAes256Gcm: AeadFactory = (key) => {
  if (key.length !== 32) return Promise.reject(new TypeError('AES-256-GCM key must be 32 bytes'));
  const aeadKey = Uint8Array.from(key);
  return Promise.resolve({
    seal(nonce, plaintext, aad) {
      if (nonce.length !== 12) throw new TypeError('nonce must be 12 bytes');
      const cipher = createCipheriv('aes-256-gcm', aeadKey, nonce);
      if (aad !== undefined && aad.length > 0) cipher.setAAD(aad);
      const out = new Uint8Array(plaintext.length + TAG);
      // update() may return less than its input only for block modes; GCM is a stream mode.
      out.set(cipher.update(plaintext), 0);
      cipher.final();
      out.set(cipher.getAuthTag(), plaintext.length);
      return out;
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
