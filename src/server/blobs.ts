/**
 * Content-addressed blob files: DATA/blobs/ab/cdef... named by the SHA-256 of the
 * envelope. An upload streams into DATA/tmp, is hashed as it arrives, fsynced, then
 * renamed into place and the directory fsynced: after commit() returns the blob
 * survives a crash. Blobs hold only ciphertext.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { toHex } from '../protocol/bytes.js';

/** Start a background flush after this many unflushed bytes. */
const FLUSH_EVERY = 32 * 1024 * 1024;

export class BlobStore {
  readonly #root: string;
  readonly #tmp: string;
  readonly #directories = new DirectorySync();
  /** At most 256 entries, one per prefix directory seen since start. */
  readonly #prefixes = new Map<string, Promise<void>>();

  private constructor(dataDir: string) {
    this.#root = join(dataDir, 'blobs');
    this.#tmp = join(dataDir, 'tmp');
  }

  static async open(dataDir: string): Promise<BlobStore> {
    const store = new BlobStore(dataDir);
    await mkdir(store.#root, { recursive: true, mode: 0o700 });
    // Anything left in tmp/ is an upload that never completed: never visible, so discard.
    await rm(store.#tmp, { recursive: true, force: true });
    await mkdir(store.#tmp, { recursive: true, mode: 0o700 });
    return store;
  }

  path(sha256: Uint8Array): string {
    const hex = toHex(sha256);
    return join(this.#root, hex.slice(0, 2), hex.slice(2));
  }

  async begin(): Promise<BlobWriter> {
    const path = join(this.#tmp, `${randomBytes(12).toString('hex')}.part`);
    const handle = await open(path, 'wx', 0o600);
    return new BlobWriter(this, handle, path);
  }

  openForReading(sha256: Uint8Array): Promise<FileHandle> {
    return open(this.path(sha256), 'r');
  }

  async remove(sha256: Uint8Array): Promise<void> {
    await unlink(this.path(sha256)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    });
  }

  /** Digests of every blob file, for garbage collection against the metadata. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const prefix of await readdir(this.#root)) {
      for (const rest of await readdir(join(this.#root, prefix))) out.push(prefix + rest);
    }
    return out;
  }

  /** Moves a finished temporary file into place, durably. */
  async install(temporary: string, sha256: Uint8Array): Promise<void> {
    const final = this.path(sha256);
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

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

interface DirectoryState {
  running: Promise<void> | undefined;
  waiting: Promise<void> | undefined;
}

/**
 * Group commit for directory entries: renames into a directory while its fsync runs
 * share the one fsync that starts next, instead of one fsync each. Every caller gets
 * an fsync that began after it called, which is what makes its rename durable.
 */
export class DirectorySync {
  readonly #dirs = new Map<string, DirectoryState>();
  readonly #fsync: (dir: string) => Promise<void>;

  constructor(fsync: (dir: string) => Promise<void> = fsyncDirectory) {
    this.#fsync = fsync;
  }

  sync(dir: string): Promise<void> {
    let state = this.#dirs.get(dir);
    if (state === undefined) {
      state = { running: undefined, waiting: undefined };
      this.#dirs.set(dir, state);
    }
    if (state.running === undefined) return this.#start(dir, state);
    // The running fsync may have begun before our rename: wait for the next one.
    const start = (): Promise<void> => this.#start(dir, state);
    state.waiting ??= state.running.then(start, start);
    return state.waiting;
  }

  #start(dir: string, state: DirectoryState): Promise<void> {
    state.waiting = undefined;
    const run = this.#fsync(dir).finally(() => {
      if (state.running === run) state.running = undefined;
      if (state.running === undefined && state.waiting === undefined) this.#dirs.delete(dir);
    });
    state.running = run;
    return run;
  }
}

/**
 * One upload in progress. write() takes data in order but does not make the caller
 * wait for the disk: each piece goes to its own file position, several may be in
 * flight, and the hash is taken as the data arrives. commit() waits for all of
 * them, fsyncs, and moves the file into place; abort() discards it.
 */
export class BlobWriter {
  readonly #store: BlobStore;
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #hash: Hash = createHash('sha256');
  readonly #pending = new Set<Promise<void>>();
  #length = 0;
  #closed = false;
  #failure: Error | undefined;
  /** Flushing in the background as data arrives, so the final fsync has little left. */
  #flushing: Promise<void> | undefined;
  #unflushed = 0;

  constructor(store: BlobStore, handle: FileHandle, path: string) {
    this.#store = store;
    this.#handle = handle;
    this.#path = path;
  }

  /** Bytes accepted so far (written or being written). */
  get length(): number {
    return this.#length;
  }

  /** Resolves when this piece is on its way to disk (written to the page cache). */
  write(data: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    const position = this.#length;
    this.#hash.update(data);
    this.#length += data.length;
    const written = this.#writeAt(data, position).then(
      () => {
        this.#pending.delete(written);
        this.#flushSometimes(data.length);
      },
      (error: unknown) => {
        this.#pending.delete(written);
        this.#failure ??= error instanceof Error ? error : new Error('write failed');
        throw error;
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

  /** The digest of everything written; call once, before commit(). */
  digest(): Uint8Array {
    return new Uint8Array(this.#hash.digest());
  }

  async commit(sha256: Uint8Array): Promise<void> {
    await this.#settle();
    if (this.#failure !== undefined) throw this.#failure;
    await this.#handle.sync();
    await this.#handle.close();
    this.#closed = true;
    await this.#store.install(this.#path, sha256);
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
