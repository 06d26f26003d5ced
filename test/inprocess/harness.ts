/**
 * The in-process layer: a real server (TLS, WebSocket, SQLite in its worker, blob
 * files) and real core clients in the test's own process, over loopback sockets.
 * Fast enough to test sessions, handlers and the client's state machines case by
 * case; the spawned e2e suites still cover the executable as users run it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NODE_CRYPTO } from '../../src/client/platform.js';
import { nodeConnector } from '../../src/client/ws-transport.js';
import { SispClient } from '../../src/core/client.js';
import { MemoryStorage } from '../../src/core/storage.js';
import { DEFAULT_LIMITS, type Limits } from '../../src/server/config.js';
import type { ContextOptions } from '../../src/server/context.js';
import { startServer, type RunningServer } from '../../src/server/server.js';

export interface TestServer {
  readonly url: string;
  readonly caPem: string;
  readonly caPath: string;
  readonly dataDir: string;
  readonly running: RunningServer;
  stop(): Promise<void>;
}

export async function testServer(
  limits: Partial<Limits> = {},
  options: ContextOptions = {},
): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sisp-inproc-'));
  const running = await startServer(
    {
      dataDir,
      host: '127.0.0.1',
      port: 0,
      tlsNames: [],
      limits: { ...DEFAULT_LIMITS, ...limits },
      logToStdout: false,
      logLevel: 'info',
    },
    options,
  );
  const caPath = join(dataDir, 'ca.pem');
  let stopped = false;
  return {
    url: running.url,
    caPem: readFileSync(caPath, 'utf8'),
    caPath,
    dataDir,
    running,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A core client over the Node adapters, its state in memory. */
export function clientOptions(server: TestServer, storage = new MemoryStorage()) {
  return {
    storage,
    connector: nodeConnector,
    crypto: NODE_CRYPTO,
    server: server.url,
    caPem: server.caPem,
  };
}

/** Registers `username` and returns the signed-in client (and its storage, to log in again). */
export async function registered(
  server: TestServer,
  username: string,
): Promise<{ client: SispClient; storage: MemoryStorage }> {
  const storage = new MemoryStorage();
  const client = await SispClient.connect(clientOptions(server, storage));
  await client.register(username);
  return { client, storage };
}

/** A fresh connection for a user already registered in `storage`. */
export function login(server: TestServer, storage: MemoryStorage): Promise<SispClient> {
  return SispClient.login(clientOptions(server, storage));
}

/** Runs `body` against a fresh server, stopping it whatever happens. */
export async function withServer<T>(
  limits: Partial<Limits>,
  body: (server: TestServer) => Promise<T>,
  options: ContextOptions = {},
): Promise<T> {
  const server = await testServer(limits, options);
  try {
    return await body(server);
  } finally {
    await server.stop();
  }
}
