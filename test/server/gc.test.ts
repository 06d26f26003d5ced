/**
 * The blob garbage collector on the real SQLite store and file blob store: alone, it
 * removes every unreferenced blob; sharing the store with other nodes (a grace
 * period), it spares blobs written recently, which another node may be about to
 * reference, and never one that is referenced.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FileBlobStore } from '../../src/server/blobs/file-blob-store.js';
import { collectGarbage, type ServerContext } from '../../src/server/context.js';
import { createLogger } from '../../src/server/log.js';
import { openSqliteStore } from '../../src/server/store/sqlite-store.js';
import { image, user } from '../conformance/store.js';

async function stored(blobs: FileBlobStore, content: Uint8Array): Promise<string> {
  const upload = await blobs.begin(randomBytes(16).toString('hex'));
  await upload.append(content);
  await upload.commit();
  return upload.key;
}

describe('blob garbage collection', () => {
  it('alone: every unreferenced blob goes; shared: only old ones, and never a referenced one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-gc-'));
    const store = await openSqliteStore(join(dir, 'sisp.db'));
    const blobs = await FileBlobStore.open(dir);
    const log = createLogger(dir, { stdout: false, level: 'silent' });
    const context = { store, blobs, log } as unknown as ServerContext;
    try {
      await store.createUser(user('alice', 1));
      const referenced = image(1, 'alice', 'kept', 'public');
      const keptKey = await stored(blobs, randomBytes(100));
      await store.putImage({ ...referenced, blob: keptKey }, [], false);
      const recent = await stored(blobs, randomBytes(100));
      const old = await stored(blobs, randomBytes(100));
      const hourAgo = (Date.now() - 2 * 60 * 60 * 1000) / 1000;
      utimesSync(join(dir, 'blobs', old.slice(0, 2), old.slice(2)), hourAgo, hourAgo);
      assert.equal(await collectGarbage(context, 60 * 60 * 1000), 1, 'only the old orphan');
      const left = [];
      for await (const { key } of blobs.list()) left.push(key);
      assert.deepEqual(left.sort(), [keptKey, recent].sort());
      assert.equal(await collectGarbage(context), 1, 'alone: the recent orphan too');
      const last = [];
      for await (const { key } of blobs.list()) last.push(key);
      assert.deepEqual(last, [keptKey]);
    } finally {
      await blobs.close();
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
