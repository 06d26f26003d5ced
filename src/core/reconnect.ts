/**
 * When a client that lost its connection tries the server again: exponential backoff
 * with jitter. Without jitter every client dropped by one restart retries on the same
 * ticks and the server meets them all at once; each delay here is drawn from half to
 * one and a half times the current step, so they arrive spread out. One schedule for
 * `sisp watch`, the browser app and the benchmark that imitates them.
 */
export interface ReconnectOptions {
  /** The first step, in milliseconds (default 250). */
  readonly first?: number;
  /** The longest step (default 5,000): a restarted server is found within about this. */
  readonly max?: number;
  /** A number in [0, 1), as Math.random (tests pass their own). */
  readonly random?: () => number;
}

export class ReconnectSchedule {
  readonly #first: number;
  readonly #max: number;
  readonly #random: () => number;
  #step: number;

  constructor(options: ReconnectOptions = {}) {
    this.#first = options.first ?? 250;
    this.#max = options.max ?? 5000;
    if (!Number.isSafeInteger(this.#first) || this.#first < 1)
      throw new TypeError('first must be a positive number of milliseconds');
    if (!Number.isSafeInteger(this.#max) || this.#max < this.#first)
      throw new TypeError('max must be a number of milliseconds, at least first');
    this.#random = options.random ?? Math.random;
    this.#step = this.#first;
  }

  /** How long to wait before the next attempt (ms); the step after it doubles, up to max. */
  next(): number {
    const step = this.#step;
    this.#step = Math.min(step * 2, this.#max);
    return Math.round(step * (0.5 + this.#random()));
  }

  /** Connected again: the next loss starts from the first step. */
  reset(): void {
    this.#step = this.#first;
  }
}
