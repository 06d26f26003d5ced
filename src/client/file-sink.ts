/**
 * An ImageSink to a file: plaintext goes to a new temporary file in the target
 * folder, each piece at its own position without waiting for the one before, with
 * a background flush now and then so the final fsync is short. commit() syncs and
 * renames it to `<name>.<ext>`; abort() removes it. (Running this in a worker
 * thread was measured and gave nothing: downloads here are bound by the disk, see
 * bench/README.md.)
 */
import { randomBytes } from 'node:crypto';
import { link, mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Manifest } from '../crypto/manifest.js';
import type { ImageSink } from '../core/sink.js';
import { sispError } from '../protocol/errors.js';
import type { ContentType } from '../protocol/messages.js';

/** Flush in the background every this many bytes, so the final fsync is short. */
const FLUSH_EVERY = 32 * 1024 * 1024;

export const EXTENSIONS: Record<ContentType, string> = {
  'image/jpeg': 'jpg',
  'image/png': 'png',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

/** `<name>.<ext>`: the file name a verified image is saved under. */
export function fileNameFor(manifest: Manifest): string {
  return `${manifest.name}.${EXTENSIONS[manifest.type]}`;
}

export interface FileSinkOptions {
  /** Replace a file of the same name; otherwise an existing file is never touched (E_EXISTS). */
  readonly replace?: boolean;
  /** The file name to save under, instead of `<name>.<ext>` from the manifest. */
  readonly fileName?: string;
}

export class FileSink implements ImageSink<string> {
  readonly #dir: string;
  readonly #replace: boolean;
  readonly #fileName: string | undefined;
  #file: FileHandle | undefined;
  #temporary: string | undefined;
  #final: string | undefined;
  readonly #pending = new Set<Promise<void>>();
  #position = 0;
  #flushing: Promise<void> | undefined;
  #flushedAt = 0;
  #closed = false;

  /** Saves into `dir` (made 0700 if missing). */
  constructor(dir: string, options: FileSinkOptions = {}) {
    this.#dir = dir;
    this.#replace = options.replace === true;
    this.#fileName = options.fileName;
  }

  async begin({ manifest }: { manifest: Manifest }): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    this.#final = join(this.#dir, this.#fileName ?? fileNameFor(manifest));
    this.#temporary = join(this.#dir, `.${randomBytes(8).toString('hex')}.partial`);
    this.#file = await open(this.#temporary, 'wx', 0o600);
  }

  write(pieces: readonly Uint8Array[]): Promise<void> {
    const file = this.#file;
    if (file === undefined) return Promise.reject(new Error('FileSink: write before begin'));
    const at = this.#position;
    for (const piece of pieces) this.#position += piece.length;
    const pending = writeFully(file, pieces, at).then(() => {
      this.#flushSometimes(file);
    });
    this.#pending.add(pending);
    void pending.catch(() => undefined).finally(() => this.#pending.delete(pending));
    return pending;
  }

  #flushSometimes(file: FileHandle): void {
    if (
      this.#flushing !== undefined ||
      this.#closed ||
      this.#position - this.#flushedAt < FLUSH_EVERY
    )
      return;
    this.#flushedAt = this.#position;
    this.#flushing = file
      .datasync()
      .catch(() => undefined) // the final sync reports any real failure
      .finally(() => {
        this.#flushing = undefined;
      });
  }

  async #settle(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    await this.#flushing;
  }

  /** Everything on disk, then renamed into place; returns the path. */
  async commit(): Promise<string> {
    const file = this.#file;
    const temporary = this.#temporary;
    const final = this.#final;
    if (file === undefined || temporary === undefined || final === undefined)
      throw new Error('FileSink: commit before begin');
    try {
      await this.#settle();
      await file.sync();
      this.#closed = true;
      await file.close();
      await this.#install(temporary, final);
      return final;
    } catch (error) {
      await this.abort();
      throw error;
    }
  }

  /** rename() replaces; link() then unlink() never does (EEXIST if the name is taken). */
  async #install(temporary: string, final: string): Promise<void> {
    if (this.#replace) {
      await rename(temporary, final);
      return;
    }
    try {
      await link(temporary, final);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST')
        throw sispError(
          'E_EXISTS',
          `${final} already exists; use --force to replace it, or --out to save elsewhere`,
        );
      throw error;
    }
    await unlink(temporary);
  }

  async abort(): Promise<void> {
    await this.#settle();
    if (!this.#closed) {
      this.#closed = true;
      await this.#file?.close().catch(() => undefined);
    }
    if (this.#temporary !== undefined) await unlink(this.#temporary).catch(() => undefined);
  }
}

/** One writev at `position`; a short write (rare: a full disk, a signal) continues where it stopped. */
async function writeFully(
  file: FileHandle,
  pieces: readonly Uint8Array[],
  position: number,
): Promise<void> {
  let rest = pieces.filter((piece) => piece.length > 0);
  let at = position;
  while (rest.length > 0) {
    let { bytesWritten } = await file.writev(rest, at);
    at += bytesWritten;
    while (bytesWritten > 0 && rest.length > 0) {
      const [first, ...others] = rest as [Uint8Array, ...Uint8Array[]];
      if (bytesWritten >= first.length) {
        bytesWritten -= first.length;
        rest = others;
      } else {
        rest = [first.subarray(bytesWritten), ...others];
        bytesWritten = 0;
      }
    }
  }
}
