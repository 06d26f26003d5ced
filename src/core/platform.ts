/**
 * The primitives the envelope streams through, chosen per platform: WebCrypto
 * AES-256-GCM and noble's incremental SHA-256 everywhere, or a faster backend tested
 * against the same vectors (Node's OpenSSL: node/aead.ts).
 */
import { webCryptoAes256Gcm, type AeadFactory } from '../crypto/aead.js';
import { nobleSha256, type HasherFactory } from '../crypto/hash.js';

export interface CryptoBackend {
  readonly aead: AeadFactory;
  readonly sha256: HasherFactory;
}

export const WEB_CRYPTO: CryptoBackend = { aead: webCryptoAes256Gcm, sha256: nobleSha256 };
