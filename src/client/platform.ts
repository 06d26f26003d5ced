/** The Node crypto backend for the core: OpenSSL AES-256-GCM and SHA-256 (src/node/aead.ts). */
import type { CryptoBackend } from '../core/platform.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';

export const NODE_CRYPTO: CryptoBackend = { aead: nodeAes256Gcm, sha256: nodeSha256 };
