/**
 * Imported public keys by their raw bytes, the most recent kept: a WebCrypto import
 * is a promise hop that can cost as much as the operation it is for, and the same few
 * keys come back again and again (the server's and your own in every post, an owner's
 * on every image of theirs, a user's on every sign-in). Public keys only, so holding
 * them is harmless; bounded so a long-lived process stays small. `T` is what a key
 * is kept as (the imported key, or the key with what was read beside it).
 */
import { toHex } from '../protocol/bytes.js';

export class RecentKeys<T = CryptoKey> {
  readonly #keys = new Map<string, Promise<T>>();
  readonly #load: (raw: Uint8Array) => Promise<T>;
  readonly #size: number;

  constructor(load: (raw: Uint8Array) => Promise<T>, size = 256) {
    this.#load = load;
    this.#size = size;
  }

  get(raw: Uint8Array): Promise<T> {
    const id = toHex(raw);
    let key = this.#keys.get(id);
    if (key === undefined) {
      key = this.#load(raw);
      // A refused key is not kept: the caller sees the error, the next call tries again.
      key.catch(() => this.#keys.delete(id));
      if (this.#keys.size >= this.#size) {
        const oldest = this.#keys.keys().next();
        if (oldest.done !== true) this.#keys.delete(oldest.value);
      }
      this.#keys.set(id, key);
    }
    return key;
  }
}
