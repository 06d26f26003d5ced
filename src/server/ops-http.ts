/**
 * What an operator's tooling asks the server: `GET /healthz` (the process is up and
 * answering), `GET /readyz` (the database and the blob store answer, within a
 * deadline) and, on the metrics listener only, `GET /metrics` (Prometheus text). The
 * health endpoints are on the public port too: they say nothing about anyone.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ServerContext } from './context.js';
import type { ServerMetrics } from './metrics.js';

const READY_DEADLINE_MS = 2000;
const HEADERS = { 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };

function deadline<T>(work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`${what} did not answer in ${READY_DEADLINE_MS} ms`));
      }, READY_DEADLINE_MS);
    }),
  ]).finally(() => {
    clearTimeout(timer);
  });
}

/** Which dependencies fail to answer now (empty: ready). Reasons go to the log only. */
export async function readinessProblems(context: ServerContext): Promise<string[]> {
  const checks: [string, Promise<unknown>][] = [
    ['database', context.store.eventHead()],
    ['blob store', context.blobs.freeSpace()],
  ];
  const problems: string[] = [];
  for (const [name, check] of checks) {
    try {
      await deadline(check, name);
    } catch (error) {
      problems.push(name);
      context.log.warn(
        {
          event: 'readyz.failed',
          dependency: name,
          err: error instanceof Error ? error.message : 'unknown',
        },
        'a dependency is not ready',
      );
    }
  }
  return problems;
}

/** Answers /healthz and /readyz (and /metrics when given the metrics); false for any other path. */
export function serveOps(
  context: ServerContext,
  path: string,
  response: ServerResponse,
  metrics?: ServerMetrics,
): boolean {
  if (path === '/healthz') {
    response.writeHead(200, { ...HEADERS, 'content-type': 'text/plain' }).end('ok\n');
    return true;
  }
  if (path === '/readyz') {
    void readinessProblems(context).then((problems) => {
      const ready = problems.length === 0;
      response
        .writeHead(ready ? 200 : 503, { ...HEADERS, 'content-type': 'application/json' })
        .end(`${JSON.stringify({ ready, failing: problems })}\n`);
    });
    return true;
  }
  if (path === '/metrics' && metrics !== undefined) {
    metrics.registry.metrics().then(
      (text) => {
        response
          .writeHead(200, { ...HEADERS, 'content-type': metrics.registry.contentType })
          .end(text);
      },
      () => {
        response.writeHead(500, HEADERS).end();
      },
    );
    return true;
  }
  return false;
}

/** The metrics listener: plain HTTP, meant for loopback or a private network. */
export async function startMetricsListener(
  context: ServerContext,
  metrics: ServerMetrics,
  host: string,
  port: number,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    if (request.method !== 'GET' || !serveOps(context, path, response, metrics))
      response.writeHead(404, { ...HEADERS, 'content-type': 'text/plain' }).end('not found\n');
  });
  server.requestTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shown}:${address.port}/`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => {
          resolve();
        });
        server.closeAllConnections();
      }),
  };
}
