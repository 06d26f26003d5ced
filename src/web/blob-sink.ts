/**
 * An ImageSink that keeps a download as a Blob: each batch of verified plaintext
 * becomes a Blob part at once, so the bytes leave the JavaScript heap as they
 * arrive (the browser keeps blob data in its own store, on disk when large) and the
 * page's memory stays bounded by the transfer window, not the image. Nothing is
 * readable until commit(): a download that fails verification leaves no Blob and
 * no URL behind.
 */
import type { ImageSink, SinkImage } from '../core/sink.js';
import { sispError } from '../protocol/errors.js';

export interface BlobSinkOptions {
  /** Largest image kept (default 4 GiB); larger ones are refused before any byte. */
  readonly maxBytes?: number;
}

export function blobSink(options: BlobSinkOptions = {}): ImageSink<Blob> {
  const maxBytes = options.maxBytes ?? 4 * 1024 * 1024 * 1024;
  let parts: Blob[] = [];
  let type = 'application/octet-stream';
  return {
    begin(image: SinkImage) {
      if (image.manifest.size > maxBytes)
        return Promise.reject(sispError('E_TOO_LARGE', 'the image is too large to keep here'));
      type = image.manifest.type;
      return Promise.resolve();
    },
    write(pieces) {
      // The Blob copies them into the browser's blob store: the pieces can be freed now.
      // (Decrypted pieces are always ArrayBuffer-backed, never shared memory.)
      parts.push(new Blob([...pieces] as Uint8Array<ArrayBuffer>[]));
      return Promise.resolve();
    },
    commit() {
      const blob = new Blob(parts, { type });
      parts = [];
      return Promise.resolve(blob);
    },
    abort() {
      parts = [];
      return Promise.resolve();
    },
  };
}
