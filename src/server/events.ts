/**
 * In-process fan-out of new-image events to connected sessions. The seam for
 * scale-out: a PostgreSQL LISTEN/NOTIFY bus would implement the same interface.
 */
export interface NewImageEvent {
  readonly image: Uint8Array;
  readonly name: string;
  readonly owner: string;
  /** Who is told: 'public' (every session), or exactly these users. */
  readonly notify: 'public' | readonly string[];
}

export type EventListener = (event: NewImageEvent) => void;

export class EventBus {
  readonly #listeners = new Set<EventListener>();

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(event: NewImageEvent): number {
    for (const listener of this.#listeners) listener(event);
    return this.#listeners.size;
  }
}
