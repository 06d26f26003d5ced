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
  /** Returns ciphertext || tag. The envelope uses empty associated data. */
  seal(
    nonce: Uint8Array,
    plaintext: Uint8Array,
    aad?: Uint8Array,
  ): Uint8Array | Promise<Uint8Array>;
  /**
   * Optional: the same as seal, as ciphertext and tag separately, for backends that
   * would otherwise copy the two into one buffer (Node's cipher API).
   */
  sealDetached?(nonce: Uint8Array, plaintext: Uint8Array): [Uint8Array, Uint8Array];
  /** Returns the plaintext, or null when authentication fails. */
  open(
    nonce: Uint8Array,
    sealed: Uint8Array,
    aad?: Uint8Array,
  ): Uint8Array | null | Promise<Uint8Array | null>;
}

/** Builds an AES-256-GCM Aead for a 32-byte key. */
export type AeadFactory = (key: Uint8Array) => Promise<Aead>;

function gcmParams(nonce: Uint8Array, aad: Uint8Array | undefined): AesGcmParams {
  if (nonce.length !== GCM_NONCE) throw new TypeError('nonce must be 12 bytes');
  const params: AesGcmParams = { name: 'AES-GCM', iv: buf(nonce), tagLength: 128 };
  if (aad !== undefined && aad.length > 0) params.additionalData = buf(aad);
  return params;
}

export const webCryptoAes256Gcm: AeadFactory = async (key) => {
  const cryptoKey = await subtle().importKey('raw', buf(key), 'AES-GCM', false, [
    'encrypt',
    'decrypt',
  ]);
  return {
    async seal(nonce, plaintext, aad) {
      const params = gcmParams(nonce, aad);
      return new Uint8Array(await subtle().encrypt(params, cryptoKey, buf(plaintext)));
    },
    async open(nonce, sealed, aad) {
      if (sealed.length < GCM_TAG) return null;
      try {
        const params = gcmParams(nonce, aad);
        return new Uint8Array(await subtle().decrypt(params, cryptoKey, buf(sealed)));
      } catch {
        return null;
      }
    },
  };
};
