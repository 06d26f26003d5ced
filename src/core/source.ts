/**
 * The ImageSource port: the plaintext of an image to post, read once, in order.
 * The Node adapter reads a file (client/file-source.ts); a browser reads a File's
 * stream (streamSource); tests and small images use bytesSource.
 */
import { checkBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { ContentType } from '../protocol/messages.js';

export interface ImageSource {
  /** Plaintext size in bytes, declared in post.begin before any byte is read. */
  readonly size: number;
  readonly contentType: ContentType;
  /**
   * The plaintext, in pieces. A piece may be reused by the source once the next one
   * is asked for. Yielding more or fewer than `size` bytes fails the post.
   */
  read(): AsyncIterable<Uint8Array> | Iterable<Uint8Array>;
}

/**
 * The image format from its first bytes (magic numbers), or undefined. Only the
 * four formats sisp accepts; the name or extension is never trusted.
 */
export function sniffContentType(head: Uint8Array): ContentType | undefined {
  checkBytes('head', head);
  const starts = (...bytes: number[]): boolean => bytes.every((byte, i) => head[i] === byte);
  const ascii = (at: number, text: string): boolean => {
    for (let i = 0; i < text.length; i++) if (head[at + i] !== text.charCodeAt(i)) return false;
    return true;
  };
  if (starts(0xff, 0xd8, 0xff)) return 'image/jpeg';
  if (starts(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)) return 'image/png';
  if (ascii(0, 'GIF87a') || ascii(0, 'GIF89a')) return 'image/gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'image/webp';
  return undefined;
}

function requireImage(head: Uint8Array): ContentType {
  const type = sniffContentType(head);
  if (type === undefined)
    throw sispError('E_BAD_REQUEST', 'not an image sisp accepts (JPEG, PNG, GIF or WebP)');
  return type;
}

/** An image already in memory. */
export function bytesSource(bytes: Uint8Array, contentType?: ContentType): ImageSource {
  checkBytes('bytes', bytes);
  return {
    size: bytes.length,
    contentType: contentType ?? requireImage(bytes.subarray(0, 16)),
    read: () => [bytes],
  };
}

/** A web stream's chunks as an async iterable (Chromium's streams are not iterable yet). */
export async function* chunksOf(stream: ReadableStream<Uint8Array>): AsyncGenerator<Uint8Array> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

/** A web stream of known size (a browser File: `file.stream()`, `file.size`). */
export function streamSource(
  open: () => ReadableStream<Uint8Array>,
  size: number,
  contentType: ContentType,
): ImageSource {
  if (!Number.isSafeInteger(size) || size < 0) throw new TypeError('size must be a byte count');
  return {
    size,
    contentType,
    read: () => chunksOf(open()),
  };
}
