/**
 * Events across nodes on PostgreSQL LISTEN/NOTIFY (no other service): publish() is a
 * NOTIFY on the channel `sisp_events:<schema>`, which PostgreSQL delivers to every node's
 * listening connection (the publisher's own included) in commit order. Each node
 * then hands the event to its own subscribers. A NOTIFY payload is at most 8,000
 * bytes, so an event told to many named users goes as several notifications, each
 * naming some of them: every user is told once. The listening connection is
 * re-made when it drops (backing off to 30 s); `onResume` listeners are then told,
 * and the server catches its watchers up from the durable event log.
 */
import pg from 'pg';
import { fromBase64Url, toBase64Url } from '../../protocol/link.js';
import type { EventBus, EventListener, ImageEvent } from './types.js';
import { EVENT_KINDS, IMAGE_ID_LENGTH } from '../../protocol/messages.js';

/**
 * One channel per schema: deployments that share a database in different schemas
 * (or tests running side by side) never hear each other's events.
 */
const channelOf = (schema: string): string => `sisp_events:${schema}`.slice(0, 63);
/** Below PostgreSQL's 8,000-byte limit, with room for the rest of the payload. */
const MAX_NAMES_BYTES = 6000;

interface Wire {
  readonly k: ImageEvent['kind'];
  readonly i: string;
  readonly n: string;
  readonly o: string;
  readonly t: 'public' | readonly string[];
  readonly p: number;
}

function toWire(event: ImageEvent, notify: ImageEvent['notify']): string {
  const wire: Wire = {
    k: event.kind,
    i: toBase64Url(event.image),
    n: event.name,
    o: event.owner,
    t: notify,
    p: event.position,
  };
  return JSON.stringify(wire);
}

/** A notification's event, or undefined for anything that is not one of ours. */
export function fromWire(payload: string): ImageEvent | undefined {
  try {
    const wire = JSON.parse(payload) as Partial<Wire>;
    const image = typeof wire.i === 'string' ? fromBase64Url(wire.i, IMAGE_ID_LENGTH) : undefined;
    const notify = wire.t === 'public' ? 'public' : wire.t;
    if (
      image === undefined ||
      !(EVENT_KINDS as readonly unknown[]).includes(wire.k) ||
      typeof wire.n !== 'string' ||
      typeof wire.o !== 'string' ||
      typeof wire.p !== 'number' ||
      !(
        notify === 'public' ||
        (Array.isArray(notify) && notify.every((u) => typeof u === 'string'))
      )
    )
      return undefined;
    return {
      kind: wire.k as ImageEvent['kind'],
      image,
      name: wire.n,
      owner: wire.o,
      notify,
      position: wire.p,
    };
  } catch {
    return undefined;
  }
}

/** The named users in slices whose names fit one notification. */
function slices(notify: ImageEvent['notify']): ImageEvent['notify'][] {
  if (notify === 'public') return ['public'];
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const user of notify) {
    const size = user.length + 3;
    if (bytes + size > MAX_NAMES_BYTES && current.length > 0) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(user);
    bytes += size;
  }
  out.push(current);
  return out;
}

export interface PgEventBusOptions {
  readonly connectionString: string;
  readonly onListenerError?: (error: unknown) => void;
}

export class PgEventBus implements EventBus {
  readonly #options: PgEventBusOptions;
  readonly #pool: pg.Pool;
  readonly #listeners = new Set<EventListener>();
  #channel = '';
  readonly #resumed: (() => void)[] = [];
  #listener: pg.Client | undefined;
  #closed = false;
  #retry: NodeJS.Timeout | undefined;

  private constructor(options: PgEventBusOptions) {
    this.#options = options;
    this.#pool = new pg.Pool({ connectionString: options.connectionString, max: 2 });
    // An idle pooled connection that drops is replaced on next use; nothing to do.
    this.#pool.on('error', () => undefined);
  }

  static async open(options: PgEventBusOptions): Promise<PgEventBus> {
    const bus = new PgEventBus(options);
    await bus.#listen();
    return bus;
  }

  async #listen(): Promise<void> {
    const client = new pg.Client({ connectionString: this.#options.connectionString });
    client.on('notification', (message) => {
      if (message.channel !== this.#channel || message.payload === undefined) return;
      const event = fromWire(message.payload);
      if (event !== undefined) this.#deliver(event);
    });
    client.on('error', () => {
      this.#lost(client, 0);
    });
    client.on('end', () => {
      this.#lost(client, 0);
    });
    await client.connect();
    const schema = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
    this.#channel = channelOf(schema.rows[0]?.schema ?? 'public');
    await client.query(`LISTEN ${client.escapeIdentifier(this.#channel)}`);
    this.#listener = client;
  }

  #lost(client: pg.Client, attempt: number): void {
    if (this.#closed || this.#listener !== client) return;
    this.#listener = undefined;
    client.end().catch(() => undefined);
    this.#reconnect(attempt);
  }

  #reconnect(attempt: number): void {
    this.#retry = setTimeout(
      () => {
        this.#listen().then(
          () => {
            for (const listener of this.#resumed) listener();
          },
          () => {
            if (!this.#closed) this.#reconnect(attempt + 1);
          },
        );
      },
      Math.min(30_000, 250 * 2 ** attempt),
    );
  }

  #deliver(event: ImageEvent): void {
    for (const listener of [...this.#listeners]) {
      try {
        listener(event);
      } catch (error) {
        this.#options.onListenerError?.(error);
      }
    }
  }

  async publish(event: ImageEvent): Promise<void> {
    for (const notify of slices(event.notify))
      await this.#pool.query('SELECT pg_notify($1, $2)', [this.#channel, toWire(event, notify)]);
  }

  subscribe(listener: EventListener): () => void {
    const entry: EventListener = (event) => {
      listener(event);
    };
    this.#listeners.add(entry);
    return () => this.#listeners.delete(entry);
  }

  /** The listening connection came back after a drop: events may have been missed. */
  onResume(listener: () => void): void {
    this.#resumed.push(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#listeners.clear();
    const listener = this.#listener;
    this.#listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.#pool.end();
  }
}
