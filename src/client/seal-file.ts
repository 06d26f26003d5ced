/**
 * Seals a file into the payloads of post.chunk frames: reads it, encrypts it as a
 * C2SP envelope, hashes the envelope, and packs the sealed bytes into frame buffers
 * with room for the frame header in front, so the sender never copies them again.
 * (Running this in a worker thread was measured and gave nothing: the two cores are
 * already saturated by both ends, see bench/README.md.)
 */
import { open } from 'node:fs/promises';
import { EnvelopeEncryptor, sealedLength } from '../crypto/envelope.js';
import { envelopeContext } from '../crypto/manifest.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import { FramePool, HEADER_ROOM } from '../node/frame-pool.js';
import { sispError } from '../protocol/errors.js';

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

/**
 * The file in READ_SIZE pieces through two buffers used in turn: the next read runs
 * while the current piece is sealed, and nothing is allocated per read. A piece is
 * valid only until the next one is asked for.
 */
async function* readPieces(path: string, size: number): AsyncGenerator<Uint8Array> {
  const handle = await open(path, 'r');
  const length = Math.max(1, Math.min(READ_SIZE, size));
  const buffers = [Buffer.allocUnsafeSlow(length), Buffer.allocUnsafeSlow(length)] as const;
  let position = 0;
  let turn = 0;
  let reading = handle.read(buffers[0], 0, length, 0);
  try {
    for (;;) {
      const { bytesRead, buffer } = await reading;
      if (bytesRead === 0) return;
      position += bytesRead;
      turn ^= 1;
      reading = handle.read(buffers[turn] ?? buffers[0], 0, length, position);
      yield buffer.subarray(0, bytesRead);
    }
  } finally {
    await reading.catch(() => undefined);
    await handle.close();
  }
}

/** Yields frame buffers (HEADER_ROOM free bytes, then sealed data); returns the envelope's SHA-256. */
export async function* sealFile(
  job: SealJob,
  pool = new FramePool(job.capacity),
): AsyncGenerator<Uint8Array, Uint8Array> {
  const ctLength = sealedLength(job.size);
  const hasher = nodeSha256();
  // Small images get a frame their size, not a full one: less to allocate and collect.
  const newFrame = (): Uint8Array =>
    pool.take(HEADER_ROOM + Math.max(1, Math.min(job.capacity, ctLength - packed)));
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
  for await (const piece of readPieces(job.path, job.size)) {
    for (const sealed of await encryptor.update(piece)) pack(sealed);
    yield* full.splice(0);
  }
  pack(await encryptor.finish());
  yield* full.splice(0);
  // Only if the file shrank: the caller sees the short total and refuses the post.
  if (filled > 0) yield frame.subarray(0, HEADER_ROOM + filled);
  return hasher.digest();
}
