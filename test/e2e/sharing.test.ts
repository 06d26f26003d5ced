/**
 * Taking things back, against real processes: delete (lists, watchers, downloads in
 * progress, the blob, restarts and kill -9) and usage with its quota.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import { deleteImage } from '../../src/core/manage.js';
import { openStream } from '../../src/crypto/envelope-stream.js';
import { unwrapContentKey } from '../../src/crypto/hpke.js';
import { envelopeContext } from '../../src/crypto/manifest.js';
import { fromHex, toHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { loggedInPeer } from '../support/raw-peer.js';
import {
  homeArgs,
  inProcessClient,
  IMAGES,
  largeJpeg,
  registered,
  SISP,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

/** A blob's bytes, as the server stores them. */
function readBlob(dataDir: string, file: string): Uint8Array {
  return new Uint8Array(readFileSync(join(dataDir, 'blobs', file.slice(0, 2), file.slice(2))));
}

/** Every blob file in the server's data directory. */
function blobFiles(dataDir: string): string[] {
  const root = join(dataDir, 'blobs');
  if (!existsSync(root)) return [];
  return readdirSync(root).flatMap((prefix) =>
    readdirSync(join(root, prefix)).map((rest) => `${prefix}${rest}`),
  );
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
    const aliceClient = await inProcessClient(server, alice);
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

describe('share and unshare', () => {
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

  it('share later gives a new reader a key under a signed grant; unshare takes it back at once', async () => {
    assert.equal(
      (await alice.run(['post', 'private', join(IMAGES, 'flower.jpg'), '--to', 'bob'])).code,
      0,
    );
    assert.doesNotMatch((await carol.run(['list'])).stdout, /private/);
    const watch = carol.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const shared = await alice.run(['share', 'private', '--to', 'carol']);
      assert.equal(shared.code, 0, shared.stderr);
      assert.equal(shared.stdout, 'shared alice/private with carol\n');
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE private alice\n'));
      const got = await carol.run(['download', 'alice/private', '--json']);
      assert.equal(got.code, 0, got.stderr);
      const path = (JSON.parse(got.stdout) as { path: string }).path;
      assert.deepEqual(readFileSync(path), readFileSync(join(IMAGES, 'flower.jpg')));

      const unshared = await alice.run(['unshare', 'private', '--from', 'carol']);
      assert.equal(unshared.code, 0, unshared.stderr);
      assert.equal(unshared.stdout, 'alice/private: withdrawn from carol\n');
      await watch.waitFor((stdout) => stdout.includes('UNSHARED private alice\n'));
    } finally {
      await watch.stop();
    }
    assert.doesNotMatch((await carol.run(['list'])).stdout, /private/);
    const refused = await carol.run(['download', 'alice/private', '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /no image alice\/private that you may see/);
    // bob, named when it was posted, still sees it; only the owner may change it.
    assert.equal((await bob.run(['download', 'alice/private'])).code, 0);
    const notOwner = await bob.run(['share', 'alice/private', '--to', 'carol']);
    assert.equal(notOwner.code, 1);
    assert.match(notOwner.stderr, /only alice can change alice\/private/);
    // Re-sharing works, and so does unsharing someone named in the signed manifest.
    assert.equal((await alice.run(['share', 'private', '--to', 'carol'])).code, 0);
    assert.equal((await carol.run(['download', 'alice/private', '--force'])).code, 0);
    assert.equal((await alice.run(['unshare', 'private', '--from', 'bob,carol'])).code, 0);
    for (const home of [bob, carol])
      assert.equal((await home.run(['download', 'alice/private', '--force'])).code, 1);
  });

  it('--rekey: a withdrawn reader who kept the old key, helped by the server, cannot read the new version', async () => {
    assert.equal(
      (await alice.run(['post', 'rekeyed', join(IMAGES, 'hopper.png'), '--to', 'bob,carol'])).code,
      0,
    );
    // carol keeps her wrapped key, and the content key it opens.
    const carolClient = await inProcessClient(server, carol);
    const old = (await listImages(carolClient)).find((image) => image.name === 'rekeyed');
    assert.ok(old !== undefined);
    const wrapped = await carolClient.connection.request('key.get', { image: old.image });
    if (wrapped.type !== 'key') throw new Error(`key.get answered ${wrapped.type}`);
    const oldKey = await unwrapContentKey(
      wrapped.body.key,
      carolClient.requireIdentity().encryption.privateKey,
      old.image,
      'carol',
    );

    const result = await alice.run(['unshare', 'rekeyed', '--from', 'carol', '--rekey', '--json']);
    assert.equal(result.code, 0, result.stderr);
    const rekeyed = JSON.parse(result.stdout) as {
      image: string;
      withdrawn: string[];
      audience: string[];
    };
    assert.deepEqual(rekeyed.withdrawn, ['carol']);
    assert.deepEqual(rekeyed.audience, ['bob']);
    assert.notEqual(rekeyed.image, toHex(old.image), 'a new version, under a new id');

    // The server refuses carol the new version, and her old key replayed gets nothing.
    const newId = fromHex(rekeyed.image);
    await assert.rejects(carolClient.connection.request('key.get', { image: newId }), (error) =>
      isSispError(error, 'E_NOT_FOUND'),
    );
    await assert.rejects(carolClient.connection.request('key.get', { image: old.image }), (error) =>
      isSispError(error, 'E_NOT_FOUND'),
    );
    carolClient.close();
    // Even with the new ciphertext straight from the server's disk, the old key opens nothing.
    const bobList = JSON.parse((await bob.run(['list', '--json'])).stdout) as {
      images: { name: string; image: string }[];
    };
    assert.equal(bobList.images.find((image) => image.name === 'rekeyed')?.image, rekeyed.image);
    const blobs = blobFiles(server.dataDir).map((file) => readBlob(server.dataDir, file));
    assert.ok(blobs.length > 0);
    let opened = 0;
    for (const blob of blobs) {
      try {
        for await (const piece of openStream([blob], {
          key: oldKey,
          context: envelopeContext(newId),
        }))
          opened += piece.length;
      } catch (error) {
        assert.ok(isSispError(error, 'E_TAMPERED'));
      }
    }
    assert.equal(opened, 0, 'the old key decrypts nothing of the new version');
    const bobGot = await bob.run(['download', 'alice/rekeyed', '--force']);
    assert.equal(bobGot.code, 0, bobGot.stderr);
    assert.deepEqual(readFileSync(bobGot.stdout.trim()), readFileSync(join(IMAGES, 'hopper.png')));
  });

  it('the prompt takes SHARE, UNSHARE, USAGE and DELETE too', async () => {
    assert.equal(
      (await alice.run(['post', 'prompted', join(IMAGES, 'hopper.png'), '--to', 'alice'])).code,
      0,
    );
    const script = [
      'SHARE prompted carol',
      'USAGE',
      'UNSHARE prompted carol',
      'DELETE prompted',
      'QUIT',
    ];
    const session = await alice.run([], { input: `${script.join('\n')}\n`, timeoutMs: 30_000 });
    assert.equal(session.code, 0, session.stderr);
    assert.match(session.stdout, /shared alice\/prompted with carol/);
    assert.match(session.stdout, /images: \d+ of 10000/);
    assert.match(session.stdout, /alice\/prompted: withdrawn from carol/);
    assert.match(session.stdout, /deleted alice\/prompted/);
    assert.doesNotMatch((await alice.run(['list'])).stdout, /prompted/);
  });

  it('a public image made private, and back: re-keyed each time, seen by exactly its audience', async () => {
    assert.equal((await alice.run(['post', 'turning', join(IMAGES, 'hopper.jpg')])).code, 0);
    const unshare = await alice.run(['unshare', 'turning', '--from', 'bob']);
    assert.equal(unshare.code, 1);
    assert.match(unshare.stderr, /is public: make it private instead/);
    const made = await alice.run(['unshare', 'turning', '--public', '--to', 'bob']);
    assert.equal(made.code, 0, made.stderr);
    assert.match(made.stdout, /alice\/turning is now private to bob \(re-keyed as a new version\)/);
    assert.match((await bob.run(['list'])).stdout, /alice\/turning .* private: bob/);
    assert.doesNotMatch((await carol.run(['list'])).stdout, /turning/);
    const back = await alice.run(['share', 'turning', '--public']);
    assert.equal(back.code, 0, back.stderr);
    assert.match((await carol.run(['list'])).stdout, /alice\/turning .* public/);
    assert.equal((await carol.run(['download', 'alice/turning'])).code, 0);
  });
});

describe('watch never misses', () => {
  it('resumes where it stopped, after being stopped and across a server restart, each event once', async () => {
    let server = await startServer();
    const port = Number(new URL(server.url).port);
    const [alice, bob] = await registered(server, 'alice', 'bob');
    try {
      const first = bob.spawn(['watch']);
      try {
        await new Promise((resolve) => setTimeout(resolve, 1500));
        assert.equal((await alice.run(['post', 'w1', join(IMAGES, 'hopper.png')])).code, 0);
        await first.waitFor((stdout) => stdout.includes('NEW_IMAGE w1 alice\n'));
      } finally {
        await first.stop();
      }
      // While bob is away: a post and a delete.
      assert.equal((await alice.run(['post', 'w2', join(IMAGES, 'hopper.jpg')])).code, 0);
      assert.equal((await alice.run(['delete', 'w1'])).code, 0);
      const second = bob.spawn(['watch']);
      try {
        await second.waitFor((stdout) => stdout.includes('DELETED w1 alice\n'));
        assert.equal(second.stdout, 'NEW_IMAGE w2 alice\nDELETED w1 alice\n');
        // The server restarts; a post lands before the watcher is back.
        assert.equal(await server.stop(), 0);
        server = await startServer({ dataDir: server.dataDir, port });
        assert.equal((await alice.run(['post', 'w3', join(IMAGES, 'hopper.gif')])).code, 0);
        await second.waitFor((stdout) => stdout.includes('NEW_IMAGE w3 alice\n'), 30_000);
        await new Promise((resolve) => setTimeout(resolve, 500));
      } finally {
        await second.stop();
      }
      assert.equal(second.stdout, 'NEW_IMAGE w2 alice\nDELETED w1 alice\nNEW_IMAGE w3 alice\n');
      const json = JSON.parse(readFileSync(join(bob.dir, 'watch.json'), 'utf8')) as {
        position: number;
      };
      assert.ok(json.position >= 4);
    } finally {
      await server.stop();
    }
  });
});
