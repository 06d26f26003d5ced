import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openSqliteStore } from '../../src/server/store/sqlite-store.js';
import type { ImageRecord, Store, UserRecord } from '../../src/server/store/types.js';

const bytes = (length: number, fill: number) => new Uint8Array(length).fill(fill);

function user(username: string, fill: number): UserRecord {
  return {
    username,
    signingKey: bytes(32, fill),
    encryptionKey: bytes(32, fill + 1),
    certificate: bytes(10, fill),
    created: 1,
  };
}

function image(
  id: number,
  owner: string,
  name: string,
  audience: 'public' | 'private',
): ImageRecord {
  return {
    id: bytes(16, id),
    owner,
    name,
    contentType: 'image/png',
    size: 10,
    ctLength: 82,
    sha256: bytes(32, id),
    manifest: bytes(20, id),
    signature: bytes(64, id),
    audience,
    created: id,
  };
}

describe('SQLite store (in its worker thread)', () => {
  let dir: string;
  let store: Store;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'sisp-store-'));
    store = await openSqliteStore(join(dir, 'sisp.db'));
  });
  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('registers users once; the same keys again are "same", other keys "taken"', async () => {
    assert.equal(await store.createUser(user('alice', 1)), 'created');
    assert.equal(await store.createUser(user('alice', 1)), 'same');
    assert.equal(await store.createUser(user('alice', 5)), 'taken');
    assert.equal(await store.createUser(user('bob', 3)), 'created');
    assert.equal(await store.createUser(user('carol', 7)), 'created');
    assert.deepEqual((await store.getUser('alice'))?.signingKey, bytes(32, 1));
    assert.equal(await store.getUser('nobody'), undefined);
  });

  it('names are unique per owner; replace swaps atomically and reports the old blob', async () => {
    assert.deepEqual(await store.putImage(image(1, 'alice', 'sun', 'public'), [], false), {
      replacedBlob: null,
    });
    assert.equal(await store.putImage(image(2, 'alice', 'sun', 'public'), [], false), 'exists');
    assert.deepEqual(await store.putImage(image(3, 'bob', 'sun', 'public'), [], false), {
      replacedBlob: null,
    });
    assert.deepEqual(await store.putImage(image(4, 'alice', 'sun', 'public'), [], true), {
      replacedBlob: bytes(32, 1),
    });
    assert.equal(await store.getImage(bytes(16, 1)), undefined);
    assert.equal(await store.blobInUse(bytes(32, 1)), false);
    assert.equal(await store.blobInUse(bytes(32, 4)), true);
  });

  it('visibility: public to all, private to owner and recipients only', async () => {
    const grant = (recipient: string) => ({ recipient, enc: bytes(32, 9), ct: bytes(48, 9) });
    await store.putImage(
      image(5, 'alice', 'secret', 'private'),
      [grant('alice'), grant('bob')],
      false,
    );
    assert.equal(await store.canSee('bob', bytes(16, 5)), true);
    assert.equal(await store.canSee('alice', bytes(16, 5)), true);
    assert.equal(await store.canSee('carol', bytes(16, 5)), false);
    assert.deepEqual(
      (await store.listVisible('carol')).map((i) => `${i.owner}/${i.name}`),
      ['bob/sun', 'alice/sun'],
    );
    assert.equal((await store.listVisible('bob')).length, 3);
    assert.equal(await store.getKey(bytes(16, 5), 'carol'), undefined);
    await store.addKeys(bytes(16, 5), [grant('carol')]);
    assert.equal(await store.canSee('carol', bytes(16, 5)), true);
  });

  it('errors inside the worker come back as rejections, not crashes', async () => {
    await assert.rejects(store.putImage(image(6, 'nobody', 'x', 'public'), [], false));
    assert.equal(await store.createUser(user('dave', 11)), 'created');
  });
});
