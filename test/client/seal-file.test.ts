import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { sealFile, type SealJob } from '../../src/client/seal-file.js';
import {
  CHUNK_SIZE,
  EnvelopeDecryptor,
  generateContentKey,
  sealedLength,
} from '../../src/crypto/envelope.js';
import { envelopeContext } from '../../src/crypto/manifest.js';
import { nodeAes256Gcm } from '../../src/node/aead.js';
import { FramePool, HEADER_ROOM } from '../../src/node/frame-pool.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'sisp-seal-'));
after(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function collect(job: SealJob): Promise<{ frames: Uint8Array[]; digest: Uint8Array }> {
  const frames: Uint8Array[] = [];
  const generator = sealFile(job);
  for (;;) {
    const next = await generator.next();
    if (next.done === true) return { frames, digest: next.value };
    frames.push(next.value);
  }
}

/** A job over `bytes` written to a new file (none: no file), declaring `size`. */
function jobFor(
  name: string,
  bytes: Uint8Array | undefined,
  size: number,
  capacity: number,
): SealJob {
  const path = join(dir, name);
  if (bytes !== undefined) writeFileSync(path, bytes);
  return { path, key: generateContentKey(), imageId: randomBytes(16), size, capacity };
}

async function open(job: SealJob, envelope: Uint8Array): Promise<Uint8Array> {
  const decryptor = new EnvelopeDecryptor({
    key: job.key,
    context: envelopeContext(job.imageId),
    aead: nodeAes256Gcm,
  });
  return concatBytes(...(await decryptor.update(envelope)), ...(await decryptor.finish()));
}

describe('sealFile: a file into post.chunk frame payloads', () => {
  // Sealed lengths around the frame capacity: one byte short, exact, one over, and two frames.
  const capacity = 64 * 1024;
  const sizes = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5];
  for (const target of [capacity - 1, capacity, capacity + 1, 2 * capacity]) {
    // The plaintext size whose sealed length is nearest to the target from below.
    let size = target;
    while (sealedLength(size) > target) size--;
    sizes.push(size);
  }

  for (const size of sizes) {
    it(`${size} bytes: frames hold the envelope, each with room for a header`, async () => {
      const plaintext = randomBytes(size);
      const job = jobFor(`plain-${size}`, plaintext, size, capacity);
      const { frames, digest } = await collect(job);
      for (const frame of frames) {
        assert.ok(frame.length > HEADER_ROOM, 'no empty frames');
        assert.ok(frame.length <= HEADER_ROOM + capacity, 'no frame over capacity');
      }
      const envelope = concatBytes(...frames.map((frame) => frame.subarray(HEADER_ROOM)));
      assert.equal(envelope.length, sealedLength(size));
      assert.equal(frames.length, Math.ceil(envelope.length / capacity));
      assert.deepEqual(digest, new Uint8Array(createHash('sha256').update(envelope).digest()));
      assert.deepEqual(await open(job, envelope), new Uint8Array(plaintext));
    });
  }

  it('a file larger than declared (it grew) is refused', async () => {
    const job = jobFor('grew', randomBytes(100_000), 50_000, capacity);
    await assert.rejects(collect(job), (error: unknown) => isSispError(error, 'E_BAD_REQUEST'));
  });

  it('a file smaller than declared (it shrank) yields fewer bytes, for the caller to refuse', async () => {
    const job = jobFor('shrank', randomBytes(50_000), 100_000, capacity);
    const { frames } = await collect(job);
    const total = frames.reduce((sum, frame) => sum + frame.length - HEADER_ROOM, 0);
    assert.equal(total, sealedLength(50_000));
    assert.ok(total < sealedLength(100_000));
  });

  it('a missing file fails with its errno code', async () => {
    const job = jobFor('missing', undefined, 10, capacity);
    await assert.rejects(collect(job), { code: 'ENOENT' });
  });
});

describe('FramePool: full frames reused once sent', () => {
  it('hands back full frames, not others, and keeps only a few', () => {
    const pool = new FramePool(1000);
    const full = pool.take(HEADER_ROOM + 1000);
    const short = pool.take(HEADER_ROOM + 10);
    assert.equal(full.length, HEADER_ROOM + 1000);
    assert.equal(short.length, HEADER_ROOM + 10);
    pool.give(short);
    pool.give(full);
    assert.equal(pool.take(HEADER_ROOM + 1000), full);
    assert.notEqual(pool.take(HEADER_ROOM + 10), short);
    const many = Array.from({ length: 20 }, () => pool.take(HEADER_ROOM + 1000));
    for (const frame of many) pool.give(frame);
    const reused = Array.from({ length: 20 }, () => pool.take(HEADER_ROOM + 1000)).filter((frame) =>
      many.includes(frame),
    );
    assert.ok(reused.length > 0 && reused.length < 20, `kept ${reused.length} of 20`);
  });

  it('a multi-frame file sealed through a pool, frames given back as sent, opens intact', async () => {
    // Several 1 MiB reads, several frames each: later reads fill frames given back.
    const size = 5 * 1024 * 1024 + 77;
    const plaintext = randomBytes(size);
    const job = jobFor('pooled', plaintext, size, 262_144);
    const pool = new FramePool(job.capacity);
    const sent: Uint8Array[] = [];
    const seen = new Set<Uint8Array>();
    const generator = sealFile(job, pool);
    let digest: Uint8Array | undefined;
    while (digest === undefined) {
      const next = await generator.next();
      if (next.done === true) digest = next.value;
      else {
        seen.add(next.value);
        // A copy of what the socket would have taken (Buffer's slice() would be a view).
        sent.push(new Uint8Array(next.value.subarray(HEADER_ROOM)));
        pool.give(next.value);
      }
    }
    assert.ok(seen.size < sent.length, 'buffers were reused');
    const envelope = concatBytes(...sent);
    assert.deepEqual(digest, new Uint8Array(createHash('sha256').update(envelope).digest()));
    assert.deepEqual(await open(job, envelope), new Uint8Array(plaintext));
  });
});
