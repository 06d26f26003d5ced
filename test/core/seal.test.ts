import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  CHUNK_SIZE,
  EnvelopeDecryptor,
  generateContentKey,
  sealedLength,
} from '../../src/crypto/envelope.js';
import { sha256Digest } from '../../src/crypto/hash.js';
import { envelopeContext } from '../../src/crypto/manifest.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { sealFrames, type SealJob } from '../../src/core/seal.js';
import { bytesSource, type ImageSource } from '../../src/core/source.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { FramePool, HEADER_ROOM } from '../../src/protocol/frame-pool.js';
import { BACKENDS } from '../support/backends.js';

async function collect(
  job: SealJob,
  pool?: FramePool,
): Promise<{ frames: Uint8Array[]; digest: Uint8Array }> {
  const frames: Uint8Array[] = [];
  const generator = sealFrames(job, pool);
  for (;;) {
    const next = await generator.next();
    if (next.done === true) return { frames, digest: next.value };
    // A copy of what the transport would have taken (the pool may reuse the buffer).
    frames.push(new Uint8Array(next.value));
    pool?.give(next.value);
  }
}

/** A source that declares `size` but yields `bytes`, in pieces of `piece` bytes. */
function lyingSource(bytes: Uint8Array, size: number, piece = 1 << 20): ImageSource {
  return {
    size,
    contentType: 'image/png',
    read: function* () {
      for (let at = 0; at < bytes.length; at += piece) yield bytes.subarray(at, at + piece);
    },
  };
}

function jobFor(source: ImageSource, capacity: number, crypto = BACKENDS[0]?.crypto): SealJob {
  return {
    source,
    key: generateContentKey(),
    imageId: randomBytes(16),
    capacity,
    ...(crypto === undefined ? {} : { crypto }),
  };
}

async function open(job: SealJob, envelope: Uint8Array): Promise<Uint8Array> {
  const decryptor = new EnvelopeDecryptor({ key: job.key, context: envelopeContext(job.imageId) });
  return concatBytes(...(await decryptor.update(envelope)), ...(await decryptor.finish()));
}

describe('sealFrames: an image source into post.chunk frame payloads', () => {
  // Sealed lengths around the frame capacity: one byte short, exact, one over, and two frames.
  const capacity = 64 * 1024;
  const sizes = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 3 * CHUNK_SIZE + 5];
  for (const target of [capacity - 1, capacity, capacity + 1, 2 * capacity]) {
    // The plaintext size whose sealed length is nearest to the target from below.
    let size = target;
    while (sealedLength(size) > target) size--;
    sizes.push(size);
  }

  for (const { name, crypto } of BACKENDS) {
    for (const size of sizes) {
      it(`${name}, ${size} bytes: frames hold the envelope, each with room for a header`, async () => {
        const plaintext = randomBytes(size);
        const job = jobFor(lyingSource(plaintext, size, 10_000), capacity, crypto);
        const { frames, digest } = await collect(job);
        for (const frame of frames) {
          assert.ok(frame.length > HEADER_ROOM, 'no empty frames');
          assert.ok(frame.length <= HEADER_ROOM + capacity, 'no frame over capacity');
        }
        const envelope = concatBytes(...frames.map((frame) => frame.subarray(HEADER_ROOM)));
        assert.equal(envelope.length, sealedLength(size));
        assert.equal(frames.length, Math.ceil(envelope.length / capacity));
        assert.deepEqual(digest, await sha256Digest(envelope));
        assert.deepEqual(await open(job, envelope), plaintext);
      });
    }
  }

  it('a source that yields more than it declared (it grew) is refused', async () => {
    const job = jobFor(lyingSource(randomBytes(100_000), 50_000), capacity);
    await assert.rejects(collect(job), (error: unknown) => isSispError(error, 'E_BAD_REQUEST'));
  });

  it('a source that yields less (it shrank) gives fewer bytes, for the caller to refuse', async () => {
    const job = jobFor(lyingSource(randomBytes(50_000), 100_000), capacity);
    const { frames } = await collect(job);
    const total = frames.reduce((sum, frame) => sum + frame.length - HEADER_ROOM, 0);
    assert.equal(total, sealedLength(50_000));
    assert.ok(total < sealedLength(100_000));
  });

  it('a byte-at-a-time source seals to the same plaintext', async () => {
    const plaintext = randomBytes(2 * CHUNK_SIZE + 3);
    const job = jobFor(lyingSource(plaintext, plaintext.length, 1), 4096);
    const { frames } = await collect(job);
    const envelope = concatBytes(...frames.map((frame) => frame.subarray(HEADER_ROOM)));
    assert.deepEqual(await open(job, envelope), plaintext);
  });

  it('bytesSource refuses bytes that are not one of the four image formats', () => {
    assert.throws(
      () => bytesSource(new Uint8Array([1, 2, 3])),
      (e: unknown) => isSispError(e, 'E_BAD_REQUEST'),
    );
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

  it('a multi-frame image sealed through a pool, frames given back as sent, opens intact', async () => {
    const size = 5 * 1024 * 1024 + 77;
    const plaintext = randomBytes(size);
    const job = jobFor(lyingSource(plaintext, size), 262_144);
    const pool = new FramePool(job.capacity);
    const seen = new Set<Uint8Array>();
    const sent: Uint8Array[] = [];
    const generator = sealFrames(job, pool);
    let digest: Uint8Array | undefined;
    while (digest === undefined) {
      const next = await generator.next();
      if (next.done === true) digest = next.value;
      else {
        seen.add(next.value);
        sent.push(new Uint8Array(next.value.subarray(HEADER_ROOM)));
        pool.give(next.value);
      }
    }
    assert.ok(seen.size < sent.length, 'buffers were reused');
    const envelope = concatBytes(...sent);
    assert.deepEqual(digest, await sha256Digest(envelope));
    assert.deepEqual(await open(job, envelope), plaintext);
  });
});
