/** The Node crypto backend for the core: OpenSSL AES-256-GCM, SHA-256 and HPKE (src/node/). */
import type { CryptoBackend } from '../core/platform.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import { nodeHpke } from '../node/hpke.js';

export const NODE_CRYPTO: CryptoBackend = {
  aead: nodeAes256Gcm,
  sha256: nodeSha256,
  hpke: nodeHpke,
};
