import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import {
  createCertificateAuthority,
  issueServerCertificate,
  issueUserCertificate,
  type CertificateAuthority,
} from '../../src/crypto/certificates.js';
import { generateIdentity, publicIdentity, type PublicIdentity } from '../../src/crypto/keys.js';
import { MemoryStorage, type VerifiedRecord } from '../../src/core/storage.js';
import {
  verificationKey,
  verifyServerRemembered,
  verifyUserRemembered,
} from '../../src/core/verified.js';
import { isSispError } from '../../src/protocol/errors.js';
import { generateP256KeyPair } from '../../src/crypto/certificates.js';

const rejected = (e: unknown) => isSispError(e, 'E_CERTIFICATE');

describe('certificates verified once and remembered in storage', () => {
  let ca: CertificateAuthority;
  let otherCa: CertificateAuthority;
  let alice: PublicIdentity;
  let aliceCert: Uint8Array;
  let serverCert: Uint8Array;
  const serverKey = new Uint8Array(32).fill(7);

  before(async () => {
    ca = await createCertificateAuthority();
    otherCa = await createCertificateAuthority();
    alice = await publicIdentity(await generateIdentity());
    aliceCert = await issueUserCertificate(ca, { username: 'alice', ...alice });
    serverCert = await issueServerCertificate(ca, {
      tlsPublicKey: (await generateP256KeyPair()).publicKey,
      encryptionKey: serverKey,
      hostnames: ['localhost'],
      ips: [],
    });
  });

  it('records a full verification under the CA and the exact bytes, and answers from it', async () => {
    const storage = new MemoryStorage();
    const first = await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    assert.deepEqual(first.signingKey, alice.signingKey);
    const record = await storage.readVerified(await verificationKey(ca.certificate, aliceCert));
    assert.ok(record?.kind === 'user');
    assert.equal(record.username, 'alice');
    assert.deepEqual(record.encryptionKey, alice.encryptionKey);
    const second = await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    assert.deepEqual(second, first);
  });

  it('answers from a record without parsing: what is recorded is what comes back', async () => {
    // The record is trusted as the keys beside it are; this shows the parser is not consulted.
    const storage = new MemoryStorage();
    const bytes = new Uint8Array([1, 2, 3]);
    const record: VerifiedRecord = {
      kind: 'user',
      username: 'alice',
      signingKey: new Uint8Array(32).fill(1),
      encryptionKey: new Uint8Array(32).fill(2),
      serial: '01',
      notAfter: Date.now() + 60_000,
    };
    await storage.saveVerified(await verificationKey(ca.certificate, bytes), record);
    const verified = await verifyUserRemembered(storage, ca.certificate, bytes, 'alice');
    assert.deepEqual(verified.signingKey, record.signingKey);
    await assert.rejects(verifyUserRemembered(storage, ca.certificate, bytes, 'bob'), rejected);
  });

  it('checks in full again when the record expired, is of another kind, or names another CA', async () => {
    const storage = new MemoryStorage();
    const bytes = new Uint8Array([1, 2, 3]);
    const key = await verificationKey(ca.certificate, bytes);
    const stale: VerifiedRecord = {
      kind: 'user',
      username: 'alice',
      signingKey: new Uint8Array(32),
      encryptionKey: new Uint8Array(32),
      serial: '01',
      notAfter: Date.now() - 1,
    };
    await storage.saveVerified(key, stale);
    await assert.rejects(verifyUserRemembered(storage, ca.certificate, bytes, 'alice'), rejected);
    await storage.saveVerified(key, { kind: 'server', encryptionKey: serverKey, notAfter: 1e15 });
    await assert.rejects(verifyUserRemembered(storage, ca.certificate, bytes, 'alice'), rejected);
    await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    await assert.rejects(
      verifyUserRemembered(storage, otherCa.certificate, aliceCert, 'alice'),
      rejected,
    );
    assert.notEqual(
      await verificationKey(ca.certificate, aliceCert),
      await verificationKey(otherCa.certificate, aliceCert),
    );
  });

  it('refuses a certificate issued to someone else, first time and from the record', async () => {
    const storage = new MemoryStorage();
    await assert.rejects(verifyUserRemembered(storage, ca.certificate, aliceCert, 'bob'), rejected);
    await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    await assert.rejects(verifyUserRemembered(storage, ca.certificate, aliceCert, 'bob'), rejected);
  });

  it("remembers the server's wrapping key, and never takes a user's record for it", async () => {
    const storage = new MemoryStorage();
    assert.deepEqual(await verifyServerRemembered(storage, ca.certificate, serverCert), serverKey);
    const record = await storage.readVerified(await verificationKey(ca.certificate, serverCert));
    assert.equal(record?.kind, 'server');
    assert.deepEqual(await verifyServerRemembered(storage, ca.certificate, serverCert), serverKey);
    await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    await assert.rejects(verifyServerRemembered(storage, ca.certificate, aliceCert), rejected);
  });

  it('still verifies when the storage cannot keep or read records', async () => {
    const storage = new MemoryStorage();
    storage.saveVerified = () => Promise.reject(new Error('read-only'));
    storage.readVerified = () => Promise.reject(new Error('unreadable'));
    const verified = await verifyUserRemembered(storage, ca.certificate, aliceCert, 'alice');
    assert.deepEqual(verified.encryptionKey, alice.encryptionKey);
  });
});
