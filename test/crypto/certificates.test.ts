import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
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
import { subtle } from '../../src/crypto/webcrypto.js';
import { x509 } from '../../src/crypto/x509.js';
import { isSispError } from '../../src/protocol/errors.js';

const DAY = 24 * 60 * 60 * 1000;

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('certificates', () => {
  let dir: string;
  let ca: CertificateAuthority;
  let alice: Identity;
  let aliceCert: Uint8Array;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sisp-cert-'));
    ca = await createCertificateAuthority();
    alice = await generateIdentity();
    const pub = await publicIdentity(alice);
    aliceCert = await issueUserCertificate(ca, {
      username: 'alice',
      signingKey: alice.signing.publicKey,
      encryptionKey: pub.encryptionKey,
    });
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the real openssl verify, and openssl reads the Ed25519 key and the extension', () => {
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.certificate));
    writeFileSync(join(dir, 'alice.pem'), toPem(aliceCert));
    const out = openssl(['verify', '-CAfile', join(dir, 'ca.pem'), join(dir, 'alice.pem')]);
    assert.match(out, /alice\.pem: OK/);
    const text = openssl(['x509', '-in', join(dir, 'alice.pem'), '-noout', '-text']);
    assert.match(text, /ED25519/);
    assert.match(text, /Subject: CN\s?=\s?alice/);
    assert.match(text, /Digital Signature/);
    assert.match(text, /2\.25\.147696104456286835305333220784226583024/);
  });

  it('openssl refuses a user certificate against another CA', async () => {
    const other = await createCertificateAuthority({ name: 'sisp CA' });
    writeFileSync(join(dir, 'other.pem'), toPem(other.certificate));
    assert.throws(() =>
      openssl(['verify', '-CAfile', join(dir, 'other.pem'), join(dir, 'alice.pem')]),
    );
  });

  it('verifies a good certificate and returns both keys', async () => {
    const verified = await verifyUserCertificate(aliceCert, ca.certificate, { username: 'alice' });
    const pub = await publicIdentity(alice);
    assert.equal(verified.username, 'alice');
    assert.deepEqual(verified.signingKey, pub.signingKey);
    assert.deepEqual(verified.encryptionKey, pub.encryptionKey);
    await verifyCaCertificate(ca.certificate);
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
      subject: 'CN=alice',
      publicKey: alice.signing.publicKey,
      keyUsage: x509.KeyUsageFlags.digitalSignature,
      encryptionKey: pub.encryptionKey,
    };
    const verify = async (profile: Partial<CertificateProfile>) =>
      verifyUserCertificate(await issueCertificate(ca, { ...base, ...profile }), ca.certificate);
    await rejects(verify({ keyUsage: x509.KeyUsageFlags.keyCertSign }));
    await rejects(verify({ keyUsage: x509.KeyUsageFlags.keyEncipherment }));
    await rejects(
      verify({ keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign }),
    );
    await rejects(verify({ isCa: true }));
    await rejects(verify({ subject: 'CN=Alice' }));
    await rejects(verify({ subject: 'CN=alice, O=evil' }));
    const { encryptionKey: _omit, ...withoutX25519 } = base;
    await rejects(verifyUserCertificate(await issueCertificate(ca, withoutX25519), ca.certificate));
    const ecKey = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
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

  it('issues a server certificate that openssl verifies for TLS and that carries the X25519 key', async () => {
    const tls = await subtle().generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, [
      'sign',
      'verify',
    ]);
    const x = new Uint8Array(32).fill(7);
    const cert = await issueServerCertificate(ca, {
      tlsPublicKey: tls.publicKey,
      encryptionKey: x,
      hostnames: ['localhost'],
      ips: ['127.0.0.1'],
    });
    writeFileSync(join(dir, 'server.pem'), toPem(cert));
    const out = openssl([
      'verify',
      '-purpose',
      'sslserver',
      '-CAfile',
      join(dir, 'ca.pem'),
      join(dir, 'server.pem'),
    ]);
    assert.match(out, /OK/);
    assert.deepEqual((await verifyServerCertificate(cert, ca.certificate)).encryptionKey, x);
    await rejects(verifyServerCertificate(aliceCert, ca.certificate));
  });
});
