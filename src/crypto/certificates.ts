/**
 * The server's certificate authority (ECDSA P-256) and the certificates it issues:
 * users (CN = username, Ed25519 subject key, X25519 key in an extension) and the
 * server itself (TLS key, plus its X25519 key for public images). Verification is
 * ours, not a library's default: chain to the pinned CA, validity, serial, key
 * usage, basic constraints, name and key types are all checked.
 */
import { checkBytes, concatBytes, equalBytes, fromHex, toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { isCanonicalUsername } from '../protocol/names.js';
import { ecdsaDerToRaw, ED25519_SPKI_PREFIX, splitSignedDer, X25519_SPKI_PREFIX } from './der.js';
import { buf, randomBytes, subtle } from './webcrypto.js';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { RecentKeys } from './recent-keys.js';
import { x509 } from './x509.js';

/** OID for the X25519 key extension: 2.25 arc from UUID 6f1d3c2a-8b47-4e0e-9c35-2d7a5b9e41f0. */
export const X25519_KEY_EXTENSION_OID = '2.25.147696104456286835305333220784226583024';
const ED25519_OID = '1.3.101.112';
const ECDSA_SHA256 = { name: 'ECDSA', hash: 'SHA-256' } as const;
const P256 = { name: 'ECDSA', namedCurve: 'P-256' } as const;
/** Tolerance for clocks that disagree a little. */
const CLOCK_SKEW_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export const USER_CERT_DAYS = 825;
export const CA_CERT_DAYS = 3650;

export interface CertificateAuthority {
  readonly certificate: Uint8Array;
  readonly privateKey: CryptoKey;
}

export interface VerifiedUser {
  readonly username: string;
  readonly signingKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
  readonly serial: string;
  readonly notAfter: Date;
}

function serialNumber(): Uint8Array {
  // 16 random bytes, the first in 0x01..0x7f: positive, non-zero and minimally encoded.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}

function validity(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

/**
 * DER of the extension's OID. asn1js prints arcs above 2^53 as '{hex}', so the
 * parsed string form of this 2.25 UUID OID is lossy: certificates are read by
 * matching these bytes instead.
 */
const X25519_OID_DER = fromHex('06146981de9d9e8ad1b4bab89d9c9acbafa5dcf98370');

/** The X25519 key extension: the key as an X25519 SubjectPublicKeyInfo. */
function x25519Extension(encryptionKey: Uint8Array): asn1X509.Extension {
  return new asn1X509.Extension({
    extnID: X25519_KEY_EXTENSION_OID,
    critical: false,
    extnValue: new OctetString(concatBytes(X25519_SPKI_PREFIX, encryptionKey)),
  });
}

function extension(
  extnID: string,
  critical: boolean,
  value: asn1X509.BasicConstraints | asn1X509.KeyUsage,
): asn1X509.Extension {
  return new asn1X509.Extension({
    extnID,
    critical,
    extnValue: new OctetString(AsnConvert.serialize(value)),
  });
}

export async function generateCaKeyPair(): Promise<CryptoKeyPair> {
  return subtle().generateKey(P256, true, ['sign', 'verify']);
}

export async function createCertificateAuthority(
  options: { name?: string; days?: number; now?: Date; keys?: CryptoKeyPair } = {},
): Promise<CertificateAuthority> {
  const keys = options.keys ?? (await generateCaKeyPair());
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: toHex(serialNumber()),
    name: `CN=${options.name ?? 'sisp CA'}`,
    ...validity(options.days ?? CA_CERT_DAYS, options.now ?? new Date()),
    keys,
    signingAlgorithm: ECDSA_SHA256,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificate: new Uint8Array(certificate.rawData), privateKey: keys.privateKey };
}

/** What an issued end-entity certificate says. Exported for tests that need odd ones. */
export interface CertificateProfile {
  readonly subject: string;
  /** The subject's key, or its SubjectPublicKeyInfo in DER. */
  readonly publicKey: CryptoKey | Uint8Array;
  readonly keyUsage: x509.KeyUsageFlags;
  readonly isCa?: boolean;
  /** X25519 key carried in the 2.25 extension; omitted only by negative tests. */
  readonly encryptionKey?: Uint8Array;
  readonly extraExtensions?: readonly x509.Extension[];
  readonly days?: number;
  readonly now?: Date;
}

/** What every certificate a CA issues takes from it, parsed once per CA. */
interface Issuer {
  readonly name: asn1X509.Name;
  readonly keyId: asn1X509.Extension;
}

/** ecdsa-with-SHA256 AlgorithmIdentifier, parameters absent (RFC 5758). */
const ECDSA_SHA256_ALGORITHM = Uint8Array.of(
  0x30,
  0x0a,
  0x06,
  0x08,
  0x2a,
  0x86,
  0x48,
  0xce,
  0x3d,
  0x04,
  0x03,
  0x02,
);
/** The same, as issuing builds certificates: what the CA signs with, and what verifiers require. */
const ECDSA_SHA256_IDENTIFIER = AsnConvert.parse(
  ECDSA_SHA256_ALGORITHM,
  asn1X509.AlgorithmIdentifier,
);

const issuers = new WeakMap<CertificateAuthority, Promise<Issuer>>();

function issuerOf(ca: CertificateAuthority): Promise<Issuer> {
  let issuer = issuers.get(ca);
  if (issuer === undefined) {
    // The CA's own subject, exactly as its certificate has it.
    const parsed = AsnConvert.parse(ca.certificate, asn1X509.Certificate);
    const caCert = new x509.X509Certificate(buf(ca.certificate));
    issuer = x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey).then((keyId) => ({
      name: parsed.tbsCertificate.subject,
      keyId: AsnConvert.parse(keyId.rawData, asn1X509.Extension),
    }));
    issuers.set(ca, issuer);
  }
  return issuer;
}

async function subjectKeyInfo(key: CryptoKey | Uint8Array): Promise<asn1X509.SubjectPublicKeyInfo> {
  const spki = key instanceof Uint8Array ? key : await subtle().exportKey('spki', key);
  return AsnConvert.parse(spki, asn1X509.SubjectPublicKeyInfo);
}

/**
 * Builds the certificate with @peculiar/asn1-x509 and signs it once. (The library's
 * generator cannot carry the X25519 extension: asn1js prints arcs above 2^53 as
 * '{hex}' and the generator round-trips extensions through that string, truncating
 * the 2.25 UUID OID; set from the decimal string here, asn1js encodes it correctly.)
 */
export async function issueCertificate(
  ca: CertificateAuthority,
  profile: CertificateProfile,
): Promise<Uint8Array> {
  const [issuer, spki] = await Promise.all([issuerOf(ca), subjectKeyInfo(profile.publicKey)]);
  const extensions = [
    extension(
      asn1X509.id_ce_basicConstraints,
      true,
      new asn1X509.BasicConstraints({ cA: profile.isCa ?? false }),
    ),
    extension(asn1X509.id_ce_keyUsage, true, new asn1X509.KeyUsage(profile.keyUsage)),
    issuer.keyId,
    ...(profile.extraExtensions ?? []).map((extra) =>
      AsnConvert.parse(extra.rawData, asn1X509.Extension),
    ),
  ];
  if (profile.encryptionKey !== undefined) extensions.push(x25519Extension(profile.encryptionKey));
  const tbs = new asn1X509.TBSCertificate({
    version: asn1X509.Version.v3,
    serialNumber: serialNumber().slice().buffer,
    signature: ECDSA_SHA256_IDENTIFIER,
    issuer: issuer.name,
    validity: new asn1X509.Validity(
      validity(profile.days ?? USER_CERT_DAYS, profile.now ?? new Date()),
    ),
    subject: AsnConvert.parse(new x509.Name(profile.subject).toArrayBuffer(), asn1X509.Name),
    subjectPublicKeyInfo: spki,
    extensions: new asn1X509.Extensions(extensions),
  });
  const raw = await subtle().sign(ECDSA_SHA256, ca.privateKey, AsnConvert.serialize(tbs));
  const signatureValue = new x509.AsnEcSignatureFormatter().toAsnSignature(ECDSA_SHA256, raw);
  if (signatureValue === null) throw new Error('cannot encode the CA signature');
  const certificate = new asn1X509.Certificate({
    tbsCertificate: tbs,
    signatureAlgorithm: ECDSA_SHA256_IDENTIFIER,
    signatureValue,
  });
  return new Uint8Array(AsnConvert.serialize(certificate));
}

export async function issueUserCertificate(
  ca: CertificateAuthority,
  /** `signingKey`: the Ed25519 key, or its 32 raw bytes. */
  subject: { username: string; signingKey: CryptoKey | Uint8Array; encryptionKey: Uint8Array },
  options: { days?: number; now?: Date } = {},
): Promise<Uint8Array> {
  if (!isCanonicalUsername(subject.username)) throw sispError('E_INVALID_NAME');
  const { signingKey } = subject;
  if (signingKey instanceof Uint8Array) checkBytes('signingKey', signingKey, 32);
  return issueCertificate(ca, {
    subject: `CN=${subject.username}`,
    publicKey:
      signingKey instanceof Uint8Array ? concatBytes(ED25519_SPKI_PREFIX, signingKey) : signingKey,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    encryptionKey: subject.encryptionKey,
    ...options,
  });
}

/** The server's TLS certificate, which also certifies its X25519 key. */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  subject: {
    tlsPublicKey: CryptoKey;
    encryptionKey: Uint8Array;
    hostnames: string[];
    ips: string[];
  },
  options: { days?: number; now?: Date } = {},
): Promise<Uint8Array> {
  const names = [
    ...subject.hostnames.map((value) => ({ type: 'dns' as const, value })),
    ...subject.ips.map((value) => ({ type: 'ip' as const, value })),
  ];
  return issueCertificate(ca, {
    subject: 'CN=sisp server',
    publicKey: subject.tlsPublicKey,
    keyUsage: x509.KeyUsageFlags.digitalSignature,
    encryptionKey: subject.encryptionKey,
    extraExtensions: [
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth], false),
      new x509.SubjectAlternativeNameExtension(names, false),
    ],
    ...options,
  });
}

