/** Worker thread that owns the SQLite connection and answers store calls. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-methods.js';

interface Call {
  readonly seq: number;
  readonly method: string;
  readonly args: unknown[];
}

const port = parentPort;
if (port === null) throw new Error('sqlite-worker must run as a worker thread');
const store = openSqlite((workerData as { path: string }).path);
const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;

port.on('message', (call: Call) => {
  try {
    const method = methods[call.method];
    if (method === undefined) throw new Error(`unknown store method ${call.method}`);
    const result = method(...call.args);
    if (call.method === 'close') {
      port.postMessage({ seq: call.seq, ok: true, result: undefined });
      port.close();
      return;
    }
    port.postMessage({ seq: call.seq, ok: true, result });
  } catch (error) {
    port.postMessage({
      seq: call.seq,
      ok: false,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
port.postMessage({ ready: true });
