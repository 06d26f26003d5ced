import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import {
  generateP256KeyPair,
  createCertificateAuthority,
  issueCertificate,
  type CertificateProfile,
  fromPem,
  issueServerCertificate,
  issueUserCertificate,
  toPem,
  verifyCaCertificate,
  verifyServerCertificate,
  verifyUserCertificate,
  type CertificateAuthority,
} from '../../src/crypto/certificates.js';
import { generateIdentity, publicIdentity, type Identity } from '../../src/crypto/keys.js';
import { KeyUsageFlags } from '@peculiar/asn1-x509';
import { x509 } from '../support/x509.js';
import { isSispError } from '../../src/protocol/errors.js';
import { toHex } from '../../src/protocol/bytes.js';

const DAY = 24 * 60 * 60 * 1000;

describe('certificates', () => {
  let ca: CertificateAuthority;
  let alice: Identity;
  let aliceCert: Uint8Array;

  before(async () => {
    ca = await createCertificateAuthority();
    alice = await generateIdentity();
    const pub = await publicIdentity(alice);
    aliceCert = await issueUserCertificate(ca, {
      username: 'alice',
      signingKey: alice.signing.publicKey,
      encryptionKey: pub.encryptionKey,
    });
  });

  it('verifies a good certificate and returns both keys', async () => {
    const verified = await verifyUserCertificate(aliceCert, ca.certificate, { username: 'alice' });
    const pub = await publicIdentity(alice);
    assert.equal(verified.username, 'alice');
    assert.deepEqual(verified.signingKey, pub.signingKey);
    assert.deepEqual(verified.encryptionKey, pub.encryptionKey);
    await verifyCaCertificate(ca.certificate);
  });

  it("issues from the raw signing key as from the key object; the issuer and signature are the CA's", async () => {
    const pub = await publicIdentity(alice);
    const fromRaw = await issueUserCertificate(ca, {
      username: 'alice',
      signingKey: pub.signingKey,
      encryptionKey: pub.encryptionKey,
    });
    const verified = await verifyUserCertificate(fromRaw, ca.certificate, { username: 'alice' });
    assert.deepEqual(verified.signingKey, pub.signingKey);
    assert.deepEqual(verified.encryptionKey, pub.encryptionKey);
    const parsed = new x509.X509Certificate(fromRaw.slice().buffer);
    const caParsed = new x509.X509Certificate(ca.certificate.slice().buffer);
    assert.equal(parsed.issuer, caParsed.subject);
    assert.equal(parsed.signatureAlgorithm.name, 'ECDSA');
    assert.ok(await parsed.verify({ publicKey: caParsed.publicKey, signatureOnly: true }));
    // Serials are positive, minimally encoded and fresh for each certificate.
    assert.match(parsed.serialNumber, /^[0-7][0-9a-f]{31}$/);
    assert.notEqual(
      parsed.serialNumber,
      new x509.X509Certificate(aliceCert.slice().buffer).serialNumber,
    );
    await assert.rejects(
      issueUserCertificate(ca, {
        username: 'alice',
        signingKey: pub.signingKey.subarray(1),
        encryptionKey: pub.encryptionKey,
      }),
      /signingKey must be 32 bytes/,
    );
  });

  it('another reader agrees: @peculiar/x509 reads the CA, user and server certificates as intended', async () => {
    const caCert = new x509.X509Certificate(ca.certificate.slice().buffer);
    assert.ok(await caCert.isSelfSigned());
    const constraints = caCert.getExtension(x509.BasicConstraintsExtension);
    assert.equal(constraints?.ca, true);
    assert.equal(constraints.pathLength, 0);
    assert.equal(constraints.critical, true);
    const caUsage = caCert.getExtension(x509.KeyUsagesExtension);
    assert.equal(caUsage?.usages, KeyUsageFlags.keyCertSign | KeyUsageFlags.cRLSign);
    const caKeyId = caCert.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
    // RFC 5280 4.2.1.2 method (1), as the library computes it.
    assert.equal(caKeyId, toHex(new Uint8Array(await caCert.publicKey.getKeyIdentifier())));
    const user = new x509.X509Certificate(aliceCert.slice().buffer);
    assert.equal(user.subject, 'CN=alice');
    assert.equal(user.issuer, caCert.subject);
    assert.equal(user.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId, caKeyId);
    assert.equal(
      user.getExtension(x509.KeyUsagesExtension)?.usages,
      KeyUsageFlags.digitalSignature,
    );
    assert.equal(user.publicKey.algorithm.name, 'Ed25519');

    const tls = await generateP256KeyPair();
    const serverDer = await issueServerCertificate(ca, {
      tlsPublicKey: tls.publicKey,
      encryptionKey: new Uint8Array(32).fill(7),
      hostnames: ['localhost', 'photos.example'],
      ips: ['127.0.0.1', '::1'],
    });
    const server = new x509.X509Certificate(serverDer.slice().buffer);
    assert.deepEqual(
      [...(server.getExtension(x509.ExtendedKeyUsageExtension)?.usages ?? [])],
      [x509.ExtendedKeyUsage.serverAuth],
    );
    assert.deepEqual(server.getExtension(x509.SubjectAlternativeNameExtension)?.names.toJSON(), [
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'photos.example' },
      { type: 'ip', value: '127.0.0.1' },
      { type: 'ip', value: '::1' },
    ]);
  });

  it('a CA made by the earlier generator (@peculiar/x509, existing data directories) still issues and verifies', async () => {
    const keys = await generateP256KeyPair();
    const made = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=sisp CA',
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + 3650 * DAY),
      keys,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const earlier = { certificate: new Uint8Array(made.rawData), privateKey: keys.privateKey };
    await verifyCaCertificate(earlier.certificate);
    const pub = await publicIdentity(alice);
    const cert = await issueUserCertificate(earlier, {
      username: 'alice',
      signingKey: pub.signingKey,
      encryptionKey: pub.encryptionKey,
    });
    assert.equal((await verifyUserCertificate(cert, earlier.certificate)).username, 'alice');
    const read = new x509.X509Certificate(cert.slice().buffer);
    assert.equal(read.issuer, made.subject);
    assert.equal(
      read.getExtension(x509.AuthorityKeyIdentifierExtension)?.keyId,
      made.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId,
    );
    await rejects(verifyUserCertificate(cert, ca.certificate));
  });

  it('PEM round trip', () => {
    assert.deepEqual(fromPem(toPem(aliceCert)), aliceCert);
  });

  async function rejects(promise: Promise<unknown>) {
    await assert.rejects(promise, (error) => isSispError(error, 'E_CERTIFICATE'));
  }

  it('refuses a certificate from another CA even with the same CA name', async () => {
    const other = await createCertificateAuthority();
    await rejects(verifyUserCertificate(aliceCert, other.certificate));
  });

  it('refuses an expired and a not-yet-valid certificate', async () => {
    await rejects(
      verifyUserCertificate(aliceCert, ca.certificate, { now: new Date(Date.now() + 900 * DAY) }),
    );
    await rejects(
      verifyUserCertificate(aliceCert, ca.certificate, { now: new Date(Date.now() - 2 * DAY) }),
    );
    const old = await issueUserCertificate(
      ca,
      {
        username: 'alice',
        signingKey: alice.signing.publicKey,
        encryptionKey: new Uint8Array(32).fill(9),
      },
      { now: new Date(Date.now() - 30 * DAY), days: 1 },
    );
    await rejects(verifyUserCertificate(old, ca.certificate));
  });

  it('refuses a certificate for another name', async () => {
    await rejects(verifyUserCertificate(aliceCert, ca.certificate, { username: 'bob' }));
  });

  it('refuses wrong key usage, a CA flag, a missing X25519 key and a non-Ed25519 subject key', async () => {
    const pub = await publicIdentity(alice);
    const base = {
      subject: [{ type: 'CN' as const, value: 'alice' }],
      publicKey: alice.signing.publicKey,
      keyUsage: KeyUsageFlags.digitalSignature,
      encryptionKey: pub.encryptionKey,
    };
    const verify = async (profile: Partial<CertificateProfile>) =>
      verifyUserCertificate(await issueCertificate(ca, { ...base, ...profile }), ca.certificate);
    await rejects(verify({ keyUsage: KeyUsageFlags.keyCertSign }));
    await rejects(verify({ keyUsage: KeyUsageFlags.keyEncipherment }));
    await rejects(verify({ keyUsage: KeyUsageFlags.digitalSignature | KeyUsageFlags.keyCertSign }));
    await rejects(verify({ isCa: true }));
    await rejects(verify({ subject: [{ type: 'CN', value: 'Alice' }] }));
    await rejects(
      verify({
        subject: [
          { type: 'CN', value: 'alice' },
          { type: 'O', value: 'evil' },
        ],
      }),
    );
    await rejects(
      verify({
        subject: [
          { type: 'O', value: 'evil' },
          { type: 'CN', value: 'alice' },
        ],
      }),
    );
    const { encryptionKey: _omit, ...withoutX25519 } = base;
    await rejects(verifyUserCertificate(await issueCertificate(ca, withoutX25519), ca.certificate));
    const ecKey = await generateP256KeyPair();
    await rejects(verify({ publicKey: ecKey.publicKey }));
    // The control: the same construction with the right pieces verifies.
    assert.equal((await verify({})).username, 'alice');
  });

  it('refuses a tampered certificate (one flipped bit anywhere in the signed part)', async () => {
    for (const offset of [20, 60, 120, 200, aliceCert.length - 80]) {
      const bad = aliceCert.slice();
      bad[offset] = (bad[offset] ?? 0) ^ 1;
      await assert.rejects(verifyUserCertificate(bad, ca.certificate), (e) => isSispError(e));
    }
  });

  it('a server certificate carries the X25519 key, and is not a user certificate', async () => {
    const tls = await generateP256KeyPair();
    const x = new Uint8Array(32).fill(7);
    const cert = await issueServerCertificate(ca, {
      tlsPublicKey: tls.publicKey,
      encryptionKey: x,
      hostnames: ['localhost'],
      ips: ['127.0.0.1'],
    });
    assert.deepEqual((await verifyServerCertificate(cert, ca.certificate)).encryptionKey, x);
    await rejects(verifyServerCertificate(aliceCert, ca.certificate));
    await rejects(verifyUserCertificate(cert, ca.certificate));
  });

  describe('a certificate verified once is remembered, never trusted further', () => {
    /** Issued so that it expires `ms` from now. */
    const expiringIn = (ms: number) => ({ now: new Date(Date.now() + ms - DAY), days: 1 });
    const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

    it('a second look still checks the name and the CA, and hands out its own copy', async () => {
      const first = await verifyUserCertificate(aliceCert, ca.certificate, { username: 'alice' });
      first.signingKey.fill(0);
      const again = await verifyUserCertificate(aliceCert, ca.certificate, { username: 'alice' });
      assert.deepEqual(again.signingKey, (await publicIdentity(alice)).signingKey);
      await rejects(verifyUserCertificate(aliceCert, ca.certificate, { username: 'bob' }));
      await rejects(
        verifyUserCertificate(aliceCert, (await createCertificateAuthority()).certificate),
      );
    });

    it('a user certificate that has expired since is refused', async () => {
      const cert = await issueUserCertificate(
        ca,
        {
          username: 'alice',
          signingKey: alice.signing.publicKey,
          encryptionKey: (await publicIdentity(alice)).encryptionKey,
        },
        expiringIn(1500),
      );
      await verifyUserCertificate(cert, ca.certificate);
      await sleep(1600);
      await rejects(verifyUserCertificate(cert, ca.certificate));
    });

    it('a server certificate that has expired since is refused', async () => {
      const tls = await generateP256KeyPair();
      const cert = await issueServerCertificate(
        ca,
        {
          tlsPublicKey: tls.publicKey,
          encryptionKey: new Uint8Array(32).fill(7),
          hostnames: ['localhost'],
          ips: [],
        },
        expiringIn(1500),
      );
      const first = await verifyServerCertificate(cert, ca.certificate);
      first.encryptionKey.fill(0);
      assert.deepEqual(
        (await verifyServerCertificate(cert, ca.certificate)).encryptionKey,
        new Uint8Array(32).fill(7),
      );
      await sleep(1600);
      await rejects(verifyServerCertificate(cert, ca.certificate));
    });
  });
});
