/**
 * The SQLite store as seen from the event loop: every call is posted to a worker
 * thread that runs it on better-sqlite3, so fsyncs never block the server.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import type { Store, StoreMethods } from './types.js';

interface Reply {
  readonly seq: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

function workerUrl(): URL {
  // Built code runs the .js file; tests run the TypeScript sources through tsx.
  const js = new URL('./sqlite-worker.js', import.meta.url);
  return existsSync(js) ? js : new URL('./sqlite-worker.ts', import.meta.url);
}

export async function openSqliteStore(path: string): Promise<Store> {
  const url = workerUrl();
  // From TypeScript sources (tests), the worker first registers tsx, then loads the .ts file.
  const worker = url.pathname.endsWith('.ts')
    ? new Worker(
        `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(url.href)}); });`,
        { eval: true, workerData: { path } },
      )
    : new Worker(url, { workerData: { path } });
  const pending = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (error: Error) => void }
  >();
  let seq = 0;
  let failure: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => {
      resolve();
    });
    worker.once('error', reject);
  });
  worker.on('message', (reply: Reply) => {
    const waiter = pending.get(reply.seq);
    if (waiter === undefined) return;
    pending.delete(reply.seq);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(new Error(reply.error ?? 'store failure'));
  });
  worker.on('error', (error) => {
    failure = error;
    for (const waiter of pending.values()) waiter.reject(error);
    pending.clear();
  });

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (failure !== undefined) return Promise.reject(failure);
    return new Promise((resolve, reject) => {
      const id = ++seq;
      pending.set(id, { resolve, reject });
      worker.postMessage({ seq: id, method, args });
    });
  };

  const names: (keyof StoreMethods)[] = [
    'getUser',
    'createUser',
    'putImage',
    'getImage',
    'findImage',
    'listVisible',
    'canSee',
    'getKey',
    'addKeys',
    'blobInUse',
    'allBlobs',
  ];
  const store: Record<string, unknown> = {};
  for (const name of names) store[name] = (...args: unknown[]) => call(name, args);
  store.close = async () => {
    await call('close', []);
    await worker.terminate();
  };
  return store as unknown as Store;
}
