/**
 * The server's certificate authority (ECDSA P-256) and the certificates it issues:
 * users (CN = username, Ed25519 subject key, X25519 key in an extension) and the
 * server itself (TLS key, plus its X25519 key for public images). Verification is
 * ours, not a library's default: chain to the pinned CA, validity, serial, key
 * usage, basic constraints, name and key types are all checked. Parsing is
 * @peculiar/asn1-x509's; the signature is checked over the exact signed bytes.
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { concatBytes, equalBytes, toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { isCanonicalUsername } from '../protocol/names.js';
import {
  CLOCK_SKEW_MS,
  ECDSA_SHA256,
  ECDSA_SHA256_ALGORITHM,
  P256,
  X25519_OID_DER,
} from './certificate-profile.js';
import { ecdsaDerToRaw, ED25519_SPKI_PREFIX, splitSignedDer, X25519_SPKI_PREFIX } from './der.js';
import { RecentKeys } from './recent-keys.js';
import { buf, subtle } from './webcrypto.js';

export {
  CA_CERT_DAYS,
  USER_CERT_DAYS,
  X25519_KEY_EXTENSION_OID,
  type CertificateAuthority,
} from './certificate-profile.js';
export { fromPem, toPem } from './pem.js';
export {
  createCertificateAuthority,
  generateP256KeyPair,
  issueCertificate,
  issueServerCertificate,
  issueUserCertificate,
  type CertificateProfile,
  type NameField,
} from './certificate-issue.js';

export interface VerifiedUser {
  readonly username: string;
  readonly signingKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
  readonly serial: string;
  readonly notAfter: Date;
}

/** The parts of a certificate the checks read, parsed once. */
interface Parsed {
  readonly tbs: asn1X509.TBSCertificate;
  readonly issuer: Uint8Array;
  readonly subject: Uint8Array;
  readonly notBefore: Date;
  readonly notAfter: Date;
}

function parse(der: Uint8Array): Parsed {
  let tbs: asn1X509.TBSCertificate;
  try {
    tbs = AsnConvert.parse(der, asn1X509.Certificate).tbsCertificate;
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'the certificate cannot be parsed', { cause });
  }
  return {
    tbs,
    issuer: new Uint8Array(AsnConvert.serialize(tbs.issuer)),
    subject: new Uint8Array(AsnConvert.serialize(tbs.subject)),
    notBefore: tbs.validity.notBefore.getTime(),
    notAfter: tbs.validity.notAfter.getTime(),
  };
}

/** The extension with this OID, parsed as `type`; null when absent; refused when repeated. */
function getExtension<T>(
  cert: Parsed,
  oid: string,
  type: new () => T,
): { value: T; critical: boolean } | null {
  const found = cert.tbs.extensions?.filter((ext) => ext.extnID === oid) ?? [];
  if (found.length > 1) invalid('repeated extension');
  const [ext] = found;
  if (ext === undefined) return null;
  try {
    return { value: AsnConvert.parse(ext.extnValue.buffer, type), critical: ext.critical };
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'a certificate extension cannot be parsed', { cause });
  }
}

function invalid(why: string): never {
  throw sispError('E_CERTIFICATE', `certificate rejected: ${why}`);
}

/** Checks signature, issuer, validity, serial and basic constraints against the CA. */
async function verifyIssuedBy(
  der: Uint8Array,
  cert: Parsed,
  caDer: Uint8Array,
  now: Date,
): Promise<void> {
  if (!equalBytes(cert.issuer, (await knownCas.get(caDer)).subject))
    invalid('issued by another authority');
  if (!equalBytes(new Uint8Array(AsnConvert.serialize(cert.tbs.signature)), ECDSA_SHA256_ALGORITHM))
    invalid('unexpected signature algorithm');
  if (!(await verifyCaSignature(der, caDer))) invalid('signature does not verify against the CA');
  const time = now.getTime();
  if (time < cert.notBefore.getTime() - CLOCK_SKEW_MS) invalid('not yet valid');
  if (time > cert.notAfter.getTime()) invalid('expired');
  if (!goodSerial(new Uint8Array(cert.tbs.serialNumber))) invalid('bad serial number');
  const constraints = getExtension(
    cert,
    asn1X509.id_ce_basicConstraints,
    asn1X509.BasicConstraints,
  );
  if (constraints === null || constraints.value.cA) invalid('must not be a CA certificate');
}

