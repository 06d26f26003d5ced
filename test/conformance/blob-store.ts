/**
 * The BlobStore conformance suite: what every implementation of the BlobStore port
 * must do (files now; S3 runs the same). Each test gets a fresh, empty store.
 */
import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { isSispError } from '../../src/protocol/errors.js';
import type { BlobStore, ListedBlob } from '../../src/server/blobs/types.js';

export interface BlobStoreFixture {
  readonly blobs: BlobStore;
  /** Closes and reopens the same store (durability; uncommitted uploads are discarded). */
  reopen(): Promise<BlobStore>;
  dispose(): Promise<void>;
}

/** A key as the server draws one for each upload. */
const newKey = (): string => randomBytes(16).toString('hex');

async function keys(blobs: BlobStore): Promise<string[]> {
  const out: string[] = [];
  for await (const { key } of blobs.list()) out.push(key);
  return out.sort();
}

async function readAll(blobs: BlobStore, key: string): Promise<Uint8Array> {
  const reader = await blobs.open(key);
  try {
    const out = new Uint8Array(reader.length);
    assert.equal(await reader.read(out, 0), reader.length);
    return out;
  } finally {
    await reader.close();
  }
}

async function put(
  blobs: BlobStore,
  content: Uint8Array,
  pieces = 3,
  key = newKey(),
): Promise<string> {
  const upload = await blobs.begin(key);
  assert.equal(upload.key, key);
  const step = Math.max(1, Math.ceil(content.length / pieces));
  const writes: Promise<void>[] = [];
  for (let at = 0; at < content.length; at += step)
    writes.push(upload.append(content.subarray(at, at + step)));
  await Promise.all(writes);
  assert.equal(upload.length, content.length);
  await upload.commit();
  return key;
}

export function blobStoreConformance(name: string, open: () => Promise<BlobStoreFixture>): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let fixture: BlobStoreFixture;
    let blobs: BlobStore;
    beforeEach(async () => {
      fixture = await open();
      blobs = fixture.blobs;
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('appends in call order, even when not awaited one by one, and reads back exactly', async () => {
      const content = randomBytes(3 * 1024 * 1024 + 17);
      const key = await put(blobs, content, 40);
      assert.deepEqual(await readAll(blobs, key), new Uint8Array(content));
      assert.deepEqual(await keys(blobs), [key]);
    });

    it('an empty blob, and a one-byte blob', async () => {
      const empty = await put(blobs, new Uint8Array(0));
      const one = await put(blobs, Uint8Array.of(7));
      assert.equal((await readAll(blobs, empty)).length, 0);
      assert.deepEqual(await readAll(blobs, one), Uint8Array.of(7));
    });

    it('range reads at the boundaries: first byte, last byte, across, past the end', async () => {
      const content = randomBytes(100_000);
      const key = await put(blobs, content);
      const reader = await blobs.open(key);
      try {
        assert.equal(reader.length, content.length);
        const cases: [number, number][] = [
          [0, 1],
          [content.length - 1, 1],
          [16_383, 16_402],
          [50_000, 50_000],
          [0, content.length],
        ];
        for (const [position, length] of cases) {
          const target = new Uint8Array(length);
          assert.equal(await reader.read(target, position), length);
          assert.deepEqual(target, new Uint8Array(content.subarray(position, position + length)));
        }
        const beyond = new Uint8Array(10);
        assert.equal(await reader.read(beyond, content.length - 4), 4, 'short only at the end');
        assert.equal(await reader.read(beyond, content.length), 0);
      } finally {
        await reader.close();
      }
    });

    it('nothing is visible before commit, and an aborted upload leaves nothing', async () => {
      const content = randomBytes(5000);
      const upload = await blobs.begin(newKey());
      await upload.append(content);
      assert.deepEqual(await keys(blobs), []);
      await assert.rejects(blobs.open(upload.key), (e: unknown) => isSispError(e, 'E_NOT_FOUND'));
      await upload.abort();
      await upload.abort();
      assert.deepEqual(await keys(blobs), []);
    });

    it('a missing blob: open is E_NOT_FOUND, remove is not an error', async () => {
      const missing = newKey();
      await assert.rejects(blobs.open(missing), (e: unknown) => isSispError(e, 'E_NOT_FOUND'));
      await blobs.remove(missing);
    });

    it('the same content uploaded twice is two blobs; removing one leaves the other', async () => {
      const content = randomBytes(1000);
      const first = await put(blobs, content);
      const second = await put(blobs, content);
      assert.deepEqual(await keys(blobs), [first, second].sort());
      await blobs.remove(first);
      assert.deepEqual(await keys(blobs), [second]);
      await assert.rejects(blobs.open(first), (e: unknown) => isSispError(e, 'E_NOT_FOUND'));
      assert.deepEqual(await readAll(blobs, second), new Uint8Array(content));
    });

    it('blobs under a digest (as older versions named them) are read, listed and removed', async () => {
      const content = randomBytes(3000);
      const legacy = createHash('sha256').update(content).digest('hex');
      await put(blobs, content, 2, legacy);
      assert.deepEqual(await keys(blobs), [legacy]);
      assert.deepEqual(await readAll(blobs, legacy), new Uint8Array(content));
      await blobs.remove(legacy);
      assert.deepEqual(await keys(blobs), []);
    });

    it('many concurrent uploads commit, each under its own key', async () => {
      const contents = Array.from({ length: 48 }, (_, i) => new TextEncoder().encode(`blob ${i}`));
      const committed = await Promise.all(contents.map((content) => put(blobs, content, 2)));
      assert.deepEqual(await keys(blobs), [...committed].sort());
      for (const [i, content] of contents.entries())
        assert.deepEqual(await readAll(blobs, committed[i] ?? ''), content);
    });

    it('committed blobs survive reopening; uploads never committed do not', async () => {
      const kept = await put(blobs, randomBytes(70_000));
      const unfinished = await blobs.begin(newKey());
      await unfinished.append(randomBytes(1000));
      blobs = await fixture.reopen();
      assert.deepEqual(await keys(blobs), [kept]);
      assert.equal((await readAll(blobs, kept)).length, 70_000);
    });

    it('lists when each blob was written, so a collector can spare recent ones', async () => {
      const before = Date.now();
      const key = await put(blobs, randomBytes(1000));
      const after = Date.now();
      const listed: ListedBlob[] = [];
      for await (const blob of blobs.list()) listed.push(blob);
      const [first] = listed;
      assert.ok(first !== undefined && listed.length === 1);
      assert.equal(first.key, key);
      // Object stores keep whole seconds.
      const modified = first.modified;
      assert.ok(
        modified >= before - 1000 && modified <= after + 1000,
        `${modified} not in [${before}, ${after}]`,
      );
    });

    it('keys that are not hex are refused (never a path)', async () => {
      for (const key of ['../../etc/passwd', 'AB'.repeat(16), 'a'.repeat(15), '']) {
        await assert.rejects(blobs.begin(key), key);
        await assert.rejects(blobs.open(key), key);
        await assert.rejects(blobs.remove(key), key);
      }
      assert.deepEqual(await keys(blobs), []);
    });
  });
}
