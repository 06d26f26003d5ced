/**
 * The SQLite store as seen from the event loop: every call is posted to a worker
 * thread that runs it on better-sqlite3, so fsyncs never block the server. The
 * method list comes from STORE_METHODS; errors keep their codes across the thread.
 */
import { startWorker } from '../../node/worker.js';
import { sispError } from '../../protocol/errors.js';
import { STORE_METHODS, type Store } from './types.js';
import { errorFromWire, type StoreReply } from './worker-protocol.js';

interface Waiter {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: Error) => void;
}

export async function openSqliteStore(path: string): Promise<Store> {
  const worker = startWorker(new URL('./sqlite-worker', import.meta.url), { path });
  const pending = new Map<number, Waiter>();
  let seq = 0;
  let failure: Error | undefined;

  await new Promise<void>((resolve, reject) => {
    worker.once('message', () => {
      resolve();
    });
    worker.once('error', reject);
  });
  worker.on('message', (reply: StoreReply) => {
    const waiter = pending.get(reply.seq);
    if (waiter === undefined) return;
    pending.delete(reply.seq);
    if (reply.ok) waiter.resolve(reply.result);
    else waiter.reject(errorFromWire(reply.error));
  });
  worker.on('error', (error) => {
    failure = sispError('E_INTERNAL', 'the store stopped', { detail: error.message });
    for (const waiter of pending.values()) waiter.reject(failure);
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

  const store: Record<string, unknown> = {};
  for (const name of Object.keys(STORE_METHODS))
    store[name] = (...args: unknown[]) => call(name, args);
  store.close = async () => {
    await call('close', []);
    await worker.terminate();
  };
  return store as unknown as Store;
}
