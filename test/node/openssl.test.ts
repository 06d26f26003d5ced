/** The certificates sisp issues, checked by the real `openssl` (Node-only: it runs a program). */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  generateP256KeyPair,
  createCertificateAuthority,
  issueServerCertificate,
  issueUserCertificate,
  toPem,
  type CertificateAuthority,
} from '../../src/crypto/certificates.js';
import { generateIdentity, publicIdentity } from '../../src/crypto/keys.js';

function openssl(args: string[]): string {
  return execFileSync('openssl', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

describe('openssl verify', () => {
  let dir: string;
  let ca: CertificateAuthority;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sisp-cert-'));
    ca = await createCertificateAuthority();
    const alice = await generateIdentity();
    const aliceCert = await issueUserCertificate(ca, {
      username: 'alice',
      signingKey: alice.signing.publicKey,
      encryptionKey: (await publicIdentity(alice)).encryptionKey,
    });
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.certificate));
    writeFileSync(join(dir, 'alice.pem'), toPem(aliceCert));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes the real openssl verify, and openssl reads the Ed25519 key and the extension', () => {
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

  it('a server certificate passes openssl verify for TLS server use', async () => {
    const tls = await generateP256KeyPair();
    const cert = await issueServerCertificate(ca, {
      tlsPublicKey: tls.publicKey,
      encryptionKey: new Uint8Array(32).fill(7),
      hostnames: ['localhost', 'photos.example'],
      ips: ['127.0.0.1', '::1'],
    });
    writeFileSync(join(dir, 'server.pem'), toPem(cert));
    const verify = (...names: string[]) =>
      openssl([
        'verify',
        '-purpose',
        'sslserver',
        ...names,
        '-CAfile',
        join(dir, 'ca.pem'),
        join(dir, 'server.pem'),
      ]);
    assert.match(verify(), /OK/);
    // Every name and address in the certificate matches; others do not.
    assert.match(verify('-verify_hostname', 'photos.example'), /OK/);
    assert.match(verify('-verify_ip', '::1'), /OK/);
    assert.match(verify('-verify_ip', '127.0.0.1'), /OK/);
    assert.throws(() => verify('-verify_hostname', 'elsewhere.example'));
  });

  it('openssl reads the CA as a CA: constraints, key usage and key identifiers', () => {
    const text = openssl(['x509', '-in', join(dir, 'ca.pem'), '-noout', '-text']);
    assert.match(text, /CA:TRUE, pathlen:0/);
    assert.match(text, /Certificate Sign, CRL Sign/);
    const keyId = /Subject Key Identifier:\s*\n\s*([0-9A-F:]+)/.exec(text)?.[1];
    assert.ok(keyId !== undefined);
    const user = openssl(['x509', '-in', join(dir, 'alice.pem'), '-noout', '-text']);
    assert.ok(user.includes(keyId), 'the user certificate names the CA by its key identifier');
  });
});
