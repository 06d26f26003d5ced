/**
 * Starts one of our worker-thread modules. Built code runs the .js file beside the
 * caller; tests run the TypeScript sources, where the worker first registers tsx
 * and then imports the .ts file.
 */
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

/** `base` is the worker module's URL without its extension. */
export function startWorker(base: URL, workerData: unknown): Worker {
  const js = new URL(`${base.href}.js`);
  if (existsSync(js)) return new Worker(js, { workerData });
  const ts = new URL(`${base.href}.ts`);
  return new Worker(
    `import('tsx/esm/api').then((api) => { api.register(); return import(${JSON.stringify(ts.href)}); });`,
    { eval: true, workerData },
  );
}
