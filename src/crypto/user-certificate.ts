/**
 * A user certificate's TBSCertificate assembled as DER from its parts: the issuer's
 * name and key identifier as the CA's certificate has them, the constant extensions
 * as @peculiar/asn1-x509 serialises them (once), and the per-user parts (serial,
 * validity, CN, keys) written with the TLV writer. Serialising the whole structure
 * through asn1js cost ~0.5 ms of each registration, more than the signature; the
 * bytes are the same (test/crypto/user-certificate.test.ts holds the two to that on
 * random users, keys, serials and dates).
 */
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import { checkBytes, concatBytes, utf8 } from '../protocol/bytes.js';
import { ECDSA_SHA256_ALGORITHM, X25519_KEY_EXTENSION_OID } from './certificate-profile.js';
import { derTlv, ED25519_SPKI_PREFIX, X25519_SPKI_PREFIX } from './der.js';

/** What every certificate takes from its CA, in DER. */
export interface IssuerDer {
  /** The CA's subject Name, exactly as its certificate has it. */
  readonly name: Uint8Array;
  /** The authority key identifier extension. */
  readonly authorityKeyId: Uint8Array;
}

export interface UserSubject {
  readonly username: string;
  /** Raw Ed25519 public key. */
  readonly signingKey: Uint8Array;
  /** Raw X25519 public key. */
  readonly encryptionKey: Uint8Array;
}

/** [0] EXPLICIT Version v3. */
const VERSION_V3 = Uint8Array.of(0xa0, 0x03, 0x02, 0x01, 0x02);
/** id-at-commonName. */
const COMMON_NAME_OID = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03);

/** An extension; `value` is the extension's own ASN.1 structure, or its DER. */
export function extension(extnID: string, critical: boolean, value: object): asn1X509.Extension {
  const der = value instanceof Uint8Array ? value : AsnConvert.serialize(value);
  return new asn1X509.Extension({ extnID, critical, extnValue: new OctetString(der) });
}

/**
 * The X25519 key extension: the key as an X25519 SubjectPublicKeyInfo. (Set from the
 * decimal OID string, asn1js encodes the 2.25 UUID arc correctly; it only prints it
 * lossily, which is why verifiers match its bytes.)
 */
export function x25519Extension(encryptionKey: Uint8Array): asn1X509.Extension {
  return extension(X25519_KEY_EXTENSION_OID, false, concatBytes(X25519_SPKI_PREFIX, encryptionKey));
}

const serialise = (ext: asn1X509.Extension): Uint8Array =>
  new Uint8Array(AsnConvert.serialize(ext));

interface Constants {
  readonly basicConstraints: Uint8Array;
  readonly keyUsage: Uint8Array;
  /** The X25519 key extension for an all-zero key: the key is its last 32 bytes. */
  readonly x25519Template: Uint8Array;
}

let constants: Constants | undefined;

/** The extensions every user certificate has, as the library encodes them (once). */
function userConstants(): Constants {
  constants ??= {
    basicConstraints: serialise(
      extension(
        asn1X509.id_ce_basicConstraints,
        true,
        new asn1X509.BasicConstraints({ cA: false }),
      ),
    ),
    keyUsage: serialise(
      extension(
        asn1X509.id_ce_keyUsage,
        true,
        new asn1X509.KeyUsage(asn1X509.KeyUsageFlags.digitalSignature),
      ),
    ),
    x25519Template: serialise(x25519Extension(new Uint8Array(32))),
  };
  return constants;
}

const pad = (value: number, width = 2): string => String(value).padStart(width, '0');

/** RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050; whole seconds, Z. */
export function derTime(date: Date): Uint8Array {
  const year = date.getUTCFullYear();
  const rest =
    pad(date.getUTCMonth() + 1) +
    pad(date.getUTCDate()) +
    pad(date.getUTCHours()) +
    pad(date.getUTCMinutes()) +
    pad(date.getUTCSeconds()) +
    'Z';
  return year > 2049
    ? derTlv(0x18, utf8(pad(year, 4) + rest))
    : derTlv(0x17, utf8(pad(year % 100) + rest));
}

/** The TBSCertificate of `user`'s certificate, DER. `serial`: a positive, minimal INTEGER's bytes. */
export function userTbs(
  issuer: IssuerDer,
  user: UserSubject,
  serial: Uint8Array,
  notBefore: Date,
  notAfter: Date,
): Uint8Array {
  checkBytes('signingKey', user.signingKey, 32);
  checkBytes('encryptionKey', user.encryptionKey, 32);
  const { basicConstraints, keyUsage, x25519Template } = userConstants();
  const x25519 = x25519Template.slice();
  x25519.set(user.encryptionKey, x25519.length - 32);
  const subject = derTlv(
    0x30,
    derTlv(0x31, derTlv(0x30, COMMON_NAME_OID, derTlv(0x0c, utf8(user.username)))),
  );
  return derTlv(
    0x30,
    VERSION_V3,
    derTlv(0x02, serial),
    ECDSA_SHA256_ALGORITHM,
    issuer.name,
    derTlv(0x30, derTime(notBefore), derTime(notAfter)),
    subject,
    ED25519_SPKI_PREFIX,
    user.signingKey,
    derTlv(0xa3, derTlv(0x30, basicConstraints, keyUsage, issuer.authorityKeyId, x25519)),
  );
}
