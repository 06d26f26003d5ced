/**
 * Server configuration: defaults, then environment variables, then flags. Every
 * limit is an option with a safe default (docs/OPERATIONS.md lists them).
 */
import { DEFAULT_MAX_FRAME } from '../protocol/messages.js';
import { sispError } from '../protocol/errors.js';

export interface ServerConfig {
  readonly dataDir: string;
  readonly host: string;
  readonly port: number;
  /** Extra names for the TLS certificate (besides localhost and the host). */
  readonly tlsNames: readonly string[];
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
};

const LIMIT_ENV: Record<keyof Limits, string> = {
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
  for (const [key, variable] of Object.entries(LIMIT_ENV)) {
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
