/** Fan-out: from a post's acknowledgement until the last of the watchers is told of it. */
import type { SispClient } from '../../src/core/client.js';

/** Milliseconds from `post()` resolving until every watcher has the event for `name`. */
export async function fanoutSpread(
  watchers: readonly SispClient[],
  name: string,
  post: () => Promise<unknown>,
): Promise<number> {
  let remaining = watchers.length;
  let last = 0;
  const all = new Promise<void>((done) => {
    for (const watcher of watchers)
      watcher.connection.onEvent = (event) => {
        if (event.body.name !== name) return;
        last = performance.now();
        if (--remaining === 0) done();
      };
  });
  await post();
  const acked = performance.now();
  await all;
  return Math.max(0, last - acked);
}
