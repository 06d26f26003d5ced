/**
 * Prometheus metrics (prom-client, in a registry of the server's own): connections,
 * sessions, requests and errors by type and code, bytes in and out, transfers in
 * flight, how long notifications take to reach sessions, and how long the Store and
 * the BlobStore take. Exposed only on the metrics listener (ops-http.ts), never on
 * the public port, since counts say something about the users.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BlobStore, BlobUpload } from './blobs/types.js';
import type { EventBus, ImageEvent } from './events/types.js';
import { STORE_METHODS, type Store } from './store/types.js';

/** What the gauges read when scraped, from the running server. */
export interface MetricSources {
  connections(): number;
  sessions(): number;
  transfers(): { uploads: number; downloads: number };
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class ServerMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'sisp_requests_total',
    help: 'Requests answered, by message type and outcome (ok or the error code)',
    labelNames: ['type', 'code'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'sisp_bytes_total',
    help: 'WebSocket payload bytes, in (from clients) and out (to clients)',
    labelNames: ['direction'] as const,
    registers: [this.registry],
  });
  readonly tlsHandshakes = new Counter({
    name: 'sisp_tls_handshakes_total',
    help: 'TLS handshakes completed, full or resumed (a client resuming its session)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly notificationLatency = new Histogram({
    name: 'sisp_notification_latency_seconds',
    help: 'From an event being published to its hand-off to a watching session',
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly storeLatency = new Histogram({
    name: 'sisp_store_seconds',
    help: 'Time in the metadata store (database), by method',
    labelNames: ['method'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly blobLatency = new Histogram({
    name: 'sisp_blob_seconds',
    help: 'Time in the blob store, by operation',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  #sources: MetricSources | undefined;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'sisp_' });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read());
        },
      });
    };
    gauge(
      'sisp_connections',
      'Open WebSocket connections',
      () => this.#sources?.connections() ?? 0,
    );
    gauge('sisp_sessions', 'Authenticated sessions', () => this.#sources?.sessions() ?? 0);
    gauge(
      'sisp_uploads_in_flight',
      'Uploads in progress',
      () => this.#sources?.transfers().uploads ?? 0,
    );
    gauge(
      'sisp_downloads_in_flight',
      'Downloads in progress',
      () => this.#sources?.transfers().downloads ?? 0,
    );
  }

  /** Where the gauges read from: the listener's sessions, once it runs. */
  observe(sources: MetricSources): void {
    this.#sources = sources;
  }

  /** The Store, each method timed. */
  timedStore(store: Store): Store {
    const timed: Record<string, unknown> = { close: () => store.close() };
    for (const method of Object.keys(STORE_METHODS)) {
      const call = (store as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[
        method
      ];
      if (call === undefined) continue;
      timed[method] = (...args: unknown[]) => {
        const end = this.storeLatency.startTimer({ method });
        return call.apply(store, args).finally(() => end());
      };
    }
    return timed as unknown as Store;
  }

  /** The BlobStore, its opening, removing and each upload's commit timed. */
  timedBlobs(blobs: BlobStore): BlobStore {
    const time = <T>(operation: string, run: () => Promise<T>): Promise<T> => {
      const end = this.blobLatency.startTimer({ operation });
      return run().finally(() => end());
    };
    const timedUpload = (upload: BlobUpload): BlobUpload => ({
      key: upload.key,
      get length() {
        return upload.length;
      },
      append: (data) => upload.append(data),
      commit: () => time('commit', () => upload.commit()),
      abort: () => upload.abort(),
    });
    return {
      begin: (key) => time('begin', () => blobs.begin(key)).then(timedUpload),
      open: (key) => time('open', () => blobs.open(key)),
      remove: (key) => time('remove', () => blobs.remove(key)),
      list: () => blobs.list(),
      freeSpace: () => time('free_space', () => blobs.freeSpace()),
      close: () => blobs.close(),
    };
  }

  /** The EventBus, each delivery's delay since its publish observed. */
  timedEvents(events: EventBus): EventBus {
    const published = new WeakMap<ImageEvent, number>();
    return {
      publish: (event) => {
        published.set(event, performance.now());
        return events.publish(event);
      },
      subscribe: (listener) =>
        events.subscribe((event) => {
          const since = published.get(event);
          listener(event);
          if (since !== undefined)
            this.notificationLatency.observe((performance.now() - since) / 1000);
        }),
      onResume: (listener) => {
        events.onResume(listener);
      },
      close: () => events.close(),
    };
  }
}