function parse(der: Uint8Array): x509.X509Certificate {
  try {
    return new x509.X509Certificate(buf(der));
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'the certificate cannot be parsed', { cause });
  }
}

function invalid(why: string): never {
  throw sispError('E_CERTIFICATE', `certificate rejected: ${why}`);
}

/** Checks signature, issuer, validity, serial and basic constraints against the CA. */
async function verifyIssuedBy(
  der: Uint8Array,
  cert: x509.X509Certificate,
  caDer: Uint8Array,
  now: Date,
): Promise<void> {
  if (cert.issuer !== (await knownCas.get(caDer)).subject) invalid('issued by another authority');
  const alg = cert.signatureAlgorithm as { name?: string; hash?: { name?: string } };
  if (alg.name !== 'ECDSA' || alg.hash?.name !== 'SHA-256')
    invalid('unexpected signature algorithm');
  if (!(await verifyCaSignature(der, caDer))) invalid('signature does not verify against the CA');
  const time = now.getTime();
  if (time < cert.notBefore.getTime() - CLOCK_SKEW_MS) invalid('not yet valid');
  if (time > cert.notAfter.getTime()) invalid('expired');
  // RFC 5280 4.1.2.2: positive, at most 20 octets.
  if (!/^[0-9a-f]{1,42}$/.test(cert.serialNumber) || /^0+$/.test(cert.serialNumber))
    invalid('bad serial number');
  const constraints = cert.getExtension(x509.BasicConstraintsExtension);
  if (constraints?.ca !== false) invalid('must not be a CA certificate');
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
  const spki = new Uint8Array(parsed.publicKey.rawData);
  const key = await subtle().importKey('spki', buf(spki), P256, false, ['verify']);
  return { subject: parsed.subject, key };
}, 16);

