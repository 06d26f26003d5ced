/**
 * The ImageSink port: where a download's plaintext goes. Nothing reaches a sink
 * before the owner's certificate, the manifest and its signature have verified,
 * only authenticated chunks are written, and only commit() makes the image appear
 * (after the length and digest checks); abort() discards everything. The Node
 * adapter writes a temporary file and renames it (client/file-sink.ts); a browser
 * streams to a file or collects a Blob; memorySink keeps bytes.
 */
import type { Manifest } from '../crypto/manifest.js';
import { concatBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';

export interface SinkImage {
  readonly manifest: Manifest;
  /** The owner's readable key fingerprint, checked against the pin. */
  readonly ownerFingerprint: string;
}

export interface ImageSink<R> {
  /** The verified description, before any plaintext. */
  begin(image: SinkImage): Promise<void>;
  /**
   * Pieces of plaintext, in order (one call per envelope piece received, often many
   * 16 KiB chunks, so a file can take them in one write). May be called again before
   * an earlier call resolves; each resolves once the sink is finished with those
   * bytes (that is when their credit goes back to the server, so a slow sink slows
   * the transfer, not memory).
   */
  write(pieces: readonly Uint8Array[]): Promise<void>;
  /** Every check passed: the image appears. */
  commit(): Promise<R>;
  /** Something failed: nothing written so far may remain. */
  abort(): Promise<void>;
}

/** Keeps the plaintext in memory (images up to `maxBytes`). */
export function memorySink(maxBytes = 64 * 1024 * 1024): ImageSink<Uint8Array> {
  let parts: Uint8Array[] = [];
  let length = 0;
  return {
    begin(image) {
      if (image.manifest.size > maxBytes)
        return Promise.reject(sispError('E_TOO_LARGE', 'the image is too large to hold in memory'));
      return Promise.resolve();
    },
    write(pieces) {
      for (const piece of pieces) length += piece.length;
      if (length > maxBytes)
        return Promise.reject(sispError('E_TOO_LARGE', 'the image is too large to hold in memory'));
      parts.push(...pieces);
      return Promise.resolve();
    },
    commit() {
      const bytes = concatBytes(...parts);
      parts = [];
      return Promise.resolve(bytes);
    },
    abort() {
      parts = [];
      length = 0;
      return Promise.resolve();
    },
  };
}
