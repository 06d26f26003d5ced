/** Worker thread that owns the SQLite connection and answers store calls. */
import { parentPort, workerData } from 'node:worker_threads';
import { openSqlite } from './sqlite-methods.js';
import { isStoreMethod } from './types.js';
import { errorToWire, type StoreCall, type StoreReply } from './worker-protocol.js';

const port = parentPort;
if (port === null) throw new Error('sqlite-worker must run as a worker thread');
const store = openSqlite((workerData as { path: string }).path);
const methods = store as unknown as Record<string, (...args: unknown[]) => unknown>;

function run(call: StoreCall): unknown {
  const method = isStoreMethod(call.method) ? methods[call.method] : undefined;
  if (method === undefined) throw new Error(`unknown store method ${call.method}`);
  return method(...call.args);
}

port.on('message', (call: StoreCall) => {
  if (call.method === 'close') {
    store.close();
    port.postMessage({ seq: call.seq, ok: true, result: undefined } satisfies StoreReply);
    port.close();
    return;
  }
  let reply: StoreReply;
  try {
    reply = { seq: call.seq, ok: true, result: run(call) };
  } catch (error) {
    reply = { seq: call.seq, ok: false, error: errorToWire(error) };
  }
  port.postMessage(reply);
});
port.postMessage({ ready: true });
