/**
 * Blobs as files: DATA/blobs/ab/cdef... named by key. An upload streams into
 * DATA/tmp with positional writes (several in flight), is fsynced, renamed into
 * place and its directory fsynced: after commit() the blob survives a crash.
 * Blobs hold only ciphertext.
 */
import { randomBytes } from 'node:crypto';
import {
  mkdir,
  open,
  readdir,
  rename,
  rm,
  stat,
  statfs,
  unlink,
  type FileHandle,
} from 'node:fs/promises';
import { join } from 'node:path';
import { sispError } from '../../protocol/errors.js';
import { DirectorySync } from './directory-sync.js';
import {
  BLOB_KEY_PATTERN,
  type BlobReader,
  type BlobStore,
  type BlobUpload,
  type ListedBlob,
} from './types.js';

/** Start a background flush after this many unflushed bytes. */
const FLUSH_EVERY = 32 * 1024 * 1024;

/** ENOSPC and EDQUOT become E_NO_SPACE; anything else is left as it is. */
function noSpace(error: unknown): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOSPC' || code === 'EDQUOT')
    return sispError('E_NO_SPACE', 'the server is out of storage space; try again later', {
      cause: error,
    });
  return error;
}

function checkKey(key: string): string {
  if (!BLOB_KEY_PATTERN.test(key)) throw sispError('E_INTERNAL', 'invalid blob key');
  return key;
}

export class FileBlobStore implements BlobStore {
  readonly #root: string;
  readonly #tmp: string;
  readonly #directories = new DirectorySync();
  /** At most 256 entries, one per prefix directory seen since start. */
  readonly #prefixes = new Map<string, Promise<void>>();

  private constructor(dataDir: string) {
    this.#root = join(dataDir, 'blobs');
    this.#tmp = join(dataDir, 'tmp');
  }

  static async open(dataDir: string): Promise<FileBlobStore> {
    const store = new FileBlobStore(dataDir);
    await mkdir(store.#root, { recursive: true, mode: 0o700 });
    // Anything left in tmp/ is an upload that never completed: never visible, so discard.
    await rm(store.#tmp, { recursive: true, force: true });
    await mkdir(store.#tmp, { recursive: true, mode: 0o700 });
    return store;
  }

  #path(key: string): string {
    checkKey(key);
    return join(this.#root, key.slice(0, 2), key.slice(2));
  }

  async begin(key: string): Promise<BlobUpload> {
    checkKey(key);
    const path = join(this.#tmp, `${randomBytes(12).toString('hex')}.part`);
    const handle = await open(path, 'wx', 0o600).catch((error: unknown) => {
      throw noSpace(error);
    });
    return new FileUpload(key, handle, path, () => this.#install(path, key));
  }

  async open(key: string): Promise<BlobReader> {
    let handle: FileHandle;
    try {
      handle = await open(this.#path(key), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        throw sispError('E_NOT_FOUND', 'no such blob');
      throw error;
    }
    const { size } = await handle.stat();
    return {
      length: size,
      async read(target, position) {
        let filled = 0;
        while (filled < target.length) {
          const { bytesRead } = await handle.read(
            target,
            filled,
            target.length - filled,
            position + filled,
          );
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return filled;
      },
      close: () => handle.close(),
    };
  }

  async remove(key: string): Promise<void> {
    await unlink(this.#path(key)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  async *list(): AsyncIterable<ListedBlob> {
    for (const prefix of await readdir(this.#root)) {
      for (const rest of await readdir(join(this.#root, prefix))) {
        const key = prefix + rest;
        if (!BLOB_KEY_PATTERN.test(key)) continue;
        const modified = await stat(this.#path(key)).then(
          (stats) => stats.mtimeMs,
          () => undefined,
        );
        // Gone since the directory was read: not there to collect.
        if (modified !== undefined) yield { key, modified };
      }
    }
  }

  async freeSpace(): Promise<number> {
    const stats = await statfs(this.#root);
    return stats.bavail * stats.bsize;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Moves a finished temporary file into place, durably. */
  async #install(temporary: string, key: string): Promise<void> {
    const final = this.#path(key);
    const dir = join(final, '..');
    await this.#prefixDirectory(dir);
    await rename(temporary, final);
    await this.#directories.sync(dir);
  }

  /**
   * Makes sure a prefix directory exists durably. A new one is itself an entry in
   * blobs/, which is fsynced too; a second upload into the same new directory waits
   * for that, rather than seeing the directory exist and racing ahead of its fsync.
   */
  #prefixDirectory(dir: string): Promise<void> {
    let ready = this.#prefixes.get(dir);
    if (ready === undefined) {
      ready = mkdir(dir, { recursive: true, mode: 0o700 }).then(async (created) => {
        if (created !== undefined) await this.#directories.sync(this.#root);
      });
      this.#prefixes.set(dir, ready);
      // A failure is retried by the next upload, not remembered.
      ready.catch(() => this.#prefixes.delete(dir));
    }
    return ready;
  }
}

/**
 * One upload in progress: each append goes to its own file position without
 * waiting for the one before; commit() waits for all of them, fsyncs, and moves
 * the file into place; abort() discards it.
 */
class FileUpload implements BlobUpload {
  readonly key: string;
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #install: () => Promise<void>;
  readonly #pending = new Set<Promise<void>>();
  #length = 0;
  #closed = false;
  #failure: Error | undefined;
  /** Flushing in the background as data arrives, so the final fsync has little left. */
  #flushing: Promise<void> | undefined;
  #unflushed = 0;

  constructor(key: string, handle: FileHandle, path: string, install: () => Promise<void>) {
    this.key = key;
    this.#handle = handle;
    this.#path = path;
    this.#install = install;
  }

  get length(): number {
    return this.#length;
  }

  append(data: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#closed) return Promise.reject(new Error('upload already finished'));
    const position = this.#length;
    this.#length += data.length;
    const written = this.#writeAt(data, position).then(
      () => {
        this.#pending.delete(written);
        this.#flushSometimes(data.length);
      },
      (error: unknown) => {
        this.#pending.delete(written);
        const failure = noSpace(error);
        this.#failure ??= failure instanceof Error ? failure : new Error('write failed');
        throw failure;
      },
    );
    this.#pending.add(written);
    return written;
  }

  async #writeAt(data: Uint8Array, position: number): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(
        data,
        offset,
        data.length - offset,
        position + offset,
      );
      offset += bytesWritten;
    }
  }

  #flushSometimes(bytes: number): void {
    this.#unflushed += bytes;
    if (this.#unflushed < FLUSH_EVERY || this.#flushing !== undefined || this.#closed) return;
    this.#unflushed = 0;
    this.#flushing = this.#handle
      .datasync()
      .catch(() => undefined) // a real failure shows again in commit()'s own sync
      .finally(() => {
        this.#flushing = undefined;
      });
  }

  async #settle(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
    await this.#flushing;
  }

  async commit(): Promise<void> {
    await this.#settle();
    if (this.#failure !== undefined) throw this.#failure;
    if (this.#closed) throw new Error('upload already finished');
    this.#closed = true;
    try {
      await this.#handle.sync();
      await this.#install();
    } catch (error) {
      throw noSpace(error);
    } finally {
      await this.#handle.close().catch(() => undefined);
    }
  }

  async abort(): Promise<void> {
    await this.#settle();
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await unlink(this.#path).catch(() => undefined);
  }
}
