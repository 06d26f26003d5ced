/**
 * @peculiar/x509, for tests only: an independent reading of the certificates sisp
 * builds with @peculiar/asn1-x509. Its v2 uses decorators that need reflect-metadata
 * loaded first, and it needs a WebCrypto provider.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(globalThis.crypto);

export { x509 };
