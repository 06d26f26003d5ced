/**
 * The server process: TLS 1.3 + WebSocket listener, sessions, and an orderly
 * shutdown that finishes or abandons transfers cleanly before exiting.
 */
import { createServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import type { ServerConfig } from './config.js';
import { createServerContext, type ContextOptions, type ServerContext } from './context.js';
import { Session } from './session.js';

export interface RunningServer {
  readonly url: string;
  readonly caFingerprint: string;
  readonly context: ServerContext;
  stop(): Promise<void>;
}

export async function startServer(
  config: ServerConfig,
  options: ContextOptions = {},
): Promise<RunningServer> {
  const context = await createServerContext(config, options);
  const { log, pki } = context;

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
  return { url, caFingerprint: pki.caFingerprintText, context, stop };
}
