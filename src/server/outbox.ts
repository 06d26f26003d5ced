/**
 * What a session sends, and whether the peer is taking it. While more than
 * BACKLOG bytes wait in the socket, the session stops reading from the peer (it
 * is not reading our replies, so it gets no more of them); and how long output has
 * waited without moving tells a stalled reader, which the session then closes.
 */
import type { WebSocket } from 'ws';
import type { ReadGate } from './read-gate.js';

/** Replies and events queued to one peer before we stop reading its requests. */
const BACKLOG = 8 * 1024 * 1024;

export class Outbox {
  readonly #ws: WebSocket;
  readonly #gate: ReadGate;
  #pending = 0;
  /** When output last moved (or began to wait). */
  #movedAt = Date.now();

  constructor(ws: WebSocket, gate: ReadGate) {
    this.#ws = ws;
    this.#gate = gate;
  }

  /** Bytes queued and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Sends a frame; resolves once it is handed to the socket (or the socket is gone). */
  send(frame: Uint8Array): Promise<void> {
    if (this.#ws.readyState !== this.#ws.OPEN) return Promise.resolve();
    if (this.#pending === 0) this.#movedAt = Date.now();
    this.#pending++;
    const sent = new Promise<void>((resolve) => {
      this.#ws.send(frame, { binary: true }, () => {
        this.#pending--;
        this.#movedAt = Date.now();
        if (this.#ws.bufferedAmount < BACKLOG / 2) this.#gate.release('backlog');
        resolve();
      });
    });
    if (this.#ws.bufferedAmount > BACKLOG) this.#gate.hold('backlog');
    return sent;
  }

  /** How long output has been waiting without moving; 0 when nothing waits. */
  stalledFor(now = Date.now()): number {
    return this.#pending === 0 ? 0 : now - this.#movedAt;
  }
}
