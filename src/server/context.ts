/**
 * What every session and handler shares: configuration, keys, storage, events, log;
 * and the one place that chooses which implementation stands behind each port.
 */
import { join } from 'node:path';
import { readableFingerprint } from '../crypto/fingerprint.js';
import { equalBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { lockDataDir } from './data-lock.js';
import { FileBlobStore } from './blobs/file-blob-store.js';
import type { BlobStore } from './blobs/types.js';
import type { ServerConfig } from './config.js';
import { LocalEventBus } from './events/local-event-bus.js';
import type { EventBus } from './events/types.js';
import { createLogger, type Logger } from './log.js';
import { loadOrCreatePki, type ServerPki } from './pki.js';
import { ByteBudget } from './budget.js';
import { Occupancy } from './occupancy.js';
import { ServerMetrics } from './metrics.js';
import { RateLimiter } from './rate-limit.js';
import { PgEventBus } from './events/pg-event-bus.js';
import { openPgStore } from './store/pg-store.js';
import { openSqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/types.js';

export interface ServerContext {
  readonly config: ServerConfig;
  readonly pki: ServerPki;
  readonly store: Store;
  readonly blobs: BlobStore;
  readonly events: EventBus;
  readonly log: Logger;
  readonly rateLimiter: RateLimiter;
  readonly occupancy: Occupancy;
  /** Download bytes queued to sockets, server-wide (limits.outgoingBudget). */
  readonly outgoing: ByteBudget;
  /** Upload credit granted and not yet written, server-wide (limits.creditBudget). */
  readonly credit: ByteBudget;
  readonly metrics: ServerMetrics;
}

export interface ServerServices extends ServerContext {
  /** Closes the ports (after the sessions are gone). */
  close(): Promise<void>;
}

export interface ContextOptions {
  /** The CA's private key outside the data directory (SISP_CA_KEY_FILE). */
  readonly caKeyFile?: string;
  /**
   * Puts another Store in front of the real one. For tests that need a hostile or
   * failing server built from the real one (the port makes that a few lines); no
   * flag or setting of the product reaches it.
   */
  readonly wrapStore?: (store: Store) => Store;
}

/**
 * The embedded default: SQLite and files in the data directory, events within the
 * process. For several nodes: metadata in PostgreSQL with events across nodes by
 * LISTEN/NOTIFY (--db), blobs in S3-compatible storage (--blobs).
 */
export async function createServerContext(
  config: ServerConfig,
  options: ContextOptions = {},
): Promise<ServerServices> {
  const log = createLogger(config.dataDir, { stdout: config.logToStdout, level: config.logLevel });
  const lock = await lockDataDir(config.dataDir);
  const pki = await loadOrCreatePki(config.dataDir, {
    host: config.host,
    tlsNames: config.tlsNames,
    ...(options.caKeyFile === undefined ? {} : { caKeyFile: options.caKeyFile }),
  });
  const chosen = await openStore(config);
  try {
    await checkBelongs(chosen, pki);
  } catch (error) {
    await chosen.close();
    await lock.release();
    throw error;
  }
  const metrics = new ServerMetrics();
  const store = metrics.timedStore(options.wrapStore?.(chosen) ?? chosen);
  const blobs = metrics.timedBlobs(
    config.blobStore === undefined
      ? await FileBlobStore.open(config.dataDir)
      : // Loaded only when asked for: the AWS SDK is large.
        await (await import('./blobs/s3-blob-store.js')).S3BlobStore.open(config.blobStore),
  );
  const onListenerError = (error: unknown): void => {
    log.error({ event: 'internal_error', err: String(error) }, 'event listener failed');
  };
  const events = metrics.timedEvents(
    config.database === undefined
      ? new LocalEventBus(onListenerError)
      : await PgEventBus.open({ connectionString: config.database, onListenerError }),
  );
  const context: ServerContext = {
    config,
    pki,
    store,
    blobs,
    events,
    log,
    rateLimiter: new RateLimiter(config.limits.requestsPerSecond, config.limits.requestBurst),
    occupancy: new Occupancy(config.limits, log),
    outgoing: new ByteBudget(config.limits.outgoingBudget),
    credit: new ByteBudget(config.limits.creditBudget),
    metrics,
  };
  // With several nodes, a blob another node has just stored may not have its metadata
  // yet: only old unreferenced blobs go then.
  await collectGarbage(context, config.database === undefined ? 0 : SHARED_GRACE_MS);
  await pruneEvents(context);
  return {
    ...context,
    async close() {
      context.occupancy.flush();
      await events.close();
      await blobs.close();
      await store.close();
      await lock.release();
    },
  };
}

/** SQLite in the data directory, or the PostgreSQL that --db names. */
function openStore(config: ServerConfig): Promise<Store> {
  return config.database === undefined
    ? openSqliteStore(join(config.dataDir, 'sisp.db'))
    : openPgStore({ connectionString: config.database });
}

/**
 * The database records the CA and wrap key it was made with, and refuses any other:
 * a backup restored without its keys would otherwise start a new CA, and every
 * client would then see a certificate mismatch with no hint why.
 */
async function checkBelongs(store: Store, pki: ServerPki): Promise<void> {
  const ca = await store.claim('ca-fingerprint', pki.caFingerprint);
  if (!equalBytes(ca, pki.caFingerprint))
    throw sispError(
      'E_CERTIFICATE',
      `the database belongs to the CA with fingerprint ${readableFingerprint(ca)}, but this data directory's CA is ${pki.caFingerprintText}: restore ca.pem, ca-key.pem and wrap-key.pem from the same backup as sisp.db`,
    );
  const wrap = await store.claim('wrap-key', pki.wrapPublicKey);
  if (!equalBytes(wrap, pki.wrapPublicKey))
    throw sispError(
      'E_CERTIFICATE',
      "the database's public images are wrapped to another key than this data directory's wrap-key.pem: restore wrap-key.pem from the same backup as sisp.db",
    );
}

/** Keeps the event log to its retention (SISP_EVENT_RETENTION_DAYS). */
async function pruneEvents(context: ServerContext): Promise<void> {
  const days = context.config.limits.eventRetentionDays;
  const removed = await context.store.pruneEvents(Date.now() - days * 24 * 3600 * 1000);
  if (removed > 0) context.log.info({ event: 'events.pruned', removed, days }, 'old events pruned');
}

/** How old an unreferenced blob must be before a node sharing the store removes it. */
const SHARED_GRACE_MS = 60 * 60 * 1000;

/**
 * Removes blobs no image refers to (left by a crash between blob commit and metadata
 * commit). With several nodes (`graceMs`), only blobs written that long ago, each
 * checked again just before it goes: another node's upload may be between its blob
 * and its metadata now.
 */
export async function collectGarbage(context: ServerContext, graceMs = 0): Promise<number> {
  const live = new Set(await context.store.allBlobs());
  const before = Date.now() - graceMs;
  let removed = 0;
  for await (const { key, modified } of context.blobs.list()) {
    if (live.has(key) || modified > before) continue;
    if (graceMs > 0 && (await context.store.blobInUse(key))) continue;
    await context.blobs.remove(key);
    removed++;
  }
  if (removed > 0) context.log.info({ event: 'gc', removed }, 'removed unreferenced blobs');
  return removed;
}
