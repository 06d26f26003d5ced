/**
 * A server-wide byte budget: what all transfers together may hold in memory at
 * once (bytes queued to slow sockets, bytes granted to uploads but not yet written).
 * A transfer asks for bytes before it uses them and gives them back after; when the
 * budget is spent, it waits, so memory stays within the budget whatever clients do.
 */
const RECHECK_MS = 1000;

export class ByteBudget {
  readonly limit: number;
  #used = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(limit: number) {
    this.limit = limit;
  }

  get used(): number {
    return this.#used;
  }

  /** Takes `bytes` if they are there now. */
  tryTake(bytes: number): boolean {
    if (this.#used + bytes > this.limit && this.#used > 0) return false;
    this.#used += bytes;
    return true;
  }

  /**
   * Takes `bytes`, waiting for them; false if `signal` says to give up first (checked
   * at least every second). One request larger than the whole budget still gets
   * through, alone.
   */
  async take(bytes: number, signal?: { readonly aborted: boolean }): Promise<boolean> {
    while (!this.tryTake(bytes)) {
      if (signal?.aborted === true) return false;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, RECHECK_MS);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return true;
  }

  give(bytes: number): void {
    this.#used = Math.max(0, this.#used - bytes);
    for (const wake of this.#waiters.splice(0)) wake();
  }
}
