/**
 * PostgreSQL restarted under load, with two nodes on it (cluster-harness.ts): posts
 * fail plainly while it is down, and afterwards every post that was acknowledged is
 * listed and downloads, and a watcher on the other node was told of every one of
 * them (live, or caught up from the durable log once the bus reconnected). Nodes
 * recover without a restart of their own.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { restartPostgres } from '../support/postgres.js';
import { startCluster, type Cluster } from './cluster-harness.js';
import { IMAGES, clientHome, tempDir, type ClientHome } from './harness.js';

describe('PostgreSQL restarted under load', () => {
  let cluster: Cluster;
  let alice: ClientHome;
  let bob: ClientHome;

  before(async () => {
    cluster = await startCluster('outage');
    alice = clientHome(cluster.nodeA);
    bob = clientHome(cluster.nodeB);
    for (const [home, name] of [
      [alice, 'alice'],
      [bob, 'bob'],
    ] as const)
      assert.equal((await home.run(['register', name])).code, 0);
  });
  after(async () => {
    await cluster.stop();
  });

  it('acknowledged posts survive and every one reaches the watcher on the other node', async () => {
    const watcher = bob.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const acknowledged: string[] = [];
      const failed: string[] = [];
      const posting = (async () => {
        for (let index = 0; index < 12; index++) {
          const name = `during-${index}`;
          const result = await alice.run(['post', name, join(IMAGES, 'hopper.jpg')]);
          (result.code === 0 ? acknowledged : failed).push(name);
          await new Promise((resolve) => setTimeout(resolve, 150));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, 800));
      restartPostgres();
      await posting;
      assert.ok(acknowledged.length > 0, `nothing was acknowledged (failed: ${failed.join(', ')})`);
      // The database is back: every acknowledged post is there, and downloads.
      const listed = await bob.run(['list']);
      assert.equal(listed.code, 0, listed.stderr);
      for (const name of acknowledged) assert.match(listed.stdout, new RegExp(`\\b${name}\\b`));
      for (const name of failed) assert.doesNotMatch(listed.stdout, new RegExp(`\\b${name}\\b`));
      const out = join(tempDir('out'), 'one.jpg');
      const last = acknowledged.at(-1) ?? '';
      assert.equal((await bob.run(['download', `alice/${last}`, '--out', out])).code, 0);
      // And the watcher on node B was told of each of them, exactly once.
      await watcher.waitFor(
        (stdout) => acknowledged.every((name) => stdout.includes(`NEW_IMAGE ${name} alice`)),
        30_000,
      );
      for (const name of acknowledged) {
        const told = watcher.stdout
          .split('\n')
          .filter((line) => line === `NEW_IMAGE ${name} alice`);
        assert.equal(told.length, 1, `${name} told ${told.length} times`);
      }
      // The outage was real: each node's event bus dropped, came back and caught up.
      for (const node of [cluster.nodeA, cluster.nodeB]) {
        const logged = readFileSync(join(node.dataDir, 'logs', 'sisp.log'), 'utf8');
        assert.match(logged, /"event":"events\.resumed"/);
      }
    } finally {
      await watcher.stop();
    }
  });
});
