/**
 * kill -9 while an owner shares, unshares and deletes, again and again: after every
 * restart each acknowledged change holds, and what the server shows is never
 * half-done (an image a reader lists, the reader can download; a deleted one is
 * gone for everyone).
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IMAGES } from '../support/paths.js';
import { registered, startServer, tempDir, type ClientHome } from '../e2e/harness.js';
import { rounds, until } from './budget.js';

type State = 'private' | 'shared' | 'deleted';

/** One change the owner makes to image `name`, and the state it leads to. */
function nextChange(state: State, n: number): { args: string[]; to: State } | undefined {
  if (state === 'deleted') return undefined;
  if (state === 'private')
    return n % 5 === 4
      ? { args: ['delete'], to: 'deleted' }
      : { args: ['share', '--to', 'ben'], to: 'shared' };
  return { args: ['unshare', '--from', 'ben'], to: 'private' };
}

async function listedBy(home: ClientHome): Promise<string> {
  const listed = await home.run(['list']);
  assert.equal(listed.code, 0, listed.stderr);
  return listed.stdout;
}

describe('kill -9 during shares, unshares and deletes', () => {
  it('keeps every acknowledged change and leaves nothing half-done', async (t) => {
    const dataDir = tempDir('crash-sharing');
    let server = await startServer({ dataDir });
    const port = Number(new URL(server.url).port);
    const [ann, ben] = await registered(server, 'ann', 'ben');
    const names = Array.from({ length: 8 }, (_, i) => `img${i}`);
    for (const name of names)
      assert.equal(
        (await ann.run(['post', name, join(IMAGES, 'hopper.png'), '--to', 'ann'])).code,
        0,
      );
    const state = new Map<string, State>(names.map((name) => [name, 'private']));
    let acknowledged = 0;
    let pending: string | undefined;
    const started = Date.now();
    let round = 0;
    try {
      for (; round < rounds(3) && until(started); round++) {
        const running = { alive: true };
        // Read through a call: it changes while the loop awaits, which narrowing cannot see.
        const alive = (): boolean => running.alive;
        const changes = (async () => {
          for (let n = 0; alive(); n++) {
            const name = names[(n + round) % names.length] ?? 'img0';
            const change = nextChange(state.get(name) ?? 'deleted', n);
            if (change === undefined) continue;
            const [verb, ...flags] = change.args;
            pending = name;
            const result = await ann.run([verb ?? '', name, ...flags], { timeoutMs: 30_000 });
            if (result.code === 0) {
              pending = undefined;
              state.set(name, change.to);
              acknowledged++;
            } else if (alive()) assert.fail(`${verb ?? ''} ${name}: ${result.stderr}`);
            if ([...state.values()].every((s) => s === 'deleted')) break;
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 1500 + ((round * 397) % 1500)));
        running.alive = false;
        await server.stop('SIGKILL');
        await changes;
        server = await startServer({ dataDir, port });
        const annList = await listedBy(ann);
        const benList = await listedBy(ben);
        for (const [name, s] of state) {
          const pattern = new RegExp(`^ann/${name} `, 'm');
          const actual: State = !pattern.test(annList)
            ? 'deleted'
            : pattern.test(benList)
              ? 'shared'
              : 'private';
          // The change in flight at the kill may or may not have landed: learn which.
          if (name === pending) state.set(name, actual);
          else assert.equal(actual, s, `${name}: the acknowledged change holds`);
        }
        pending = undefined;
        // Never half-done: whatever ben lists, ben can download.
        for (const line of benList.split('\n').filter((l) => l.startsWith('ann/'))) {
          const reference = line.split(' ')[0] ?? '';
          const got = await ben.run(['download', reference, '--force']);
          assert.equal(got.code, 0, `${reference}: ${got.stderr}`);
        }
      }
    } finally {
      await server.stop();
    }
    t.diagnostic(`${round} kill -9 rounds, ${acknowledged} acknowledged changes, all kept`);
    assert.ok(round > 0);
    assert.ok(acknowledged > 0, 'changes were acknowledged between the kills');
  });
});
