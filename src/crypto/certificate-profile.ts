/**
 * What issuing and verifying agree on: the algorithms, lifetimes and the OID of the
 * X25519 key extension in the certificates sisp's CA issues.
 */
import { fromHex } from '../protocol/bytes.js';

/** OID for the X25519 key extension: 2.25 arc from UUID 6f1d3c2a-8b47-4e0e-9c35-2d7a5b9e41f0. */
export const X25519_KEY_EXTENSION_OID = '2.25.147696104456286835305333220784226583024';

/**
 * DER of that OID. asn1js prints arcs above 2^53 as '{hex}', so the parsed string
 * form of this 2.25 UUID OID is lossy: certificates are read by matching these bytes.
 */
export const X25519_OID_DER = fromHex('06146981de9d9e8ad1b4bab89d9c9acbafa5dcf98370');

/** ecdsa-with-SHA256 AlgorithmIdentifier, parameters absent (RFC 5758): what the CA signs with, and what verifiers require. */
export const ECDSA_SHA256_ALGORITHM = fromHex('300a06082a8648ce3d040302');

export const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
export const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** Tolerance for clocks that disagree a little. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;
export const USER_CERT_DAYS = 825;
export const CA_CERT_DAYS = 3650;

export interface CertificateAuthority {
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
  /**
   * Signs with `privateKey` (ECDSA P-256, SHA-256), the signature as r || s: a
   * platform's faster path (the server's is Node's OpenSSL, without WebCrypto's job
   * per call). WebCrypto when absent.
   */
  readonly sign?: (data: Uint8Array) => Uint8Array | Promise<Uint8Array>;
}