function requireKeyUsage(cert: x509.X509Certificate, flags: x509.KeyUsageFlags): void {
  const usage = cert.getExtension(x509.KeyUsagesExtension);
  if (usage === null || !usage.critical) invalid('missing key usage');
  if (usage.usages !== flags) invalid('wrong key usage');
}

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
  requireKeyUsage(cert, x509.KeyUsageFlags.digitalSignature);
  const names = cert.subjectName.getField('CN');
  const username = names[0];
  if (names.length !== 1 || username === undefined || !isCanonicalUsername(username))
    invalid('bad subject name');
  if (cert.subject !== `CN=${username}`) invalid('unexpected subject fields');
  if (options.username !== undefined && options.username !== username)
    invalid('issued to another user');
  const spki = new Uint8Array(cert.publicKey.rawData);
  if (
    cert.publicKey.algorithm.name !== 'Ed25519' ||
    spki.length !== 44 ||
    !equalBytes(spki.subarray(0, 12), ED25519_SPKI_PREFIX)
  ) {
    invalid(`subject key is not Ed25519 (${ED25519_OID})`);
  }
  return {
    username,
    signingKey: spki.slice(12),
    encryptionKey: x25519FromExtension(der),
    serial: cert.serialNumber,
    notAfter: cert.notAfter,
  };
}

