/**
 * The SQLite store as seen from the event loop: every call is posted to a worker
 * thread that runs it on better-sqlite3, so fsyncs never block the server.
 */
import { startWorker } from '../../node/worker.js';
import type { Store, StoreMethods } from './types.js';

interface Reply {
  readonly seq: number;
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

export async function openSqliteStore(path: string): Promise<Store> {
  const worker = startWorker(new URL('./sqlite-worker', import.meta.url), { path });
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
