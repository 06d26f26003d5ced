import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BlobStore, DirectorySync } from '../../src/server/blobs.js';

/** An fsync that only finishes when the test says so, recording when each one started. */
function controlledFsync() {
  const started: { dir: string; finish: (error?: Error) => void }[] = [];
  const fsync = (dir: string) =>
    new Promise<void>((resolve, reject) => {
      started.push({
        dir,
        finish: (error) => {
          if (error === undefined) resolve();
          else reject(error);
        },
      });
    });
  return { started, fsync };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('DirectorySync (group commit for directory entries)', () => {
  it('callers during a running fsync share the single next one, which starts after them', async () => {
    const { started, fsync } = controlledFsync();
    const sync = new DirectorySync(fsync);
    const settled: string[] = [];
    const first = sync.sync('/d').then(() => settled.push('first'));
    await tick();
    assert.equal(started.length, 1);
    const later = [1, 2, 3].map((n) => sync.sync('/d').then(() => settled.push(`later${n}`)));
    await tick();
    assert.equal(started.length, 1, 'no second fsync while the first runs');
    started[0]?.finish();
    await first;
    await tick();
    assert.deepEqual(settled, ['first'], 'the later callers wait for an fsync begun after them');
    assert.equal(started.length, 2, 'one fsync for all three later callers');
    started[1]?.finish();
    await Promise.all(later);
    assert.deepEqual(settled.sort(), ['first', 'later1', 'later2', 'later3']);
  });

  it('directories are independent, and a failure reaches everyone who shared it', async () => {
    const { started, fsync } = controlledFsync();
    const sync = new DirectorySync(fsync);
    const a = sync.sync('/a');
    const b = sync.sync('/b');
    await tick();
    assert.deepEqual(
      started.map((s) => s.dir),
      ['/a', '/b'],
    );
    const a2 = sync.sync('/a');
    const a3 = sync.sync('/a');
    started[0]?.finish(new Error('EIO'));
    await assert.rejects(a, /EIO/);
    await tick();
    started[2]?.finish(new Error('EIO again'));
    await assert.rejects(a2, /EIO again/);
    await assert.rejects(a3, /EIO again/);
    started[1]?.finish();
    await b;
    // Afterwards a fresh call starts a fresh fsync.
    const a4 = sync.sync('/a');
    await tick();
    assert.equal(started.length, 4);
    started[3]?.finish();
    await a4;
  });
});

describe('BlobStore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sisp-blobs-'));
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits many concurrent uploads into place, each under its digest', async () => {
    const store = await BlobStore.open(dir);
    // 64 blobs over few prefixes: many commits race for the same directory's fsync.
    const contents = Array.from({ length: 64 }, (_, i) => new TextEncoder().encode(`blob ${i}`));
    await Promise.all(
      contents.map(async (content) => {
        const writer = await store.begin();
        await writer.write(content.subarray(0, 3));
        await writer.write(content.subarray(3));
        const digest = writer.digest();
        assert.deepEqual(digest, new Uint8Array(createHash('sha256').update(content).digest()));
        await writer.commit(digest);
      }),
    );
    for (const content of contents) {
      const digest = createHash('sha256').update(content).digest();
      assert.deepEqual(readFileSync(store.path(digest)), Buffer.from(content));
    }
    assert.equal((await store.list()).length, 64);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), [], 'no temporary files left');
  });

  it('an aborted upload leaves nothing behind', async () => {
    const store = await BlobStore.open(dir);
    const before = await store.list();
    const writer = await store.begin();
    await writer.write(new Uint8Array(100));
    await writer.abort();
    assert.deepEqual(await store.list(), before);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
  });
});
