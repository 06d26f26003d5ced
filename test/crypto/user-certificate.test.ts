import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  createCertificateAuthority,
  issueCertificate,
  issueUserCertificate,
  verifyUserCertificate,
  type CertificateAuthority,
} from '../../src/crypto/certificates.js';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { ED25519_SPKI_PREFIX, splitSignedDer } from '../../src/crypto/der.js';
import { derTime } from '../../src/crypto/user-certificate.js';
import { generateIdentity, publicIdentity } from '../../src/crypto/keys.js';
import { toHex } from '../../src/protocol/bytes.js';
import { numRuns } from '../properties.js';

const HOUR = 60 * 60 * 1000;

describe('user certificates assembled as DER', () => {
  let ca: CertificateAuthority;
  before(async () => {
    ca = await createCertificateAuthority();
  });

  /** The TBS the general path (every field through asn1-x509) makes for the same user. */
  async function throughTheLibrary(
    user: { username: string; signingKey: Uint8Array; encryptionKey: Uint8Array },
    serial: Uint8Array,
    now: Date,
    days: number,
  ): Promise<Uint8Array> {
    const certificate = await issueCertificate(ca, {
      subject: [{ type: 'CN', value: user.username }],
      publicKey: new Uint8Array([...ED25519_SPKI_PREFIX, ...user.signingKey]),
      keyUsage: KeyUsageFlags.digitalSignature,
      encryptionKey: user.encryptionKey,
      serial,
      now,
      days,
    });
    return splitSignedDer(certificate).tbs;
  }

  it('writes the same bytes as asn1-x509 for random users, keys, serials and dates', async () => {
    const username = fc.stringMatching(/^[a-z][a-z0-9_-]{2,31}$/);
    const serial = fc
      .uint8Array({ minLength: 1, maxLength: 20 })
      .map((bytes) => Uint8Array.from(bytes, (b, i) => (i === 0 ? (b & 0x7f) | 1 : b)));
    // 1970 to 2199: both sides of the UTCTime / GeneralizedTime switch at 2050.
    const now = fc.integer({ min: 10 * 24 * HOUR, max: 7_258_000_000_000 }).map((t) => new Date(t));
    await fc.assert(
      fc.asyncProperty(
        username,
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        serial,
        now,
        fc.integer({ min: 1, max: 3650 }),
        async (name, signingKey, encryptionKey, serialBytes, when, days) => {
          const user = { username: name, signingKey, encryptionKey };
          const assembled = await issueUserCertificate(ca, user, {
            serial: serialBytes,
            now: when,
            days,
          });
          assert.equal(
            toHex(splitSignedDer(assembled).tbs),
            toHex(await throughTheLibrary(user, serialBytes, when, days)),
          );
        },
      ),
      { numRuns: numRuns(60) },
    );
  });

  it('issues certificates the verifier accepts, from a key object as from raw bytes', async () => {
    const identity = await generateIdentity();
    const pub = await publicIdentity(identity);
    for (const signingKey of [identity.signing.publicKey, pub.signingKey]) {
      const certificate = await issueUserCertificate(ca, {
        username: 'alice',
        signingKey,
        encryptionKey: pub.encryptionKey,
      });
      const verified = await verifyUserCertificate(certificate, ca.certificate, {
        username: 'alice',
      });
      assert.deepEqual(verified.signingKey, pub.signingKey);
      assert.deepEqual(verified.encryptionKey, pub.encryptionKey);
    }
  });

  it('writes times as RFC 5280 says: UTCTime through 2049, GeneralizedTime from 2050, whole seconds', () => {
    const cases: [string, string][] = [
      ['1999-12-31T23:59:59.999Z', '170d3939313233313233353935395a'],
      ['2000-01-01T00:00:00.000Z', '170d3030303130313030303030305a'],
      ['2049-12-31T23:59:59.000Z', '170d3439313233313233353935395a'],
      ['2050-01-01T00:00:00.000Z', '180f32303530303130313030303030305a'],
      ['2026-12-02T17:05:09.500Z', '170d3236313230323137303530395a'],
    ];
    for (const [iso, hex] of cases) assert.equal(toHex(derTime(new Date(iso))), hex, iso);
  });

  it('uses the signer a CA brings, and its signature verifies', async () => {
    let signed = 0;
    const withSigner: CertificateAuthority = {
      ...ca,
      sign: async (data) => {
        signed++;
        const { subtle } = globalThis.crypto;
        const raw = await subtle.sign(
          { name: 'ECDSA', hash: 'SHA-256' },
          ca.privateKey,
          data.slice(),
        );
        return new Uint8Array(raw);
      },
    };
    const pub = await publicIdentity(await generateIdentity());
    const certificate = await issueUserCertificate(withSigner, { username: 'bob', ...pub });
    assert.equal(signed, 1);
    await verifyUserCertificate(certificate, ca.certificate, { username: 'bob' });
  });
});
