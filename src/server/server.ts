/**
 * The server process: TLS 1.3 + WebSocket listener, sessions, and an orderly
 * shutdown that finishes or abandons transfers cleanly before exiting.
 */
import { createServer, type Server as HttpsServer } from 'node:https';
import { readFile } from 'node:fs/promises';
import type { AddressInfo, Socket } from 'node:net';
import { createSecureContext, type TLSSocket } from 'node:tls';
import { sispError } from '../protocol/errors.js';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from './config.js';
import { linkRequestHandler } from './link-http.js';
import { startMetricsListener } from './ops-http.js';
import { loadWebApp } from './web-app.js';
import { createServerContext, type ContextOptions, type ServerContext } from './context.js';
import { loadOrCreateTicketKeys } from './ticket-keys.js';
import { Session } from './session.js';

/** Sockets accepted beyond the session limit, so that a client past it is told 503. */
const MARGIN = 64;

export interface RunningServer {
  readonly url: string;
  readonly caFingerprint: string;
  /** The browser app's digest (SHA-256 of its index.html), when the app is built. */
  readonly appDigest: string | undefined;
  /** http://HOST:PORT/ of the metrics listener, when one was asked for. */
  readonly metricsUrl: string | undefined;
  readonly context: ServerContext;
  /** Re-reads the operator's TLS files (after a renewal); nothing to do without them. */
  reloadTls(): Promise<void>;
  stop(): Promise<void>;
}

/** The listener's certificate: the operator's files, checked to match, or the sisp CA's own. */
async function listenerCertificate(
  config: ServerConfig,
  pki: ServerContext['pki'],
): Promise<{ cert: string; key: string }> {
  if (config.tlsFiles === undefined) return { cert: pki.tlsCertPem, key: pki.tlsKeyPem };
  const pair = {
    cert: await readFile(config.tlsFiles.cert, 'utf8'),
    key: await readFile(config.tlsFiles.key, 'utf8'),
  };
  try {
    // Throws when the key is not the certificate's, or either is not PEM.
    createSecureContext(pair);
  } catch (cause) {
    throw sispError('E_CERTIFICATE', 'the --tls-cert and --tls-key files do not make a pair', {
      cause,
    });
  }
  return pair;
}

export async function startServer(
  config: ServerConfig,
  options: ContextOptions = {},
): Promise<RunningServer> {
  const context = await createServerContext(config, options);
  const { log, pki } = context;

  const app = loadWebApp();
  // Where a catch-up after the event bus lost events starts: see onResume below.
  let lastSeen = await context.store.eventHead();
  const sessions = new Set<Session>();
  const limits = config.limits;
  const ticketKeys = await loadOrCreateTicketKeys(config.dataDir);
  const https: HttpsServer = createServer({
    ...(await listenerCertificate(config, pki)),
    minVersion: 'TLSv1.3',
    ticketKeys,
    // A socket that has not finished TLS in this time is dropped (and counted).
    handshakeTimeout: limits.tlsHandshakeTimeoutMs,
    // How often the upgrade request's deadline (below) is checked; Node's default is 30 s.
    connectionsCheckingInterval: 1000,
  });
  // Sockets count from accept, before TLS: past the limit Node drops them at once.
  // The margin above the session limit lets a client past it be told 503.
  https.maxConnections = limits.maxConnections + MARGIN;
  // After TLS, the WebSocket upgrade request must arrive as promptly (slowloris).
  https.headersTimeout = limits.tlsHandshakeTimeoutMs;
  https.requestTimeout = limits.tlsHandshakeTimeoutMs;
  https.on('drop', () => {
    context.occupancy.refused('connections');
  });
  https.on('connection', (socket: Socket) => {
    const address = socket.remoteAddress ?? 'unknown';
    if (!context.occupancy.enterAddress(address)) {
      socket.destroy();
      return;
    }
    socket.once('close', () => {
      context.occupancy.addresses.leave(address);
    });
  });
  // Links open over plain HTTPS; anything else is for the WebSocket.
  https.on('request', linkRequestHandler(context, app));
  const wss = new WebSocketServer({
    server: https,
    maxPayload: config.limits.maxFrame,
    perMessageDeflate: false,
    verifyClient: (_info, done) => {
      if (sessions.size < limits.maxConnections) {
        done(true);
        return;
      }
      context.occupancy.refused('connections');
      done(false, 503, 'too many connections');
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
  // Failed handshakes are counted and logged in summary: a flood makes one line, not thousands.
  https.on('secureConnection', (socket: TLSSocket) => {
    context.metrics.tlsHandshakes.inc({ kind: socket.isSessionReused() ? 'resumed' : 'full' });
  });
  https.on('tlsClientError', () => {
    context.occupancy.refused('tls handshake');
  });

  try {
    await new Promise<void>((resolve, reject) => {
      https.once('error', reject);
      https.listen(config.port, config.host, () => {
        https.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    // The port is taken (or the like): give the data directory back.
    await context.close();
    throw error;
  }
  // The bus lost events (a dropped connection to the other nodes): catch watchers up
  // from the last position this node saw (every session sees every event).
  context.events.subscribe((event) => {
    lastSeen = Math.max(lastSeen, event.position);
  });
  context.events.onResume(() => {
    log.warn(
      { event: 'events.resumed', sessions: sessions.size, after: lastSeen },
      'event bus resumed; catching up',
    );
    const from = lastSeen;
    for (const session of sessions) void session.catchUp(from);
  });
  context.metrics.observe({
    connections: () => sessions.size,
    sessions: () => [...sessions].filter((session) => session.state === 'ready').length,
    transfers: () => {
      let uploads = 0;
      let downloads = 0;
      for (const session of sessions) {
        uploads += session.transfers.uploads;
        downloads += session.transfers.downloads;
      }
      return { uploads, downloads };
    },
  });
  let metricsListener: Awaited<ReturnType<typeof startMetricsListener>> | undefined;
  try {
    if (config.metricsPort !== undefined)
      metricsListener = await startMetricsListener(
        context,
        context.metrics,
        config.metricsHost ?? '127.0.0.1',
        config.metricsPort,
      );
  } catch (error) {
    https.close();
    await context.close();
    throw error;
  }
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
      await metricsListener?.close();
      await Promise.all([...sessions].map((session) => session.shutdown()));
      await new Promise<void>((resolve) => {
        wss.close(() => {
          resolve();
        });
      });
      await context.close();
      log.info({ event: 'stopped' }, 'server stopped');
      await new Promise<void>((resolve) => {
        log.flush(() => {
          resolve();
        });
      });
    })();
    return stopping;
  };
  const reloadTls = async (): Promise<void> => {
    if (config.tlsFiles === undefined) return;
    https.setSecureContext({
      ...(await listenerCertificate(config, pki)),
      minVersion: 'TLSv1.3',
      ticketKeys,
    });
    log.info({ event: 'tls.reloaded' }, 'TLS certificate re-read');
  };
  return {
    url,
    caFingerprint: pki.caFingerprintText,
    appDigest: app?.digest,
    metricsUrl: metricsListener?.url,
    context,
    reloadTls,
    stop,
  };
}
