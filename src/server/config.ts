/**
 * Server configuration: defaults, then environment variables, then flags. Every
 * limit is an option with a safe default (docs/OPERATIONS.md lists them).
 */
import { DEFAULT_MAX_FRAME } from '../protocol/messages.js';
import { sispError } from '../protocol/errors.js';
import type { S3Location } from './blobs/s3-location.js';

export interface ServerConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Extra names for the TLS certificate (besides localhost and the host). */
  readonly tlsNames: readonly string[];
  /**
   * An operator's certificate for the HTTPS/WSS listener (from an ACME client or
   * mkcert), so browsers trust it; files re-read on SIGHUP. Without it the listener
   * uses the certificate the sisp CA issues itself. Users' certificates and the
   * server certificate in the welcome stay the sisp CA's either way.
   */
  readonly tlsFiles?: { readonly cert: string; readonly key: string };
  /**
   * Metadata in PostgreSQL (--db postgres://...), with events across nodes by
   * LISTEN/NOTIFY; otherwise SQLite in the data directory and events in-process.
   */
  readonly database?: string;
  /** Blobs in S3-compatible storage (--blobs s3://...); otherwise files in the data directory. */
  readonly blobStore?: S3Location;
  /**
   * The metrics listener (plain HTTP: /metrics, /healthz, /readyz), off unless a
   * port is given; on loopback unless told otherwise.
   */
  readonly metricsPort?: number;
  /** Default 127.0.0.1. */
  readonly metricsHost?: string;
  readonly limits: Limits;
  /** Also log to stdout (always to DATA/logs/). */
  readonly logToStdout: boolean;
  readonly logLevel: string;
}

export interface Limits {
  readonly maxFrame: number;
  readonly maxImage: number;
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly maxConnections: number;
  /** Token bucket per user: sustained requests per second and burst. */
  readonly requestsPerSecond: number;
  readonly requestBurst: number;
  /** Upload window granted to a client, in bytes. */
  readonly uploadWindow: number;
  /** Concurrent transfers per connection. */
  readonly transfersPerConnection: number;
  /** How far a manifest's signed creation time may be from the server's clock. */
  readonly clockSkewMs: number;
  /** Images one user may have. */
  readonly imagesPerUser: number;
  /** Plaintext bytes of all one user's images. */
  readonly bytesPerUser: number;
  /** Uploads are refused (E_NO_SPACE) when blob storage would have less than this left. */
  readonly minFreeBytes: number;
  /** Frames a connection may send per second (and in a burst); beyond, it is read more slowly. */
  readonly framesPerSecond: number;
  readonly frameBurst: number;
  /** Malformed requests one connection may send before it is closed. */
  readonly protocolErrors: number;
  /** Connections one signed-in user may have at once. */
  readonly connectionsPerUser: number;
  /** Connections from one address at once (counted from accept, before TLS). */
  readonly connectionsPerAddress: number;
  /** Time to finish the TLS handshake after accept. */
  readonly tlsHandshakeTimeoutMs: number;
  /** Transfers one user may have at once, over all connections. */
  readonly transfersPerUser: number;
  /** All downloads' bytes queued to sockets, server-wide. */
  readonly outgoingBudget: number;
  /** All uploads' credit granted but not yet written, server-wide. */
  readonly creditBudget: number;
  /** A connection whose queued output has not moved for this long is closed. */
  readonly stalledReaderMs: number;
  /** An upload with credit to use that sends nothing for this long ends (E_TIMEOUT). */
  readonly stalledUploadMs: number;
  /** Events older than this leave the log (pruned at start); a watcher away longer misses them. */
  readonly eventRetentionDays: number;
}

export const DEFAULT_LIMITS: Limits = {
  maxFrame: DEFAULT_MAX_FRAME,
  maxImage: 1024 * 1024 * 1024,
  handshakeTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  maxConnections: 2000,
  requestsPerSecond: 100,
  requestBurst: 200,
  uploadWindow: 8 * 1024 * 1024,
  transfersPerConnection: 4,
  clockSkewMs: 10 * 60 * 1000,
  imagesPerUser: 10_000,
  bytesPerUser: 10 * 1024 * 1024 * 1024,
  minFreeBytes: 256 * 1024 * 1024,
  framesPerSecond: 2000,
  frameBurst: 4000,
  protocolErrors: 32,
  connectionsPerUser: 16,
  connectionsPerAddress: 64,
  tlsHandshakeTimeoutMs: 10_000,
  transfersPerUser: 8,
  outgoingBudget: 256 * 1024 * 1024,
  creditBudget: 256 * 1024 * 1024,
  stalledReaderMs: 30_000,
  stalledUploadMs: 60_000,
  eventRetentionDays: 90,
};

export const LIMIT_VARIABLES: Record<keyof Limits, string> = {
  maxFrame: 'SISP_MAX_FRAME',
  maxImage: 'SISP_MAX_IMAGE',
  handshakeTimeoutMs: 'SISP_HANDSHAKE_TIMEOUT_MS',
  idleTimeoutMs: 'SISP_IDLE_TIMEOUT_MS',
  maxConnections: 'SISP_MAX_CONNECTIONS',
  requestsPerSecond: 'SISP_RATE',
  requestBurst: 'SISP_RATE_BURST',
  uploadWindow: 'SISP_UPLOAD_WINDOW',
  transfersPerConnection: 'SISP_TRANSFERS_PER_CONNECTION',
  clockSkewMs: 'SISP_CLOCK_SKEW_MS',
  imagesPerUser: 'SISP_IMAGES_PER_USER',
  bytesPerUser: 'SISP_BYTES_PER_USER',
  minFreeBytes: 'SISP_MIN_FREE_BYTES',
  framesPerSecond: 'SISP_FRAMES_PER_SECOND',
  frameBurst: 'SISP_FRAME_BURST',
  protocolErrors: 'SISP_PROTOCOL_ERRORS',
  connectionsPerUser: 'SISP_CONNECTIONS_PER_USER',
  connectionsPerAddress: 'SISP_CONNECTIONS_PER_ADDRESS',
  tlsHandshakeTimeoutMs: 'SISP_TLS_HANDSHAKE_TIMEOUT_MS',
  transfersPerUser: 'SISP_TRANSFERS_PER_USER',
  outgoingBudget: 'SISP_OUTGOING_BUDGET',
  creditBudget: 'SISP_CREDIT_BUDGET',
  stalledReaderMs: 'SISP_STALLED_READER_MS',
  stalledUploadMs: 'SISP_STALLED_UPLOAD_MS',
  eventRetentionDays: 'SISP_EVENT_RETENTION_DAYS',
};

function positiveInteger(name: string, raw: string): number {
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(value) || value <= 0) {
    throw sispError('E_BAD_REQUEST', `${name} must be a positive integer`);
  }
  return value;
}

export function limitsFromEnv(env: NodeJS.ProcessEnv): Limits {
  const limits: Record<string, number> = { ...DEFAULT_LIMITS };
  for (const [key, variable] of Object.entries(LIMIT_VARIABLES)) {
    const raw = env[variable];
    if (raw !== undefined && raw !== '') limits[key] = positiveInteger(variable, raw);
  }
  if ((limits.maxFrame ?? 0) < 4096)
    throw sispError('E_BAD_REQUEST', 'SISP_MAX_FRAME must be at least 4096');
  return limits as unknown as Limits;
}

export function parsePort(raw: string): number {
  const port = positiveInteger('port', raw);
  if (port > 65535) throw sispError('E_BAD_REQUEST', 'port must be at most 65535');
  return port;
}
