import { strict as assert } from 'node:assert';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DirectorySync } from '../../src/server/blobs/directory-sync.js';
import { FileBlobStore } from '../../src/server/blobs/file-blob-store.js';
import { blobStoreConformance } from '../conformance/blob-store.js';

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

let count = 0;
const root = mkdtempSync(join(tmpdir(), 'sisp-blobs-'));
after(() => {
  rmSync(root, { recursive: true, force: true });
});

blobStoreConformance('FileBlobStore', async () => {
  const dir = join(root, `data-${count++}`);
  let blobs = await FileBlobStore.open(dir);
  return {
    blobs,
    async reopen() {
      await blobs.close();
      blobs = await FileBlobStore.open(dir);
      return blobs;
    },
    dispose: () => blobs.close(),
  };
});

describe('FileBlobStore: files on disk', () => {
  it('no temporary file is left after commits and aborts', async () => {
    const dir = join(root, 'tmp-check');
    const blobs = await FileBlobStore.open(dir);
    const kept = await blobs.begin('a'.repeat(32));
    await kept.append(Uint8Array.of(1, 2, 3));
    await kept.commit();
    const dropped = await blobs.begin('b'.repeat(32));
    await dropped.append(Uint8Array.of(4));
    await dropped.abort();
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    assert.deepEqual(readdirSync(join(dir, 'blobs', 'aa')), ['a'.repeat(30)]);
  });
});
