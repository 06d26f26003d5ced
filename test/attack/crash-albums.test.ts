/**
 * kill -9 while an owner fills, empties, shares and takes back an album, again and
 * again: after every restart each acknowledged change holds (the album's contents,
 * its members) and nothing is half-done (whatever a member lists through the
 * album, they can download and verify).
 */
import { strict as assert } from 'node:assert';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { IMAGES } from '../support/paths.js';
import { registered, startServer, tempDir, type ClientHome } from '../e2e/harness.js';
import { rounds, until } from './budget.js';

interface AlbumState {
  readonly images: Set<string>;
  shared: boolean;
}

/** The n-th change: toggle an image's place in the album, and now and then the membership. */
function nextChange(state: AlbumState, n: number, names: readonly string[]): string[] {
  if (n % 4 === 3)
    return state.shared
      ? ['album', 'unshare', 'pile', '--from', 'ben']
      : ['album', 'share', 'pile', '--to', 'ben'];
  const name = names[n % names.length] ?? 'img0';
  return state.images.has(name)
    ? ['album', 'remove', 'pile', name]
    : ['album', 'add', 'pile', name];
}

function apply(state: AlbumState, args: readonly string[]): void {
  const [, verb, , name] = args;
  if (verb === 'share') state.shared = true;
  else if (verb === 'unshare') state.shared = false;
  else if (verb === 'add') state.images.add(name ?? '');
  else if (verb === 'remove') state.images.delete(name ?? '');
}

async function shown(ann: ClientHome): Promise<{ images: Set<string>; shared: boolean }> {
  const result = await ann.run(['album', 'show', 'pile', '--json']);
  assert.equal(result.code, 0, result.stderr);
  const album = JSON.parse(result.stdout) as { members: string[]; images: { name: string }[] };
  return {
    images: new Set(album.images.map((image) => image.name)),
    shared: album.members.includes('ben'),
  };
}

describe('kill -9 during album changes', () => {
  it('keeps every acknowledged change and leaves nothing half-done', async (t) => {
    const dataDir = tempDir('crash-albums');
    let server = await startServer({ dataDir });
    const port = Number(new URL(server.url).port);
    const [ann, ben] = await registered(server, 'ann', 'ben');
    const names = Array.from({ length: 6 }, (_, i) => `img${i}`);
    for (const name of names)
      assert.equal(
        (await ann.run(['post', name, join(IMAGES, 'hopper.png'), '--to', 'ann'])).code,
        0,
      );
    assert.equal((await ann.run(['album', 'create', 'pile'])).code, 0);
    const state: AlbumState = { images: new Set(), shared: false };
    let acknowledged = 0;
    let pending: string[] | undefined;
    const started = Date.now();
    let round = 0;
    try {
      for (; round < rounds(3) && until(started); round++) {
        const running = { alive: true };
        const alive = (): boolean => running.alive;
        const changes = (async () => {
          for (let n = round; alive(); n++) {
            const args = nextChange(state, n, names);
            pending = args;
            const result = await ann.run(args, { timeoutMs: 30_000 });
            if (result.code === 0) {
              pending = undefined;
              apply(state, args);
              acknowledged++;
            } else if (alive()) assert.fail(`${args.join(' ')}: ${result.stderr}`);
          }
        })();
        await new Promise((resolve) => setTimeout(resolve, 1500 + ((round * 397) % 1500)));
        running.alive = false;
        await server.stop('SIGKILL');
        await changes;
        server = await startServer({ dataDir, port });
        const actual = await shown(ann);
        // The change in flight at the kill may or may not have landed: learn which.
        if (pending !== undefined) {
          const [, verb, , name] = pending;
          if (verb === 'share' || verb === 'unshare') state.shared = actual.shared;
          else if (actual.images.has(name ?? '')) state.images.add(name ?? '');
          else state.images.delete(name ?? '');
          pending = undefined;
        }
        assert.deepEqual([...actual.images].sort(), [...state.images].sort(), 'contents hold');
        assert.equal(actual.shared, state.shared, 'membership holds');
        // Never half-done: whatever ben lists, ben can download and verify.
        const listed = await ben.run(['list']);
        assert.equal(listed.code, 0, listed.stderr);
        const seen = listed.stdout.split('\n').filter((line) => line.startsWith('ann/'));
        assert.equal(seen.length, state.shared ? state.images.size : 0);
        for (const line of seen) {
          const reference = line.split(' ')[0] ?? '';
          const got = await ben.run(['download', reference, '--force']);
          assert.equal(got.code, 0, `${reference}: ${got.stderr}`);
        }
      }
    } finally {
      await server.stop();
    }
    t.diagnostic(`${round} kill -9 rounds, ${acknowledged} acknowledged album changes, all kept`);
    assert.ok(round > 0);
    assert.ok(acknowledged > 0, 'changes were acknowledged between the kills');
  });
});