/** RFC 5280 4.1.2.2: positive, non-zero, at most 20 octets (21 with a sign octet). */
function goodSerial(serial: Uint8Array): boolean {
  return (
    serial.length >= 1 &&
    serial.length <= 21 &&
    ((serial[0] ?? 0) & 0x80) === 0 &&
    serial.some((byte) => byte !== 0)
  );
}

/**
 * Verifies the CA's signature over the exact signed bytes, with a strict DER
 * signature decoder (the library's accepts BER variants, which Wycheproof flags).
 */
export async function verifyCaSignature(der: Uint8Array, caDer: Uint8Array): Promise<boolean> {
  try {
    const { tbs, algorithm, signature } = splitSignedDer(der);
    if (!equalBytes(algorithm, ECDSA_SHA256_ALGORITHM)) return false;
    const { key: caKey } = await knownCas.get(caDer);
    return await subtle().verify(ECDSA_SHA256, caKey, buf(ecdsaDerToRaw(signature)), buf(tbs));
  } catch {
    return false;
  }
}

/**
 * CAs this process has read, by their exact bytes: subject and imported verifying
 * key. Every certificate a client checks names the same pinned CA, and parsing it and
 * importing its key again each time cost more than the check itself (~1.5 ms in the
 * profile of 2,000 sign-ins). Public, few, bounded; one that fails is not kept.
 */
const knownCas = new RecentKeys(async (caDer) => {
  const parsed = parse(caDer);
  const spki = AsnConvert.serialize(parsed.tbs.subjectPublicKeyInfo);
  const key = await subtle().importKey('spki', spki, P256, false, ['verify']);
  return { subject: parsed.subject, key };
}, 16);

function requireKeyUsage(cert: Parsed, flags: asn1X509.KeyUsageFlags): void {
  const usage = getExtension(cert, asn1X509.id_ce_keyUsage, asn1X509.KeyUsage);
  if (usage === null || !usage.critical) invalid('missing key usage');
  if (usage.value.toNumber() !== flags.valueOf()) invalid('wrong key usage');
}

/** The subject's common name, when the subject is exactly one CN and nothing else. */
function soleCommonName(cert: Parsed): string | undefined {
  const rdn = cert.tbs.subject.length === 1 ? cert.tbs.subject[0] : undefined;
  const attribute = rdn?.length === 1 ? rdn[0] : undefined;
  if (attribute?.type !== COMMON_NAME) return undefined;
  const { utf8String, printableString } = attribute.value;
  return utf8String ?? printableString;
}

const COMMON_NAME = '2.5.4.3';

/**
 * Finds the X25519 key in the certificate's DER. Matched on the encoded OID, since
 * the parsed string form of a 2.25 UUID arc is lossy (see X25519_OID_DER). Only
 * called after the CA signature verified, so the bytes are the CA's own.
 */
function x25519FromExtension(der: Uint8Array): Uint8Array {
  const expected = concatBytes(X25519_OID_DER, Uint8Array.of(0x04, 44), X25519_SPKI_PREFIX);
  let found = -1;
  for (let at = der.indexOf(0x06); at >= 0; at = der.indexOf(0x06, at + 1)) {
    if (equalBytes(der.subarray(at, at + X25519_OID_DER.length), X25519_OID_DER)) {
      if (found >= 0) invalid('duplicate X25519 key');
      found = at;
    }
  }
  if (found < 0) invalid('missing X25519 key');
  const start = found + expected.length;
  if (!equalBytes(der.subarray(found, start), expected) || start + 32 > der.length)
    invalid('malformed X25519 key');
  return der.slice(start, start + 32);
}

/**
 * Certificates this process has verified, by CA and exact bytes: a gallery verifies
 * the same owner's certificate for every image, a reconnecting client its own and the
 * server's. Only the expiry is time-dependent, so a hit re-checks it. Bounded.
 */
class VerifiedCache<V extends { readonly notAfter: Date }> {
  readonly #entries = new Map<string, V>();

  get(key: string, now: Date | undefined): V | undefined {
    if (now !== undefined) return undefined; // a caller asking about another time checks afresh
    const hit = this.#entries.get(key);
    if (hit !== undefined && Date.now() > hit.notAfter.getTime()) {
      this.#entries.delete(key);
      return undefined;
    }
    return hit;
  }

