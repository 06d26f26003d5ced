/** Token buckets: `rate` tokens a second, up to `burst`. */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  #tokens: number;
  #at: number;

  constructor(rate: number, burst: number, now = Date.now()) {
    this.#rate = rate;
    this.#burst = burst;
    this.#tokens = burst;
    this.#at = now;
  }

  /** Takes `cost` tokens (a request that does the work of several costs several). */
  take(now = Date.now(), cost = 1): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#at) / 1000) * this.#rate);
    this.#at = now;
    if (this.#tokens < cost) return false;
    this.#tokens -= cost;
    return true;
  }

  /** Milliseconds until a token is there again. */
  waitMs(): number {
    return Math.max(1, Math.ceil(((1 - this.#tokens) / this.#rate) * 1000));
  }
}

/** One bucket per key (a user); buckets of keys not seen for a while are dropped. */
export class RateLimiter {
  readonly #rate: number;
  readonly #burst: number;
  readonly #buckets = new Map<string, TokenBucket>();

  constructor(rate: number, burst: number) {
    this.#rate = rate;
    this.#burst = burst;
  }

  take(key: string, now = Date.now(), cost = 1): boolean {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      // A full bucket is what a new key gets anyway: forget idle ones, keep the map small.
      if (this.#buckets.size > 100_000) this.#buckets.clear();
      bucket = new TokenBucket(this.#rate, this.#burst, now);
      this.#buckets.set(key, bucket);
    }
    return bucket.take(now, cost);
  }
}
