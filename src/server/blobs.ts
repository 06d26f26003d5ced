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

export class BlobStore {
  readonly #root: string;
  readonly #tmp: string;

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
    await mkdir(dir, { recursive: true, mode: 0o700 });
    await rename(temporary, final);
    await fsyncDirectory(dir);
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

/** One upload in progress: write() in order, then commit() or abort(). */
export class BlobWriter {
  readonly #store: BlobStore;
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #hash: Hash = createHash('sha256');
  #length = 0;
  #closed = false;

  constructor(store: BlobStore, handle: FileHandle, path: string) {
    this.#store = store;
    this.#handle = handle;
    this.#path = path;
  }

  get length(): number {
    return this.#length;
  }

  async write(data: Uint8Array): Promise<void> {
    this.#hash.update(data);
    this.#length += data.length;
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset, data.length - offset);
      offset += bytesWritten;
    }
  }

  /** The digest of everything written; call once, before commit(). */
  digest(): Uint8Array {
    return new Uint8Array(this.#hash.digest());
  }

  async commit(sha256: Uint8Array): Promise<void> {
    await this.#handle.sync();
    await this.#handle.close();
    this.#closed = true;
    await this.#store.install(this.#path, sha256);
  }

  async abort(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      await this.#handle.close().catch(() => undefined);
    }
    await unlink(this.#path).catch(() => undefined);
  }
}
