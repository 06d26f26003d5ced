/**
 * The receiving half of a download: hashes the envelope as it arrives, opens it
 * chunk by chunk (plaintext only from authenticated chunks) and hands the plaintext
 * to the sink without waiting, so the next piece is decrypted meanwhile. Reports
 * each piece once the sink is done with it, which is when its credit can go back.
 */
import { EnvelopeDecryptor } from '../crypto/envelope.js';
import type { Hasher } from '../crypto/hash.js';
import { envelopeContext } from '../crypto/manifest.js';
import type { CryptoBackend } from './platform.js';
import type { ImageSink } from './sink.js';

export interface ReceiveJob {
  readonly key: Uint8Array;
  readonly imageId: Uint8Array;
  readonly crypto: CryptoBackend;
}

export interface ReceiveEvents {
  /** A piece of envelope is decrypted and the sink has its plaintext. */
  readonly onWritten: (envelopeBytes: number) => void;
  /** A sink write failed between calls; the download must end. */
  readonly onFailure: (error: unknown) => void;
}

export interface Received {
  /** SHA-256 of every envelope byte received. */
  readonly digest: Uint8Array;
  /** Plaintext bytes handed to the sink. */
  readonly written: number;
}

export class EnvelopeReceiver {
  readonly #decryptor: EnvelopeDecryptor;
  readonly #hash: Hasher;
  readonly #sink: ImageSink<unknown>;
  readonly #events: ReceiveEvents;
  readonly #pending = new Set<Promise<void>>();
  #written = 0;
  #failure: unknown;
  #failed = false;

  constructor(job: ReceiveJob, sink: ImageSink<unknown>, events: ReceiveEvents) {
    this.#decryptor = new EnvelopeDecryptor({
      key: job.key,
      context: envelopeContext(job.imageId),
      aead: job.crypto.aead,
    });
    this.#hash = job.crypto.sha256();
    this.#sink = sink;
    this.#events = events;
  }

  /** Takes the next piece of envelope; rejects (E_TAMPERED) on a chunk that does not open. */
  async write(data: Uint8Array): Promise<void> {
    if (this.#failed) throw this.#failure;
    this.#hash.update(data);
    const plain = await this.#decryptor.update(data);
    if (plain.length === 0) {
      this.#events.onWritten(data.length);
      return;
    }
    for (const piece of plain) this.#written += piece.length;
    const pending = this.#sink.write(plain).then(
      () => {
        this.#events.onWritten(data.length);
      },
      (error: unknown) => {
        if (this.#failed) return;
        this.#failed = true;
        this.#failure = error;
        this.#events.onFailure(error);
      },
    );
    this.#pending.add(pending);
    void pending.finally(() => this.#pending.delete(pending));
  }

  /** Waits for every write in flight. */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#pending]);
  }

  /** The last chunk, then everything handed over. */
  async finish(): Promise<Received> {
    await this.settle();
    if (this.#failed) throw this.#failure;
    const last = await this.#decryptor.finish();
    for (const plain of last) this.#written += plain.length;
    await this.#sink.write(last);
    return { digest: this.#hash.digest(), written: this.#written };
  }
}
