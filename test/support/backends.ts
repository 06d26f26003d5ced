/**
 * The crypto backends isomorphic tests run against: WebCrypto everywhere, and in
 * Node also the OpenSSL fast path. The browser bundle swaps this file for
 * backends.browser.ts (WebCrypto only).
 */
import { NODE_CRYPTO } from '../../src/client/platform.js';
import { WEB_CRYPTO, type CryptoBackend } from '../../src/core/platform.js';

export const BACKENDS: readonly { readonly name: string; readonly crypto: CryptoBackend }[] = [
  { name: 'WebCrypto', crypto: WEB_CRYPTO },
  { name: 'Node OpenSSL', crypto: NODE_CRYPTO },
];
