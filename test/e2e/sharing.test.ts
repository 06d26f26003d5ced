/**
 * Taking things back, against real processes: delete (lists, watchers, downloads in
 * progress, the blob, restarts and kill -9) and usage with its quota.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SispClient } from '../../src/core/client.js';
import { deleteImage } from '../../src/core/manage.js';
import { Home } from '../../src/client/home.js';
import { NODE_CRYPTO } from '../../src/client/platform.js';
import { nodeConnector } from '../../src/client/ws-transport.js';
import { loggedInPeer } from '../support/raw-peer.js';
import {
  homeArgs,
  IMAGES,
  largeJpeg,
  registered,
  SISP,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

/** Every blob file in the server's data directory. */
function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) => readdirSync(join(root, prefix)));
}

describe('delete', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  let carol: ClientHome;

  before(async () => {
    server = await startServer();
    [alice, bob, carol] = await registered(server, 'alice', 'bob', 'carol');
  });
  after(async () => {
    await server.stop();
  });

  it('the image leaves every list at once, watchers are told, the blob goes, and only the owner may', async () => {
    const before = blobFiles(server.dataDir).length;
    assert.equal((await alice.run(['post', 'gone', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal(
      (await alice.run(['post', 'secret', join(IMAGES, 'flower.jpg'), '--to', 'bob'])).code,
      0,
    );
    assert.equal(blobFiles(server.dataDir).length, before + 2);
    const bobWatch = bob.spawn(['watch']);
    const carolWatch = carol.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const refused = await bob.run(['delete', 'alice/gone']);
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /only alice can delete alice\/gone/);

      const deleted = await alice.run(['delete', 'gone']);
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.equal(deleted.stdout, 'deleted alice/gone\n');
      const json = await alice.run(['delete', 'secret', '--json']);
      assert.equal(json.code, 0, json.stderr);
      assert.deepEqual(Object.keys(JSON.parse(json.stdout) as object), [
        'version',
        'owner',
        'name',
        'image',
      ]);
      await bobWatch.waitFor(
        (stdout) =>
          stdout.includes('DELETED gone alice\n') && stdout.includes('DELETED secret alice\n'),
      );
      await carolWatch.waitFor((stdout) => stdout.includes('DELETED gone alice\n'));
    } finally {
      await bobWatch.stop();
      await carolWatch.stop();
    }
    assert.ok(!carolWatch.stdout.includes('secret'), 'carol never saw the private one');
    for (const home of [alice, bob, carol])
      assert.doesNotMatch((await home.run(['list'])).stdout, /gone|secret/);
    const download = await bob.run(['download', 'alice/gone']);
    assert.equal(download.code, 1);
    assert.match(download.stderr, /no image alice\/gone that you may see/);
    assert.equal(blobFiles(server.dataDir).length, before, 'both blobs removed');
    const again = await alice.run(['delete', 'gone']);
    assert.equal(again.code, 1);
    // The name is free again.
    assert.equal((await alice.run(['post', 'gone', join(IMAGES, 'hopper.gif')])).code, 0);
  });

  it('a download in progress when the owner deletes ends with a clear error and leaves nothing', async (t) => {
    assert.equal(
      (await alice.run(['post', 'large', largeJpeg(96 * 1024 * 1024)], { timeoutMs: 120_000 }))
        .code,
      0,
    );
    // alice deletes from a client already signed in, so the delete lands within the download.
    const aliceClient = await SispClient.login({
      storage: new Home(alice.dir),
      connector: nodeConnector,
      crypto: NODE_CRYPTO,
      server: server.url,
      caPem: readFileSync(server.caPath, 'utf8'),
    });
    t.after(() => {
      aliceClient.close();
    });
    const out = tempDir('deleted-during');
    const child = spawn(
      process.execPath,
      [SISP, ...homeArgs(server, bob), 'download', 'alice/large', '--out', out],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!readdirSync(out).some((name) => name.endsWith('.partial')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    await deleteImage(aliceClient, 'large');
    const code = await exited;
    if (code === 0) {
      // The download won the race: it finished before the delete. Then it is whole.
      t.diagnostic('the download finished before the delete arrived');
      assert.equal(readdirSync(out).length, 1);
      return;
    }
    assert.equal(code, 1, stderr);
    assert.match(stderr, /the image was deleted by its owner/);
    assert.deepEqual(readdirSync(out), [], 'no partial file');
  });

  it('a download held open by a slow reader ends with E_NOT_FOUND when the owner deletes', async () => {
    assert.equal((await alice.run(['post', 'held', largeJpeg(4 * 1024 * 1024)])).code, 0);
    const peer = await loggedInPeer(server.url, server.caPath, bob.dir);
    try {
      // 64 KiB of credit and never more: the transfer stays open until something ends it.
      peer.send('download', 7, { credit: 65536, owner: 'alice', name: 'held' });
      await peer.next((message) => message.type === 'download.begin' && message.id === 7);
      assert.equal((await alice.run(['delete', 'held'])).code, 0);
      const ended = await peer.next((message) => message.type === 'error' && message.id === 7);
      assert.deepEqual(ended.type === 'error' ? ended.body : undefined, {
        code: 'E_NOT_FOUND',
        message: 'the image was deleted by its owner',
      });
      // The connection goes on: the next request is answered.
      peer.send('list', 8, {});
      assert.equal((await peer.reply(8)).type, 'list.result');
    } finally {
      peer.close();
    }
  });

  it('a delete is durable: acknowledged, then kill -9 and a restart, and it stays deleted', async () => {
    const dave = (await registered(server, 'dave'))[0];
    assert.equal((await dave.run(['post', 'brief', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal((await dave.run(['delete', 'brief'])).code, 0);
    const port = Number(new URL(server.url).port);
    await server.stop('SIGKILL');
    server = await startServer({ dataDir: server.dataDir, port });
    assert.doesNotMatch((await dave.run(['list'])).stdout, /brief/);
    assert.equal((await dave.run(['download', 'dave/brief'])).code, 1);
  });
});

describe('usage and quota', () => {
  let server: ServerProcess;
  let alice: ClientHome;

  before(async () => {
    server = await startServer({ env: { SISP_IMAGES_PER_USER: '2' } });
    [alice] = await registered(server, 'alice');
  });
  after(async () => {
    await server.stop();
  });

  it('usage shows what is used and allowed; E_QUOTA says it; deleting frees it at once', async () => {
    assert.match((await alice.run(['usage'])).stdout, /^images: 0 of 2 \(0%\)\nstorage: 0 B of /);
    assert.equal((await alice.run(['post', 'one', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal((await alice.run(['post', 'two', join(IMAGES, 'hopper.jpg')])).code, 0);
    const full = await alice.run(['post', 'three', join(IMAGES, 'hopper.gif')]);
    assert.equal(full.code, 1);
    assert.match(full.stderr, /you have 2 of the 2 images allowed; delete some to post more/);
    const json = JSON.parse((await alice.run(['usage', '--json'])).stdout) as Record<
      string,
      number
    >;
    assert.equal(json.version, 1);
    assert.equal(json.images, 2);
    assert.equal(json.maxImages, 2);
    assert.ok((json.bytes ?? 0) > 0);
    assert.equal((await alice.run(['delete', 'one'])).code, 0);
    assert.equal((await alice.run(['post', 'three', join(IMAGES, 'hopper.gif')])).code, 0);
  });
});
