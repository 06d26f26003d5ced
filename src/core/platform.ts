/**
 * The primitives the envelope streams through, chosen per platform: WebCrypto
 * AES-256-GCM and noble's incremental SHA-256 everywhere, or a faster backend tested
 * against the same vectors (Node's OpenSSL: node/aead.ts).
 */
import { webCryptoAes256Gcm, type AeadFactory } from '../crypto/aead.js';
import { nobleSha256, type HasherFactory } from '../crypto/hash.js';
import { WEB_HPKE, type HpkeSuite } from '../crypto/hpke.js';

export interface CryptoBackend {
  readonly aead: AeadFactory;
  readonly sha256: HasherFactory;
  /** Content-key wraps: @hpke/core, or Node's OpenSSL (node/hpke.ts). */
  readonly hpke: HpkeSuite;
}

export const WEB_CRYPTO: CryptoBackend = {
  aead: webCryptoAes256Gcm,
  sha256: nobleSha256,
  hpke: WEB_HPKE,
};
