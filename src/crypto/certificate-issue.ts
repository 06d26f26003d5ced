/**
 * Issuing: the CA's self-signed certificate and the end-entity certificates it signs
 * (users, and the server's TLS certificate), built as ASN.1 structures with
 * @peculiar/asn1-x509 (a user's as DER from parts, user-certificate.ts) and signed
 * once with ECDSA P-256 (WebCrypto, or the CA's own faster signer).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { sispError } from '../protocol/errors.js';
import { isCanonicalUsername } from '../protocol/names.js';
import { derTlv, ecdsaRawToDer } from './der.js';
import { extension, userTbs, x25519Extension, type IssuerDer } from './user-certificate.js';
import { buf, randomBytes, subtle } from './webcrypto.js';
import {
  CA_CERT_DAYS,
  CLOCK_SKEW_MS,
  ECDSA_SHA256,
  ECDSA_SHA256_ALGORITHM,
  P256,
  USER_CERT_DAYS,
  type CertificateAuthority,
} from './certificate-profile.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** One attribute of a subject name, in order; CN for everything sisp issues. */
export interface NameField {
  readonly type: 'CN' | 'O';
  readonly value: string;
}

/** What an issued end-entity certificate says. Exported for tests that need odd ones. */
export interface CertificateProfile {
  readonly subject: readonly NameField[];
  /** The subject's key, or its SubjectPublicKeyInfo in DER. */
  readonly publicKey: CryptoKey | Uint8Array;
  readonly keyUsage: asn1X509.KeyUsageFlags;
  readonly isCa?: boolean;
  /** X25519 key carried in the 2.25 extension; omitted only by negative tests. */
  readonly encryptionKey?: Uint8Array;
  readonly extraExtensions?: readonly asn1X509.Extension[];
  readonly days?: number;
  readonly now?: Date;
  /** The serial number's bytes (positive, minimal); random by default. */
  readonly serial?: Uint8Array;
}

const ATTRIBUTE_OIDS: Record<NameField['type'], string> = { CN: '2.5.4.3', O: '2.5.4.10' };

/** A distinguished name, one attribute per RDN, every value a UTF8String (RFC 5280 4.1.2.6). */
function distinguishedName(fields: readonly NameField[]): asn1X509.Name {
  return new asn1X509.Name(
    fields.map(
      ({ type, value }) =>
        new asn1X509.RelativeDistinguishedName([
          new asn1X509.AttributeTypeAndValue({
            type: ATTRIBUTE_OIDS[type],
            value: new asn1X509.AttributeValue({ utf8String: value }),
          }),
        ]),
    ),
  );
}

function serialNumber(): Uint8Array {
  // 16 random bytes, the first in 0x01..0x7f: positive, non-zero and minimally encoded.
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] ?? 0) & 0x7f) | 0x01;
  return bytes;
}

function validityDates(days: number, now: Date): { notBefore: Date; notAfter: Date } {
  return {
    notBefore: new Date(now.getTime() - CLOCK_SKEW_MS),
    notAfter: new Date(now.getTime() + days * DAY_MS),
  };
}

function validity(days: number, now: Date): asn1X509.Validity {
  return new asn1X509.Validity(validityDates(days, now));
}

/** RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's bits. */
async function keyIdentifier(spki: asn1X509.SubjectPublicKeyInfo): Promise<Uint8Array> {
  return new Uint8Array(await subtle().digest('SHA-1', spki.subjectPublicKey));
}

async function subjectKeyInfo(key: CryptoKey | Uint8Array): Promise<asn1X509.SubjectPublicKeyInfo> {
  const spki = key instanceof Uint8Array ? key : await subtle().exportKey('spki', key);
  return AsnConvert.parse(spki, asn1X509.SubjectPublicKeyInfo);
}

/** The AlgorithmIdentifier the verifiers require, as the TBS names it. */
const ECDSA_SHA256_IDENTIFIER = AsnConvert.parse(
  ECDSA_SHA256_ALGORITHM,
  asn1X509.AlgorithmIdentifier,
);

/**
 * Serialises the TBSCertificate once, signs those bytes and wraps them: Certificate
 * ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue BIT STRING }.
 * (Handing asn1-x509 a Certificate to serialise would encode the TBS a second time,
 * a third of the cost of issuing.)
 */
async function signCertificate(
  tbs: asn1X509.TBSCertificate | Uint8Array,
  ca: Pick<CertificateAuthority, 'privateKey' | 'sign'>,
): Promise<Uint8Array> {
  const signed = tbs instanceof Uint8Array ? tbs : new Uint8Array(AsnConvert.serialize(tbs));
  const raw =
    ca.sign === undefined
      ? new Uint8Array(await subtle().sign(ECDSA_SHA256, ca.privateKey, buf(signed)))
      : await ca.sign(signed);
  const signature = derTlv(0x03, Uint8Array.of(0), ecdsaRawToDer(raw)); // no unused bits
  return derTlv(0x30, signed, ECDSA_SHA256_ALGORITHM, signature);
}

/** An extractable ECDSA P-256 key pair: the CA's, or a TLS key for the server. */
export async function generateP256KeyPair(): Promise<CryptoKeyPair> {
  return subtle().generateKey(P256, true, ['sign', 'verify']);
}

