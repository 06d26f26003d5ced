/**
 * Incremental SHA-256. WebCrypto only hashes whole buffers, so streaming code needs
 * this; Node swaps in its OpenSSL hash through the same interface.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { buf, subtle } from './webcrypto.js';

export interface Hasher {
  update(bytes: Uint8Array): void;
  digest(): Uint8Array;
}

export type HasherFactory = () => Hasher;

export const nobleSha256: HasherFactory = () => {
  const state = sha256.create();
  return {
    update(bytes) {
      state.update(bytes);
    },
    digest() {
      return state.digest();
    },
  };
};

export async function sha256Digest(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-256', buf(bytes)));
}
