import { strict as assert } from 'node:assert';
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Home } from '../../src/client/home.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { isSispError } from '../../src/protocol/errors.js';
import { clientStorageConformance } from '../conformance/client-storage.js';

const root = mkdtempSync(join(tmpdir(), 'sisp-home-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});
let count = 0;

clientStorageConformance('Home (the CLI home folder)', () => {
  const dir = join(root, `home-${count++}`);
  return Promise.resolve({
    storage: new Home(dir),
    reopen: () => Promise.resolve(new Home(dir)),
    dispose: () => Promise.resolve(),
  });
});

describe('Home: files on disk', () => {
  it('keys and pins are 0600, the folder 0700', async () => {
    const home = new Home(join(root, 'modes'));
    await home.saveIdentity({ username: 'alice', identity: await generateIdentity() });
    await home.savePin('bob', {
      signingKey: new Uint8Array(32),
      encryptionKey: new Uint8Array(32),
      fingerprint: 'x',
      firstSeen: 'y',
    });
    assert.equal(statSync(home.keyPath).mode & 0o777, 0o600);
    assert.equal(statSync(home.pinsPath).mode & 0o777, 0o600);
    assert.equal(statSync(home.dir).mode & 0o777, 0o700);
  });

  it('a passphrase-locked identity needs the passphrase (E_PASSPHRASE without it)', async () => {
    const home = new Home(join(root, 'locked'));
    await home.saveIdentity(
      { username: 'alice', identity: await generateIdentity() },
      'pass phrase',
    );
    await assert.rejects(home.loadIdentity(), (e: unknown) => isSispError(e, 'E_PASSPHRASE'));
    await assert.rejects(home.loadIdentity('wrong'), (e: unknown) =>
      isSispError(e, 'E_PASSPHRASE'),
    );
    assert.equal((await home.loadIdentity('pass phrase')).username, 'alice');
  });

  it('verified.json: 0600, and a damaged file or entry reads as nothing and is replaced', async () => {
    const home = new Home(join(root, 'verified'));
    const key = 'ab'.repeat(64);
    const record = {
      kind: 'server' as const,
      encryptionKey: new Uint8Array(32).fill(4),
      notAfter: 1_900_000_000_000,
    };
    mkdirSync(home.dir, { recursive: true, mode: 0o700 });
    const path = join(home.dir, 'verified.json');
    writeFileSync(path, '{ not json', { mode: 0o600 });
    assert.equal(await home.readVerified(key), undefined);
    await home.saveVerified(key, record);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.deepEqual(await new Home(home.dir).readVerified(key), record);
    // An entry with a short key, a bad name or a non-integer expiry is dropped, the rest kept.
    const file = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
    file['cd'.repeat(64)] = { kind: 'server', encryptionKey: '00', notAfter: 1 };
    file['ef'.repeat(64)] = { kind: 'user', encryptionKey: '00'.repeat(32), notAfter: 1.5 };
    file.short = { kind: 'server', encryptionKey: '00'.repeat(32), notAfter: 1 };
    writeFileSync(path, JSON.stringify(file));
    const reopened = new Home(home.dir);
    assert.equal(await reopened.readVerified('cd'.repeat(64)), undefined);
    assert.equal(await reopened.readVerified('ef'.repeat(64)), undefined);
    assert.equal(await reopened.readVerified('short'), undefined);
    assert.deepEqual(await reopened.readVerified(key), record);
  });

  it('refuses a verified.json others can write (E_FORBIDDEN), as it does the keys', async () => {
    const home = new Home(join(root, 'verified-open'));
    await home.saveVerified('ab'.repeat(64), {
      kind: 'server',
      encryptionKey: new Uint8Array(32),
      notAfter: 1_900_000_000_000,
    });
    chmodSync(join(home.dir, 'verified.json'), 0o666);
    await assert.rejects(home.checkPermissions(), (e: unknown) => isSispError(e, 'E_FORBIDDEN'));
  });
});
