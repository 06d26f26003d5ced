/**
 * The AEAD behind the envelope, as an interface so that a platform can supply a
 * faster implementation (Node's OpenSSL bindings) tested against the same vectors.
 * The default is WebCrypto AES-256-GCM, which every browser has.
 */
import { buf, subtle } from './webcrypto.js';

export const AES_256_GCM_KEY = 32;
export const GCM_NONCE = 12;
export const GCM_TAG = 16;

export interface Aead {
  /** Returns ciphertext || tag. */
  seal(nonce: Uint8Array, plaintext: Uint8Array): Uint8Array | Promise<Uint8Array>;
  /** Returns the plaintext, or null when authentication fails. */
  open(nonce: Uint8Array, sealed: Uint8Array): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Builds an AES-256-GCM Aead for a 32-byte key. */
export type AeadFactory = (key: Uint8Array) => Promise<Aead>;

export const webCryptoAes256Gcm: AeadFactory = async (key) => {
  const cryptoKey = await subtle().importKey('raw', buf(key), 'AES-GCM', false, ['encrypt', 'decrypt']);
  return {
    async seal(nonce, plaintext) {
      const params = { name: 'AES-GCM', iv: buf(nonce), tagLength: 128 };
      return new Uint8Array(await subtle().encrypt(params, cryptoKey, buf(plaintext)));
    },
    async open(nonce, sealed) {
      if (sealed.length < GCM_TAG) return null;
      try {
        const params = { name: 'AES-GCM', iv: buf(nonce), tagLength: 128 };
        return new Uint8Array(await subtle().decrypt(params, cryptoKey, buf(sealed)));
      } catch {
        return null;
      }
    },
  };
};
