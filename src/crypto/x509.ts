/**
 * The one place that loads @peculiar/x509. Its v2 uses decorators that need
 * reflect-metadata loaded first, and it needs a WebCrypto provider.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
