/**
 * The server process: TLS 1.3 + WebSocket listener, sessions, and an orderly
 * shutdown that finishes or abandons transfers cleanly before exiting.
 */
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';
import { BlobStore } from './blobs.js';
import type { ServerConfig } from './config.js';
import type { ServerContext } from './context.js';
import { EventBus } from './events.js';
import { createLogger } from './log.js';
import { loadOrCreatePki } from './pki.js';
import { RateLimiter } from './rate-limit.js';
import { Session } from './session.js';
import { openSqliteStore } from './store/sqlite-store.js';

export interface RunningServer {
  readonly url: string;
  readonly caFingerprint: string;
  readonly context: ServerContext;
  stop(): Promise<void>;
}

export async function startServer(
  config: ServerConfig,
  options: { caKeyFile?: string } = {},
): Promise<RunningServer> {
  const log = createLogger(config.dataDir, { stdout: config.logToStdout, level: config.logLevel });
  const pki = await loadOrCreatePki(config.dataDir, {
    host: config.host,
    tlsNames: config.tlsNames,
    ...(options.caKeyFile === undefined ? {} : { caKeyFile: options.caKeyFile }),
  });
  const store = await openSqliteStore(join(config.dataDir, 'sisp.db'));
  const blobs = await BlobStore.open(config.dataDir);
  const context: ServerContext = {
    config,
    pki,
    store,
    blobs,
    events: new EventBus(),
    log,
    rateLimiter: new RateLimiter(config.limits.requestsPerSecond, config.limits.requestBurst),
  };
  await collectGarbage(context);

  const sessions = new Set<Session>();
  const https: HttpsServer = createServer({
    key: pki.tlsKeyPem,
    cert: pki.tlsCertPem,
    minVersion: 'TLSv1.3',
  });
  https.on('request', (_request, response) => {
    response
      .writeHead(426, { 'content-type': 'text/plain' })
      .end('sisp speaks WebSocket (SISP/2) here\n');
  });
  const wss = new WebSocketServer({
    server: https,
    maxPayload: config.limits.maxFrame,
    perMessageDeflate: false,
    verifyClient: (_info, done) => {
      if (sessions.size >= config.limits.maxConnections) done(false, 503, 'too many connections');
      else done(true);
    },
  });
  wss.on('connection', (ws, request) => {
    const session = new Session(ws, context, request.socket.remoteAddress ?? 'unknown');
    sessions.add(session);
    ws.on('close', () => sessions.delete(session));
  });
  wss.on('error', (error) => {
    log.error({ event: 'listener.error', reason: error.message }, 'WebSocket listener error');
  });
  https.on('tlsClientError', (error) => {
    log.info({ event: 'tls.error', reason: error.message }, 'TLS handshake failed');
  });

  await new Promise<void>((resolve, reject) => {
    https.once('error', reject);
    https.listen(config.port, config.host, () => {
      https.off('error', reject);
      resolve();
    });
  });
  const address = https.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const url = `wss://${host}:${address.port}/`;
  log.info(
    { event: 'start', url, dataDir: config.dataDir, caFingerprint: pki.caFingerprintText },
    'server started',
  );

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      log.info({ event: 'stop', sessions: sessions.size }, 'server stopping');
      https.close();
      await Promise.all([...sessions].map((session) => session.shutdown()));
      await new Promise<void>((resolve) => {
        wss.close(() => {
          resolve();
        });
      });
      await store.close();
      log.info({ event: 'stopped' }, 'server stopped');
      await new Promise<void>((resolve) => {
        log.flush(() => {
          resolve();
        });
      });
    })();
    return stopping;
  };
  return { url, caFingerprint: pki.caFingerprintText, context, stop };
}

/** Removes blob files no image refers to (left by a crash between rename and commit). */
async function collectGarbage(context: ServerContext): Promise<void> {
  const live = new Set(
    (await context.store.allBlobs()).map((sha) => Buffer.from(sha).toString('hex')),
  );
  let removed = 0;
  for (const hex of await context.blobs.list()) {
    if (!live.has(hex)) {
      await context.blobs.remove(Buffer.from(hex, 'hex'));
      removed++;
    }
  }
  if (removed > 0) context.log.info({ event: 'gc', removed }, 'removed unreferenced blobs');
}
