/**
 * The receiving half of a download: hashes the envelope as it arrives, opens it chunk
 * by chunk (plaintext only from authenticated chunks) and writes the plaintext to a
 * new temporary file at its own position without waiting, so the next piece is
 * decrypted meanwhile. The caller checks the digest and renames. (Running this in
 * a worker thread was measured and gave nothing: downloads here are bound by the
 * disk taking the plaintext, see bench/README.md.)
 */
import { open, type FileHandle } from 'node:fs/promises';
import { EnvelopeDecryptor } from '../crypto/envelope.js';
import { envelopeContext } from '../crypto/manifest.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import type { Hasher } from '../crypto/hash.js';

/** Flush in the background every this many bytes, so the final fsync is short. */
const FLUSH_EVERY = 32 * 1024 * 1024;

export interface OpenJob {
  readonly key: Uint8Array;
  readonly imageId: Uint8Array;
  /** The temporary file to create (it must not exist). */
  readonly path: string;
}

export interface Opened {
  /** SHA-256 of every envelope byte received. */
  readonly digest: Uint8Array;
  /** Plaintext bytes written. */
  readonly written: number;
}

export interface SinkEvents {
  /** A piece of envelope is decrypted and in the file: its credit can go back. */
  readonly onWritten: (envelopeBytes: number) => void;
  /** A write failed between calls; the download must end (write() and finish() also throw). */
  readonly onFailure: (error: Error) => void;
}

export class EnvelopeToFile {
  readonly #decryptor: EnvelopeDecryptor;
  readonly #file: FileHandle;
  readonly #hash: Hasher = nodeSha256();
  readonly #events: SinkEvents;
  readonly #pending = new Set<Promise<void>>();
  #position = 0;
  #failure: Error | undefined;
  #flushing: Promise<void> | undefined;
  #flushedAt = 0;
  #closed = false;

  private constructor(job: OpenJob, file: FileHandle, events: SinkEvents) {
    this.#decryptor = new EnvelopeDecryptor({
      key: job.key,
      context: envelopeContext(job.imageId),
      aead: nodeAes256Gcm,
    });
    this.#file = file;
    this.#events = events;
  }

  static async create(job: OpenJob, events: SinkEvents): Promise<EnvelopeToFile> {
    return new EnvelopeToFile(job, await open(job.path, 'wx', 0o600), events);
  }

  /** Takes the next piece of envelope; rejects (E_TAMPERED) on a chunk that does not open. */
  async write(data: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    this.#hash.update(data);
    const plain = await this.#decryptor.update(data);
    const length = plain.reduce((sum, piece) => sum + piece.length, 0);
    if (length === 0) {
      this.#events.onWritten(data.length);
      return;
    }
    const at = this.#position;
    this.#position += length;
    const pending = this.#file.writev(plain, at).then(
      () => {
        this.#events.onWritten(data.length);
        this.#flushSometimes();
      },
      (error: unknown) => {
        if (this.#failure !== undefined) return;
        this.#failure = error instanceof Error ? error : new Error('write failed');
        this.#events.onFailure(this.#failure);
      },
    );
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }

  #flushSometimes(): void {
    if (
      this.#flushing !== undefined ||
      this.#closed ||
      this.#position - this.#flushedAt < FLUSH_EVERY
    )
      return;
    this.#flushedAt = this.#position;
    this.#flushing = this.#file
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

  /** The last chunk, then everything on disk and the file closed. */
  async finish(): Promise<Opened> {
    await this.#settle();
    if (this.#failure !== undefined) throw this.#failure;
    for (const plain of await this.#decryptor.finish()) {
      await this.#file.write(plain, 0, plain.length, this.#position);
      this.#position += plain.length;
    }
    await this.#file.sync();
    this.#closed = true;
    await this.#file.close();
    return { digest: this.#hash.digest(), written: this.#position };
  }

  /** Stops and closes the file; the caller removes it. */
  async abort(): Promise<void> {
    await this.#settle();
    if (this.#closed) return;
    this.#closed = true;
    await this.#file.close().catch(() => undefined);
  }
}