export async function verifyServerCertificate(
  der: Uint8Array,
  caCertificate: Uint8Array,
  options: { now?: Date } = {},
): Promise<{ encryptionKey: Uint8Array }> {
  const key = cacheKey(der, caCertificate);
  const hit = verifiedServers.get(key, options.now);
  if (hit !== undefined) return { encryptionKey: hit.encryptionKey };
  const cert = parse(der);
  await verifyIssuedBy(der, cert, caCertificate, options.now ?? new Date());
  requireKeyUsage(cert, x509.KeyUsageFlags.digitalSignature);
  const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
  if (eku?.usages.includes(x509.ExtendedKeyUsage.serverAuth) !== true)
    invalid('not a server certificate');
  const encryptionKey = x25519FromExtension(der);
  if (options.now === undefined)
    verifiedServers.set(key, { encryptionKey, notAfter: cert.notAfter });
  return { encryptionKey: encryptionKey.slice() };
}

/** Checks that a CA certificate is self-signed, a CA, and currently valid. */
export async function verifyCaCertificate(der: Uint8Array, now = new Date()): Promise<void> {
  const cert = parse(der);
  const ok = await verifyCaSignature(der, der);
  if (!ok || cert.issuer !== cert.subject) invalid('CA certificate is not self-signed');
  if (cert.getExtension(x509.BasicConstraintsExtension)?.ca !== true)
    invalid('not a CA certificate');
  if (now.getTime() > cert.notAfter.getTime()) invalid('CA certificate expired');
}

export function toPem(der: Uint8Array, label = 'CERTIFICATE'): string {
  let binary = '';
  for (const byte of der) binary += String.fromCharCode(byte);
  const base64 = btoa(binary)
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${base64}\n-----END ${label}-----\n`;
}

export function fromPem(pem: string, label = 'CERTIFICATE'): Uint8Array {
  const match = new RegExp(
    `-----BEGIN ${label}-----([A-Za-z0-9+/=\\s]+)-----END ${label}-----`,
  ).exec(pem);
  if (match?.[1] === undefined) throw sispError('E_CERTIFICATE', 'not a PEM certificate');
  const binary = atob(match[1].replace(/\s+/g, ''));
  return Uint8Array.from(binary, (char) => char.charCodeAt(0));
}
