/**
 * An ImageSource over a file: opened once (its size from the open handle, so the
 * size declared is the size of the file read), then read in READ_SIZE pieces
 * through two buffers used in turn: the next read runs while the current piece is
 * sealed, and nothing is allocated per read.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { ImageSource } from '../core/source.js';
import type { ContentType } from '../protocol/messages.js';

const READ_SIZE = 1024 * 1024;

async function* readPieces(handle: FileHandle, size: number): AsyncGenerator<Uint8Array> {
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
  }
}

export interface FileSource extends ImageSource {
  close(): Promise<void>;
}

/** Opens `path` as the source of a post; the caller closes it. */
export async function openFileSource(path: string, contentType: ContentType): Promise<FileSource> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    return {
      size,
      contentType,
      read: () => readPieces(handle, size),
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}