export async function createCertificateAuthority(
  options: { name?: string; days?: number; now?: Date; keys?: CryptoKeyPair } = {},
): Promise<CertificateAuthority> {
  const keys = options.keys ?? (await generateP256KeyPair());
  const spki = await subjectKeyInfo(keys.publicKey);
  const name = distinguishedName([{ type: 'CN', value: options.name ?? 'sisp CA' }]);
  const usage = asn1X509.KeyUsageFlags.keyCertSign | asn1X509.KeyUsageFlags.cRLSign;
  const tbs = new asn1X509.TBSCertificate({
    version: asn1X509.Version.v3,
    serialNumber: serialNumber().slice().buffer,
    signature: ECDSA_SHA256_IDENTIFIER,
    issuer: name,
    validity: validity(options.days ?? CA_CERT_DAYS, options.now ?? new Date()),
    subject: name,
    subjectPublicKeyInfo: spki,
    extensions: new asn1X509.Extensions([
      extension(
        asn1X509.id_ce_basicConstraints,
        true,
        new asn1X509.BasicConstraints({ cA: true, pathLenConstraint: 0 }),
      ),
      extension(asn1X509.id_ce_keyUsage, true, new asn1X509.KeyUsage(usage)),
      extension(
        asn1X509.id_ce_subjectKeyIdentifier,
        false,
        new asn1X509.SubjectKeyIdentifier(await keyIdentifier(spki)),
      ),
    ]),
  });
  return { certificate: await signCertificate(tbs, keys), privateKey: keys.privateKey };
}

/** What every certificate a CA issues takes from it, read once per CA. */
interface Issuer {
  readonly name: asn1X509.Name;
  readonly keyId: asn1X509.Extension;
  readonly der: IssuerDer;
}

const issuers = new WeakMap<CertificateAuthority, Promise<Issuer>>();

/** The CA's subject exactly as its certificate has it, and its key identifier. */
async function readIssuer(ca: CertificateAuthority): Promise<Issuer> {
  const { tbsCertificate } = AsnConvert.parse(ca.certificate, asn1X509.Certificate);
  const own = tbsCertificate.extensions?.find(
    (ext) => ext.extnID === asn1X509.id_ce_subjectKeyIdentifier,
  );
  // RFC 5280 4.2.1.1: the authority key identifier is the issuer's subject key identifier.
  const keyId =
    own === undefined
      ? await keyIdentifier(tbsCertificate.subjectPublicKeyInfo)
      : new Uint8Array(
          AsnConvert.parse(own.extnValue.buffer, asn1X509.SubjectKeyIdentifier).buffer,
        );
  const authorityKeyId = extension(
    asn1X509.id_ce_authorityKeyIdentifier,
    false,
    new asn1X509.AuthorityKeyIdentifier({ keyIdentifier: new asn1X509.KeyIdentifier(keyId) }),
  );
  return {
    name: tbsCertificate.subject,
    keyId: authorityKeyId,
    der: {
      name: new Uint8Array(AsnConvert.serialize(tbsCertificate.subject)),
      authorityKeyId: new Uint8Array(AsnConvert.serialize(authorityKeyId)),
    },
  };
}

function issuerOf(ca: CertificateAuthority): Promise<Issuer> {
  let issuer = issuers.get(ca);
  if (issuer === undefined) {
    issuer = readIssuer(ca);
    issuers.set(ca, issuer);
  }
  return issuer;
}

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
    ...(profile.extraExtensions ?? []),
  ];
  if (profile.encryptionKey !== undefined) extensions.push(x25519Extension(profile.encryptionKey));
  const tbs = new asn1X509.TBSCertificate({
    version: asn1X509.Version.v3,
    serialNumber: (profile.serial ?? serialNumber()).slice().buffer,
    signature: ECDSA_SHA256_IDENTIFIER,
    issuer: issuer.name,
    validity: validity(profile.days ?? USER_CERT_DAYS, profile.now ?? new Date()),
    subject: distinguishedName(profile.subject),
    subjectPublicKeyInfo: spki,
    extensions: new asn1X509.Extensions(extensions),
  });
  return signCertificate(tbs, ca);
}

export async function issueUserCertificate(
  ca: CertificateAuthority,
  /** `signingKey`: the Ed25519 key, or its 32 raw bytes. */
  subject: { username: string; signingKey: CryptoKey | Uint8Array; encryptionKey: Uint8Array },
  options: { days?: number; now?: Date; serial?: Uint8Array } = {},
): Promise<Uint8Array> {
  const { username, encryptionKey } = subject;
  if (!isCanonicalUsername(username)) throw sispError('E_INVALID_NAME');
  const signingKey =
    subject.signingKey instanceof Uint8Array
      ? subject.signingKey
      : new Uint8Array(await subtle().exportKey('raw', subject.signingKey));
  const { notBefore, notAfter } = validityDates(
    options.days ?? USER_CERT_DAYS,
    options.now ?? new Date(),
  );
  const issuer = await issuerOf(ca);
  const serial = options.serial ?? serialNumber();
  const user = { username, signingKey, encryptionKey };
  return signCertificate(userTbs(issuer.der, user, serial, notBefore, notAfter), ca);
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
    ...subject.hostnames.map((dNSName) => new asn1X509.GeneralName({ dNSName })),
    ...subject.ips.map((iPAddress) => new asn1X509.GeneralName({ iPAddress })),
  ];
  return issueCertificate(ca, {
    subject: [{ type: 'CN', value: 'sisp server' }],
    publicKey: subject.tlsPublicKey,
    keyUsage: asn1X509.KeyUsageFlags.digitalSignature,
    encryptionKey: subject.encryptionKey,
    extraExtensions: [
      extension(
        asn1X509.id_ce_extKeyUsage,
        false,
        new asn1X509.ExtendedKeyUsage([asn1X509.id_kp_serverAuth]),
      ),
      extension(asn1X509.id_ce_subjectAltName, false, new asn1X509.SubjectAlternativeName(names)),
    ],
    ...options,
  });
}
