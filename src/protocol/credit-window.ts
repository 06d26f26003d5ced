/**
 * Flow control for one transfer. The receiver grants credit (bytes it is ready to
 * hold); the sender may have sent at most what was granted. Both ends keep the same
 * two counters, so one class serves both:
 *
 * - a sender calls grant() for each credit it receives and take() before sending;
 * - a receiver calls admit() as data arrives (refusing data beyond the credit it
 *   gave) and release() as it finishes with data, which says how much new credit to
 *   send: batched by half a window, and never past the transfer's total length.
 *
 * Whatever the transfer's size, a receiver holds at most `window` bytes of it.
 */
import { sispError, type SispError } from './errors.js';

export interface CreditWindowOptions {
  /** Bytes the receiver is ready to hold at once; also the first grant. */
  readonly window: number;
  /** Total bytes of the transfer, when known: credit is never granted past it. */
  readonly total?: number;
}

export class CreditWindow {
  readonly window: number;
  #total: number;
  /** Credit granted so far, in all. */
  #granted = 0;
  /** Bytes sent (sender) or arrived (receiver) so far, in all. */
  #used = 0;
  /** Receiver: bytes finished with but not yet granted back. */
  #released = 0;
  #failure: SispError | undefined;
  #wake: (() => void) | undefined;

  constructor(options: CreditWindowOptions) {
    if (!Number.isSafeInteger(options.window) || options.window < 1)
      throw new TypeError('window must be a positive integer');
    this.window = options.window;
    this.#total = options.total ?? Number.MAX_SAFE_INTEGER;
  }

  /** Receiver: the first grant (the window, or the whole transfer if smaller). */
  initial(): number {
    const first = Math.max(1, Math.min(this.window, this.#total));
    this.#granted = first;
    return first;
  }

  /** Receiver: the total became known (a download learns it from the manifest). */
  limitTo(total: number): void {
    this.#total = total;
  }

  /** Receiver: `bytes` arrived. False if they exceed the credit granted. */
  admit(bytes: number): boolean {
    this.#used += bytes;
    return this.#used <= this.#granted;
  }

  /**
   * Receiver: `bytes` are finished with (written out). Returns the credit to grant
   * now, or 0 while less than half a window is waiting.
   */
  release(bytes: number): number {
    this.#released += bytes;
    const room = this.#total - this.#granted;
    if (this.#released < this.window / 2 || room <= 0) return 0;
    const grant = Math.min(this.#released, room);
    this.#released = 0;
    this.#granted += grant;
    return grant;
  }

  /** Sender: the receiver granted `bytes` more. */
  grant(bytes: number): void {
    this.#granted += bytes;
    this.#wake?.();
  }

  /** Sender: credit available right now. */
  get available(): number {
    return this.#granted - this.#used;
  }

  /**
   * Sender: waits for credit, then takes up to `wanted` bytes of it and returns how
   * much. Rejects once the transfer has failed.
   */
  async take(wanted: number): Promise<number> {
    while (this.available <= 0 && this.#failure === undefined) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
    if (this.#failure !== undefined) throw this.#failure;
    const amount = Math.min(wanted, this.available);
    this.#used += amount;
    return amount;
  }

  /** Ends the transfer: a sender waiting in take() (now or later) gets `error`. */
  fail(error: SispError = sispError('E_UNAVAILABLE', 'the transfer was cancelled')): void {
    this.#failure ??= error;
    this.#wake?.();
  }

  get failed(): boolean {
    return this.#failure !== undefined;
  }
}
