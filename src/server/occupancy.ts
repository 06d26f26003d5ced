/**
 * Who holds what, server-wide: connections per address (from accept) and per user,
 * transfers per user. Each count goes up only if it stays within its limit, and
 * comes down exactly once. Refusals are counted and logged in summary, so a flood
 * of refused connections makes one log line every few seconds, not one per attempt.
 */
import type { Limits } from './config.js';
import type { Logger } from './log.js';

class Counts {
  readonly #counts = new Map<string, number>();

  enter(key: string, limit: number): boolean {
    const count = this.#counts.get(key) ?? 0;
    if (count >= limit) return false;
    this.#counts.set(key, count + 1);
    return true;
  }

  leave(key: string): void {
    const count = (this.#counts.get(key) ?? 0) - 1;
    if (count <= 0) this.#counts.delete(key);
    else this.#counts.set(key, count);
  }

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }
}

export type RefusalReason =
  | 'connections per address'
  | 'connections per user'
  | 'connections'
  | 'tls handshake'
  | 'transfers per user'
  | 'closed before signing in';

const SUMMARY_EVERY_MS = 10_000;

export class Occupancy {
  readonly addresses = new Counts();
  readonly users = new Counts();
  readonly transfers = new Counts();
  readonly #limits: Limits;
  readonly #log: Logger;
  readonly #refused = new Map<RefusalReason, number>();
  #timer: NodeJS.Timeout | undefined;

  constructor(limits: Limits, log: Logger) {
    this.#limits = limits;
    this.#log = log;
  }

  enterAddress(address: string): boolean {
    return this.#admit(
      this.addresses.enter(address, this.#limits.connectionsPerAddress),
      'connections per address',
    );
  }

  enterUser(user: string): boolean {
    return this.#admit(
      this.users.enter(user, this.#limits.connectionsPerUser),
      'connections per user',
    );
  }

  takeTransfer(user: string): boolean {
    return this.#admit(
      this.transfers.enter(user, this.#limits.transfersPerUser),
      'transfers per user',
    );
  }

  /** Counts a refusal made elsewhere (the connection limit, a TLS handshake that timed out). */
  refused(reason: RefusalReason): void {
    this.#refused.set(reason, (this.#refused.get(reason) ?? 0) + 1);
    this.#timer ??= setTimeout(() => {
      this.flush();
    }, SUMMARY_EVERY_MS).unref();
  }

  /** Logs what was refused since the last summary, in one line. */
  flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#refused.size === 0) return;
    this.#log.warn(
      { event: 'refused', counts: Object.fromEntries(this.#refused) },
      'refused (summary)',
    );
    this.#refused.clear();
  }

  #admit(admitted: boolean, reason: RefusalReason): boolean {
    if (!admitted) this.refused(reason);
    return admitted;
  }
}
