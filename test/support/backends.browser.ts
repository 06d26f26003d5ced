/** In a browser only WebCrypto exists (see backends.ts). */
import { WEB_CRYPTO, type CryptoBackend } from '../../src/core/platform.js';

export const BACKENDS: readonly { readonly name: string; readonly crypto: CryptoBackend }[] = [
  { name: 'WebCrypto', crypto: WEB_CRYPTO },
];