  set(key: string, value: V): void {
    if (this.#entries.size >= 1024) {
      const oldest = this.#entries.keys().next();
      if (oldest.done !== true) this.#entries.delete(oldest.value);
    }
    this.#entries.set(key, value);
  }
}

const verifiedUsers = new VerifiedCache<VerifiedUser>();
const verifiedServers = new VerifiedCache<{ encryptionKey: Uint8Array; notAfter: Date }>();

function cacheKey(der: Uint8Array, caDer: Uint8Array): string {
  return `${toHex(caDer)}:${toHex(der)}`;
}

export async function verifyUserCertificate(
  der: Uint8Array,
  caCertificate: Uint8Array,
  options: { username?: string; now?: Date } = {},
): Promise<VerifiedUser> {
  const key = cacheKey(der, caCertificate);
  const hit = verifiedUsers.get(key, options.now);
  if (hit !== undefined) {
    if (options.username !== undefined && options.username !== hit.username)
      invalid('issued to another user');
    return { ...hit, signingKey: hit.signingKey.slice(), encryptionKey: hit.encryptionKey.slice() };
  }
  const verified = await verifyUserCertificateAfresh(der, caCertificate, options);
  if (options.now === undefined) verifiedUsers.set(key, verified);
  return verified;
}

async function verifyUserCertificateAfresh(
  der: Uint8Array,
  caCertificate: Uint8Array,
  options: { username?: string; now?: Date },
): Promise<VerifiedUser> {
  const cert = parse(der);
  await verifyIssuedBy(der, cert, caCertificate, options.now ?? new Date());
  requireKeyUsage(cert, asn1X509.KeyUsageFlags.digitalSignature);
  const username = soleCommonName(cert);
  if (username === undefined || !isCanonicalUsername(username)) invalid('bad subject name');
  if (options.username !== undefined && options.username !== username)
    invalid('issued to another user');
  const spki = new Uint8Array(AsnConvert.serialize(cert.tbs.subjectPublicKeyInfo));
  if (spki.length !== 44 || !equalBytes(spki.subarray(0, 12), ED25519_SPKI_PREFIX))
    invalid('subject key is not Ed25519 (1.3.101.112)');
  return {
    username,
    signingKey: spki.slice(12),
    encryptionKey: x25519FromExtension(der),
    serial: toHex(new Uint8Array(cert.tbs.serialNumber)),
    notAfter: cert.notAfter,
  };
}

export async function verifyServerCertificate(
  der: Uint8Array,
  caCertificate: Uint8Array,
  options: { now?: Date } = {},
): Promise<{ encryptionKey: Uint8Array; notAfter: Date }> {
  const key = cacheKey(der, caCertificate);
  const hit = verifiedServers.get(key, options.now);
  if (hit !== undefined)
    return { encryptionKey: hit.encryptionKey.slice(), notAfter: hit.notAfter };
  const cert = parse(der);
  await verifyIssuedBy(der, cert, caCertificate, options.now ?? new Date());
  requireKeyUsage(cert, asn1X509.KeyUsageFlags.digitalSignature);
  const eku = getExtension(cert, asn1X509.id_ce_extKeyUsage, asn1X509.ExtendedKeyUsage);
  if (eku?.value.includes(asn1X509.id_kp_serverAuth) !== true) invalid('not a server certificate');
  const encryptionKey = x25519FromExtension(der);
  if (options.now === undefined)
    verifiedServers.set(key, { encryptionKey, notAfter: cert.notAfter });
  return { encryptionKey: encryptionKey.slice(), notAfter: cert.notAfter };
}

/** Checks that a CA certificate is self-signed, a CA, and currently valid. */
export async function verifyCaCertificate(der: Uint8Array, now = new Date()): Promise<void> {
  const cert = parse(der);
  const ok = await verifyCaSignature(der, der);
  if (!ok || !equalBytes(cert.issuer, cert.subject)) invalid('CA certificate is not self-signed');
  const constraints = getExtension(
    cert,
    asn1X509.id_ce_basicConstraints,
    asn1X509.BasicConstraints,
  );
  if (constraints?.value.cA !== true) invalid('not a CA certificate');
  if (now.getTime() > cert.notAfter.getTime()) invalid('CA certificate expired');
}
