/**
 * The ClientStorage conformance suite: what every place a client keeps its state
 * must do (the CLI's home folder, memory, and a browser's IndexedDB). Isomorphic:
 * it runs in Node and in Chromium. Each test gets fresh, empty storage.
 */
import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import {
  generateIdentity,
  publicIdentity,
  signEd25519,
  verifyEd25519,
} from '../../src/crypto/keys.js';
import {
  VERIFIED_KEPT,
  type ClientStorage,
  type Pin,
  type VerifiedRecord,
} from '../../src/core/storage.js';
import { isSispError } from '../../src/protocol/errors.js';

export interface ClientStorageFixture {
  readonly storage: ClientStorage;
  /** The same storage, opened afresh (what a new process or page load sees). */
  reopen(): Promise<ClientStorage>;
  dispose(): Promise<void>;
}

const pin = (fill: number): Pin => ({
  signingKey: new Uint8Array(32).fill(fill),
  encryptionKey: new Uint8Array(32).fill(fill + 1),
  fingerprint: `fp-${fill}`,
  firstSeen: '2026-12-01T00:00:00.000Z',
});

const verifiedKey = (n: number): string => n.toString(16).padStart(128, '0');
const userRecord = (fill: number): VerifiedRecord => ({
  kind: 'user',
  username: `user${fill}`,
  signingKey: new Uint8Array(32).fill(fill),
  encryptionKey: new Uint8Array(32).fill(fill + 1),
  serial: fill.toString(16).padStart(2, '0'),
  notAfter: 1_900_000_000_000 + fill,
});

export function clientStorageConformance(
  name: string,
  open: () => Promise<ClientStorageFixture>,
): void {
  describe(`ClientStorage conformance: ${name}`, () => {
    let fixture: ClientStorageFixture;
    let storage: ClientStorage;
    beforeEach(async () => {
      fixture = await open();
      storage = fixture.storage;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('starts empty: no config, no CA, no identity (E_AUTH), no pins', async () => {
      assert.equal(await storage.readConfig(), undefined);
      assert.equal(await storage.readCa(), undefined);
      assert.equal(await storage.hasIdentity(), false);
      await assert.rejects(storage.loadIdentity(), (e: unknown) => isSispError(e, 'E_AUTH'));
      assert.equal(await storage.getPin('alice'), undefined);
      assert.equal(typeof storage.location, 'string');
    });

    it('keeps the server, its CA and the username, and replaces them when written again', async () => {
      await storage.writeConfig({ server: 'wss://a.example:8443/', username: 'alice' });
      await storage.writeCa('-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n');
      await storage.writeConfig({ server: 'wss://b.example:8443/' });
      const reopened = await fixture.reopen();
      assert.deepEqual(await reopened.readConfig(), { server: 'wss://b.example:8443/' });
      assert.match((await reopened.readCa()) ?? '', /BEGIN CERTIFICATE/);
    });

    it('keeps an identity that still signs, and refuses a second one (E_EXISTS)', async () => {
      const identity = await generateIdentity();
      await storage.saveIdentity({ username: 'alice', identity });
      await assert.rejects(
        storage.saveIdentity({ username: 'mallory', identity: await generateIdentity() }),
        (e: unknown) => isSispError(e, 'E_EXISTS'),
      );
      const loaded = await (await fixture.reopen()).loadIdentity();
      assert.equal(loaded.username, 'alice');
      const message = new TextEncoder().encode('signed after reload');
      const signature = await signEd25519(loaded.identity.signing.privateKey, message);
      const pub = await publicIdentity(identity);
      assert.ok(await verifyEd25519(pub.signingKey, signature, message));
      assert.deepEqual(await publicIdentity(loaded.identity), pub);
    });

    it('keeps pins per user, replaces one when saved again, and never confuses users', async () => {
      await storage.savePin('alice', pin(1));
      await storage.savePin('bob', pin(3));
      await storage.savePin('alice', pin(5));
      const reopened = await fixture.reopen();
      assert.deepEqual(await reopened.getPin('alice'), pin(5));
      assert.deepEqual(await reopened.getPin('bob'), pin(3));
      assert.equal(await reopened.getPin('carol'), undefined);
      // Names that are properties of plain objects are just names.
      assert.equal(await reopened.getPin('__proto__'), undefined);
      assert.equal(await reopened.getPin('constructor'), undefined);
      assert.deepEqual(await reopened.listPins(), [
        ['alice', pin(5)],
        ['bob', pin(3)],
      ]);
    });

    it('remembers verified certificates by key, the last saved winning, the oldest forgotten first', async () => {
      const server: VerifiedRecord = {
        kind: 'server',
        encryptionKey: new Uint8Array(32).fill(9),
        notAfter: 1_900_000_000_000,
      };
      assert.equal(await storage.readVerified(verifiedKey(1)), undefined);
      await storage.saveVerified(verifiedKey(1), userRecord(1));
      await storage.saveVerified(verifiedKey(2), server);
      await storage.saveVerified(verifiedKey(1), userRecord(3));
      assert.deepEqual(await storage.readVerified(verifiedKey(1)), userRecord(3));
      assert.deepEqual(await storage.readVerified(verifiedKey(2)), server);
      // A cache need not outlive the process; where it does, it keeps what was saved.
      const reopened = await fixture.reopen();
      const again = await reopened.readVerified(verifiedKey(1));
      if (again !== undefined) assert.deepEqual(again, userRecord(3));
      for (let n = 10; n < 10 + VERIFIED_KEPT; n++)
        await storage.saveVerified(verifiedKey(n), userRecord(n % 200));
      assert.equal(await storage.readVerified(verifiedKey(1)), undefined);
      assert.equal(await storage.readVerified(verifiedKey(2)), undefined);
      assert.deepEqual(
        await storage.readVerified(verifiedKey(9 + VERIFIED_KEPT)),
        userRecord((9 + VERIFIED_KEPT) % 200),
      );
    });

    it('keeps every verified certificate saved at the same moment', async () => {
      const keys = Array.from({ length: 12 }, (_, n) => n + 100);
      await Promise.all(keys.map((n) => storage.saveVerified(verifiedKey(n), userRecord(n))));
      for (const n of keys)
        assert.deepEqual(await storage.readVerified(verifiedKey(n)), userRecord(n));
    });

    it('keeps every pin saved at the same moment (a client pins several users at once)', async () => {
      const users = Array.from(
        { length: 20 },
        (_, index) => `user${String(index).padStart(2, '0')}`,
      );
      await Promise.all(users.map((user, index) => storage.savePin(user, pin(index))));
      const reopened = await fixture.reopen();
      assert.deepEqual(
        (await reopened.listPins()).map(([user]) => user),
        users,
      );
    });
  });
}
