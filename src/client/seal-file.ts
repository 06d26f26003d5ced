/**
 * Seals a file into the payloads of post.chunk frames: reads it, encrypts it as a
 * C2SP envelope, hashes the envelope, and packs the sealed bytes into frame buffers
 * with room for the frame header in front, so the sender never copies them again.
 * (Running this in a worker thread was measured and gave nothing: the two cores are
 * already saturated by both ends, see bench/README.md.)
 */
import { createReadStream } from 'node:fs';
import { EnvelopeEncryptor, sealedLength } from '../crypto/envelope.js';
import { envelopeContext } from '../crypto/manifest.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import { sispError } from '../protocol/errors.js';

/** Room for a chunk frame's header (at most 33 bytes) in front of its data. */
export const HEADER_ROOM = 48;
const READ_SIZE = 1024 * 1024;

export interface SealJob {
  readonly path: string;
  readonly key: Uint8Array;
  readonly imageId: Uint8Array;
  /** The plaintext size declared in post.begin. */
  readonly size: number;
  /** Sealed bytes per frame. */
  readonly capacity: number;
}

/** Yields frame buffers (HEADER_ROOM free bytes, then sealed data); returns the envelope's SHA-256. */
export async function* sealFile(job: SealJob): AsyncGenerator<Uint8Array, Uint8Array> {
  const ctLength = sealedLength(job.size);
  const hasher = nodeSha256();
  // Small images get a frame their size, not a full one: less to allocate and collect.
  const newFrame = (): Uint8Array =>
    Buffer.allocUnsafe(HEADER_ROOM + Math.max(1, Math.min(job.capacity, ctLength - packed)));
  let packed = 0;
  let frame = newFrame();
  let filled = 0;
  const full: Uint8Array[] = [];

  const pack = (piece: Uint8Array): void => {
    if (packed + filled + piece.length > ctLength)
      throw sispError('E_BAD_REQUEST', 'the file grew while it was being uploaded');
    hasher.update(piece);
    let offset = 0;
    while (offset < piece.length) {
      const room = frame.length - HEADER_ROOM;
      const take = Math.min(room - filled, piece.length - offset);
      frame.set(piece.subarray(offset, offset + take), HEADER_ROOM + filled);
      filled += take;
      offset += take;
      if (filled === room) {
        full.push(frame);
        packed += filled;
        filled = 0;
        if (packed < ctLength) frame = newFrame();
      }
    }
  };

  const encryptor = await EnvelopeEncryptor.create({
    key: job.key,
    context: envelopeContext(job.imageId),
    aead: nodeAes256Gcm,
  });
  pack(encryptor.header());
  for await (const piece of createReadStream(job.path, {
    highWaterMark: Math.max(1, Math.min(READ_SIZE, job.size)),
  }) as AsyncIterable<Buffer>) {
    for (const sealed of await encryptor.update(piece)) pack(sealed);
    yield* full.splice(0);
  }
  pack(await encryptor.finish());
  yield* full.splice(0);
  // Only if the file shrank: the caller sees the short total and refuses the post.
  if (filled > 0) yield frame.subarray(0, HEADER_ROOM + filled);
  return hasher.digest();
}
