/**
 * Seals an image source into the payloads of post.chunk frames: encrypts it as a
 * C2SP envelope, hashes the envelope, and packs the sealed bytes into frame buffers
 * with room for the frame header in front, so the sender never copies them again.
 * (Running this in a worker thread was measured and gave nothing on Node: the two
 * cores are already saturated by both ends, see bench/README.md.)
 */
import { EnvelopeEncryptor, sealedLength } from '../crypto/envelope.js';
import { envelopeContext } from '../crypto/manifest.js';
import { sispError } from '../protocol/errors.js';
import { FramePool, HEADER_ROOM } from '../protocol/frame-pool.js';
import { WEB_CRYPTO, type CryptoBackend } from './platform.js';
import type { ImageSource } from './source.js';

export interface SealJob {
  readonly source: ImageSource;
  readonly key: Uint8Array;
  readonly imageId: Uint8Array;
  /** Sealed bytes per frame. */
  readonly capacity: number;
  readonly crypto?: CryptoBackend;
}

const grew = (): Error =>
  sispError('E_BAD_REQUEST', 'the image grew while it was being uploaded; nothing was posted');

/** Packs sealed pieces into frame buffers of `capacity` data bytes after HEADER_ROOM. */
class FramePacker {
  readonly full: Uint8Array[] = [];
  #frame: Uint8Array;
  #filled = 0;
  #packed = 0;

  constructor(
    readonly total: number,
    readonly capacity: number,
    readonly pool: FramePool,
  ) {
    this.#frame = this.#newFrame();
  }

  // Small images get a frame their size, not a full one: less to allocate and collect.
  #newFrame(): Uint8Array {
    return this.pool.take(
      HEADER_ROOM + Math.max(1, Math.min(this.capacity, this.total - this.#packed)),
    );
  }

  pack(piece: Uint8Array): void {
    if (this.#packed + this.#filled + piece.length > this.total) throw grew();
    let offset = 0;
    while (offset < piece.length) {
      const room = this.#frame.length - HEADER_ROOM;
      const take = Math.min(room - this.#filled, piece.length - offset);
      this.#frame.set(piece.subarray(offset, offset + take), HEADER_ROOM + this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === room) {
        this.full.push(this.#frame);
        this.#packed += this.#filled;
        this.#filled = 0;
        if (this.#packed < this.total) this.#frame = this.#newFrame();
      }
    }
  }

  /** A partly filled last frame: only when the source yielded fewer bytes than declared. */
  rest(): Uint8Array | undefined {
    return this.#filled > 0 ? this.#frame.subarray(0, HEADER_ROOM + this.#filled) : undefined;
  }
}

/** Yields frame buffers (HEADER_ROOM free bytes, then sealed data); returns the envelope's SHA-256. */
export async function* sealFrames(
  job: SealJob,
  pool = new FramePool(job.capacity),
): AsyncGenerator<Uint8Array, Uint8Array> {
  const crypto = job.crypto ?? WEB_CRYPTO;
  const hasher = crypto.sha256();
  const packer = new FramePacker(sealedLength(job.source.size), job.capacity, pool);
  const pack = (piece: Uint8Array): void => {
    packer.pack(piece);
    hasher.update(piece);
  };
  const encryptor = await EnvelopeEncryptor.create({
    key: job.key,
    context: envelopeContext(job.imageId),
    aead: crypto.aead,
  });
  pack(encryptor.header());
  for await (const piece of job.source.read()) {
    for (const sealed of await encryptor.update(piece)) pack(sealed);
    yield* packer.full.splice(0);
  }
  pack(await encryptor.finish());
  yield* packer.full.splice(0);
  // Only if the source shrank: the caller sees the short total and refuses the post.
  const rest = packer.rest();
  if (rest !== undefined) yield rest;
  return hasher.digest();
}
