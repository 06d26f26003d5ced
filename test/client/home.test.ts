import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
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
});
