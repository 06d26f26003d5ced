/**
 * Reading from a peer stops while any reason holds: too many of its messages queued,
 * its frame rate spent, its replies not being read. The socket resumes only when no
 * reason is left, so reasons never undo each other.
 */
export interface Pausable {
  pause(): void;
  resume(): void;
}

export type PauseReason = 'queue' | 'rate' | 'backlog';

export class ReadGate {
  readonly #socket: Pausable;
  readonly #reasons = new Set<PauseReason>();

  constructor(socket: Pausable) {
    this.#socket = socket;
  }

  hold(reason: PauseReason): void {
    if (this.#reasons.size === 0) this.#socket.pause();
    this.#reasons.add(reason);
  }

  release(reason: PauseReason): void {
    if (!this.#reasons.delete(reason)) return;
    if (this.#reasons.size === 0) this.#socket.resume();
  }

  holds(reason: PauseReason): boolean {
    return this.#reasons.has(reason);
  }
}
