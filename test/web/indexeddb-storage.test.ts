/**
 * IndexedDbStorage, in Chromium only (the browser bundle of test/browser/chromium.test.ts
 * takes test/web): the ClientStorage conformance suite, then what only a browser's
 * storage promises: private keys kept non-extractable, and the key file for an
 * identity file kept sealed only when a passphrase was chosen.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/keys.js';
import { openKeystore } from '../../src/crypto/keystore.js';
import { IndexedDbStorage } from '../../src/web/indexeddb-storage.js';
import { clientStorageConformance } from '../conformance/client-storage.js';

let opened = 0;

async function freshStorage(): Promise<{ storage: IndexedDbStorage; name: string }> {
  opened += 1;
  const name = `sisp-test-${opened}-${Math.random().toString(36).slice(2)}`;
  return { storage: await IndexedDbStorage.open(name), name };
}

clientStorageConformance('IndexedDbStorage', async () => {
  const { storage, name } = await freshStorage();
  const handles = [storage];
  return {
    storage,
    reopen: async () => {
      const again = await IndexedDbStorage.open(name);
      handles.push(again);
      return again;
    },
    dispose: () => {
      for (const handle of handles) handle.close();
      indexedDB.deleteDatabase(name);
      return Promise.resolve();
    },
  };
});

describe('IndexedDbStorage keeps private keys out of reach', () => {
  it('stores private keys non-extractable, and a sealed key file only with a passphrase', async () => {
    const plain = (await freshStorage()).storage;
    await plain.saveIdentity({ username: 'alice', identity: await generateIdentity() });
    const loaded = await plain.loadIdentity();
    assert.equal(loaded.identity.signing.privateKey.extractable, false);
    assert.equal(loaded.identity.encryption.privateKey.extractable, false);
    assert.equal(await plain.readKeyFile(), undefined);

    const sealed = (await freshStorage()).storage;
    await sealed.saveIdentity({ username: 'bob', identity: await generateIdentity() }, 'pass');
    const keyFile = await sealed.readKeyFile();
    assert.ok(keyFile instanceof Uint8Array);
    await assert.rejects(openKeystore(keyFile, 'wrong'), { code: 'E_PASSPHRASE' });
    assert.equal((await openKeystore(keyFile, 'pass')).username, 'bob');
    plain.close();
    sealed.close();
  });
});
