/**
 * Two `sisp serve` nodes sharing PostgreSQL (metadata, and events by LISTEN/NOTIFY)
 * and an S3-compatible store (s3rver), with one identity: node B's data directory
 * holds copies of node A's CA, TLS and wrap keys, as OPERATIONS.md says to deploy.
 * Clients pinned on one node trust the other; a post through A reaches a watcher on
 * B and downloads through B; a private post reaches only its audience; a node killed
 * mid-upload leaves nothing visible and no blob behind while the other serves on.
 */
import { strict as assert } from 'node:assert';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freshSchema, testPostgres } from '../support/postgres.js';
import {
  IMAGES,
  clientHome,
  largeJpeg,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

const BUCKET = 'sisp-cluster';
const KEY_FILES = ['ca.pem', 'ca-key.pem', 'tls-key.pem', 'wrap-key.pem'];

describe('two nodes on PostgreSQL and S3', () => {
  const s3dir = mkdtempSync(join(tmpdir(), 'sisp-s3rver-'));
  let dropSchema: () => Promise<void> = () => Promise.resolve();
  let s3rver: S3rver;
  let s3: S3Client;
  let env: Record<string, string> = {};
  let nodeA: ServerProcess;
  let nodeB: ServerProcess;
  const homes: Record<string, ClientHome> = {};

  before(async () => {
    const database = await freshSchema(await testPostgres(), 'cluster');
    dropSchema = database.drop;
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: s3dir });
    const endpoint = `http://127.0.0.1:${(await s3rver.run()).port}`;
    s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    env = {
      SISP_DB: database.url,
      SISP_BLOBS: `s3://${BUCKET}/cluster?endpoint=${encodeURIComponent(endpoint)}`,
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    };
    nodeA = await startServer({ env });
    // One identity for the cluster: B starts from copies of A's keys.
    const dataB = tempDir('data-b');
    for (const file of KEY_FILES) copyFileSync(join(nodeA.dataDir, file), join(dataB, file));
    nodeB = await startServer({ env, dataDir: dataB });
    homes.alice = clientHome(nodeA);
    homes.bob = clientHome(nodeB);
    homes.carol = clientHome(nodeB);
    for (const [name, home] of Object.entries(homes)) {
      const registered = await home.run(['register', name]);
      assert.equal(registered.code, 0, registered.stderr);
    }
  });
  after(async () => {
    await Promise.all([nodeA.stop(), nodeB.stop()]);
    s3.destroy();
    await s3rver.close();
    rmSync(s3dir, { recursive: true, force: true });
    await dropSchema();
  });

  const home = (name: string): ClientHome => {
    const found = homes[name];
    assert.ok(found !== undefined);
    return found;
  };

  async function blobKeys(): Promise<string[]> {
    const listed = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'cluster/blobs/' }),
    );
    return (listed.Contents ?? []).map((object) => object.Key ?? '');
  }

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
    assert.equal((await blobKeys()).length, 1);
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
    const before = await blobKeys();
    const uploading = home('alice').spawn(['post', 'interrupted', largeJpeg(64 * 1024 * 1024)]);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    nodeA.process.kill('SIGKILL');
    await uploading.stop();
    const listed = await home('bob').run(['list']);
    assert.equal(listed.code, 0, listed.stderr);
    assert.doesNotMatch(listed.stdout, /interrupted/);
    assert.match(listed.stdout, /flower/);
    assert.deepEqual(await blobKeys(), before, 'no blob without its image');
  });
});
