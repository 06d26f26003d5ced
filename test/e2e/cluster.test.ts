/**
 * Two `sisp serve` nodes sharing PostgreSQL (metadata, and events by LISTEN/NOTIFY)
 * and an S3-compatible store (cluster-harness.ts), with one identity.
 * Clients pinned on one node trust the other; a post through A reaches a watcher on
 * B and downloads through B; a private post reaches only its audience; a node killed
 * mid-upload leaves nothing visible and no blob behind while the other serves on.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startCluster, type Cluster } from './cluster-harness.js';
import {
  IMAGES,
  clientHome,
  largeJpeg,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

describe('two nodes on PostgreSQL and S3', () => {
  let cluster: Cluster;
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  const homes: Record<string, ClientHome> = {};

  before(async () => {
    cluster = await startCluster('cluster');
    ({ nodeA, nodeB } = cluster);
    homes.alice = clientHome(nodeA);
    homes.bob = clientHome(nodeB);
    homes.carol = clientHome(nodeB);
    for (const [name, home] of Object.entries(homes)) {
      const registered = await home.run(['register', name]);
      assert.equal(registered.code, 0, registered.stderr);
    }
  });
  after(async () => {
    await cluster.stop();
  });

  const home = (name: string): ClientHome => {
    const found = homes[name];
    assert.ok(found !== undefined);
    return found;
  };

  it('both nodes show the same CA; a post through A reaches a watcher on B, which downloads it through B', async () => {
    assert.equal(readFileSync(nodeA.caPath, 'utf8'), readFileSync(nodeB.caPath, 'utf8'));
    const watcher = home('bob').spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const posted = await home('alice').run(['post', 'flower', join(IMAGES, 'flower.jpg')]);
      assert.equal(posted.code, 0, posted.stderr);
      await watcher.waitFor((out) => out.includes('NEW_IMAGE flower alice'), 10_000);
    } finally {
      await watcher.stop();
    }
    const out = join(tempDir('out'), 'flower.jpg');
    const fetched = await home('bob').run(['download', 'alice/flower', '--out', out]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(join(IMAGES, 'flower.jpg'))));
    assert.equal((await cluster.blobKeys()).length, 1);
  });

  it('a private post through A reaches only its audience on B', async () => {
    const watchers = { bob: home('bob').spawn(['watch']), carol: home('carol').spawn(['watch']) };
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const posted = await home('alice').run([
        'post',
        'secret',
        join(IMAGES, 'hopper.png'),
        '--to',
        'carol',
      ]);
      assert.equal(posted.code, 0, posted.stderr);
      await watchers.carol.waitFor((out) => out.includes('NEW_IMAGE secret alice'), 10_000);
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.ok(!watchers.bob.stdout.includes('secret'), 'bob is not told');
    } finally {
      await Promise.all([watchers.bob.stop(), watchers.carol.stop()]);
    }
    const out = join(tempDir('out'), 'secret.png');
    assert.equal((await home('carol').run(['download', 'alice/secret', '--out', out])).code, 0);
    assert.equal((await home('bob').run(['download', 'alice/secret'])).code, 1);
  });

  it('20 clients spread over both nodes post and download at once, all succeed', async () => {
    const clients = Array.from({ length: 20 }, (_, index) => ({
      name: `user${String(index).padStart(2, '0')}`,
      home: clientHome(index % 2 === 0 ? nodeA : nodeB),
    }));
    const registered = await Promise.all(
      clients.map(({ name, home: h }) => h.run(['register', name])),
    );
    for (const result of registered) assert.equal(result.code, 0, result.stderr);
    const posted = await Promise.all(
      clients.map(({ home: h }) => h.run(['post', 'mine', join(IMAGES, 'hopper.jpg')])),
    );
    for (const result of posted) assert.equal(result.code, 0, result.stderr);
    // Each downloads the next one's image, through the other node.
    const fetched = await Promise.all(
      clients.map(({ home: h }, index) => {
        const next = clients[(index + 1) % clients.length]?.name ?? '';
        return h.run(['download', `${next}/mine`, '--out', join(tempDir('out'), 'mine.jpg')]);
      }),
    );
    for (const result of fetched) assert.equal(result.code, 0, result.stderr);
  });

  it('node A killed mid-upload: nothing visible, no blob left, and B serves on', async () => {
    const before = await cluster.blobKeys();
    const uploading = home('alice').spawn(['post', 'interrupted', largeJpeg(64 * 1024 * 1024)]);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    nodeA.process.kill('SIGKILL');
    await uploading.stop();
    const listed = await home('bob').run(['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /interrupted/);
    assert.match(listed.stdout, /flower/);
    assert.deepEqual(await cluster.blobKeys(), before, 'no blob without its image');
  });
});
