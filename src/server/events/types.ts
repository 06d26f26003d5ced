/**
 * The EventBus port: who is told when an image appears or is deleted. In one process a
 * LocalEventBus; across nodes PostgreSQL LISTEN/NOTIFY. publish() resolves once the
 * event is handed to the bus (delivered locally, or committed for other nodes);
 * listeners receive events in publish order. Every implementation runs the same
 * conformance suite (test/conformance/event-bus.ts).
 */

import type { EVENT_KINDS } from '../../protocol/messages.js';

export interface ImageEvent {
  /**
   * An image appeared (posted, or shared with someone), its owner deleted it, or its
   * owner withdrew the access of those told; or an album was shared with those told,
   * or taken back from them (then `image` is the album's id and `name` its name).
   */
  readonly kind: (typeof EVENT_KINDS)[number];
  readonly image: Uint8Array;
  readonly name: string;
  readonly owner: string;
  /** Who is told: 'public' (every session), or exactly these users. */
  readonly notify: 'public' | readonly string[];
  /** Its place in the durable event log: increasing, so a client resumes after the last it saw. */
  readonly position: number;
}

/** An event before the log gives it a position. */
export type NewEvent = Omit<ImageEvent, 'position'>;

export type EventListener = (event: ImageEvent) => void;

export interface EventBus {
  publish(event: ImageEvent): Promise<void>;
  /** Events published from now on, until the returned function is called. */
  subscribe(listener: EventListener): () => void;
  /**
   * Called after the bus lost events and can deliver again (a cross-node bus whose
   * connection dropped), so the server catches its watchers up from the durable log.
   * A bus that never loses events never calls it.
   */
  onResume(listener: () => void): void;
  close(): Promise<void>;
}
