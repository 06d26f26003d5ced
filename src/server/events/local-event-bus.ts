/**
 * Events within one process. Every listener gets the same event object, so a
 * session can encode it once for all (see session.ts). A listener that throws
 * does not keep the event from the others.
 */
import type { EventBus, EventListener, ImageEvent } from './types.js';

export class LocalEventBus implements EventBus {
  readonly #listeners = new Set<EventListener>();
  readonly #onListenerError: (error: unknown) => void;

  constructor(onListenerError: (error: unknown) => void = () => undefined) {
    this.#onListenerError = onListenerError;
  }

  publish(event: ImageEvent): Promise<void> {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#onListenerError(error);
      }
    }
    return Promise.resolve();
  }

  subscribe(listener: EventListener): () => void {
    // A wrapper, so that one listener subscribed twice is two subscriptions.
    const entry: EventListener = (event) => {
      listener(event);
    };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** Nothing is ever lost within one process. */
  onResume(): void {
    // Never called.
  }

  get listenerCount(): number {
    return this.#listeners.size;
  }

  close(): Promise<void> {
    this.#listeners.clear();
    return Promise.resolve();
  }
}
