/** Hostile and heavy traffic: each bad connection ends alone; everyone else is served. */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sealedLength } from '../../src/crypto/envelope.js';
import { decodeManifest } from '../../src/crypto/manifest.js';
import { encodeDeterministic } from '../../src/protocol/cbor.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import {
  cleanup,
  clientHome,
  IMAGES,
  largeJpeg,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';
import { loggedInPeer, RawPeer } from '../support/raw-peer.js';

describe('hostile connections', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;

  before(async () => {
    server = await startServer({ env: { SISP_HANDSHAKE_TIMEOUT_MS: '1500' } });
    alice = clientHome(server);
    bob = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    assert.equal((await bob.run(['register', 'bob'])).code, 0);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  /** A watcher stays connected through every attack below. */
  async function servedThroughout(attack: () => Promise<void>): Promise<void> {
    const watch = bob.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      await attack();
      const name = `after-${randomBytes(3).toString('hex')}`;
      const posted = await alice.run(['post', name, join(IMAGES, 'hopper.gif')]);
      assert.equal(posted.code, 0, posted.stderr);
      await watch.waitFor((stdout) => stdout.includes(`NEW_IMAGE ${name} alice\n`));
      assert.ok(!watch.stderr.includes('reconnecting'), 'the watcher was never disconnected');
    } finally {
      await watch.stop();
    }
  }

  async function expectError(peer: RawPeer, code: string): Promise<void> {
    const error = await peer.next((message) => message.type === 'error');
    assert.equal(error.type === 'error' ? error.body.code : '', code);
    await peer.closed();
  }

  it('garbage bytes end that connection with E_BAD_FRAME', async () => {
    await servedThroughout(async () => {
      for (const garbage of [
        randomBytes(100),
        Uint8Array.of(0xff),
        Uint8Array.of(0x9f, 0x01, 0xff),
        new Uint8Array(0),
      ]) {
        const peer = await RawPeer.connect(server.url, server.caPath);
        peer.sendRaw(garbage);
        await expectError(peer, 'E_BAD_FRAME');
      }
      const text = await RawPeer.connect(server.url, server.caPath);
      text.sendRaw('HELLO I AM TEXT');
      await expectError(text, 'E_BAD_FRAME');
    });
  });

  it('truncated and unknown frames end that connection with an error', async () => {
    await servedThroughout(async () => {
      const full = encodeFrame('hello', 1, { versions: [2] });
      const truncated = await RawPeer.connect(server.url, server.caPath);
      truncated.sendRaw(full.subarray(0, full.length - 2));
      await expectError(truncated, 'E_BAD_FRAME');
      const unknown = await RawPeer.connect(server.url, server.caPath);
      unknown.sendRaw(encodeDeterministic([2, 'steal.everything', 1, {}]));
      await expectError(unknown, 'E_BAD_REQUEST');
      const version = await RawPeer.connect(server.url, server.caPath);
      version.sendRaw(encodeDeterministic([9, 'hello', 1, { versions: [9] }]));
      await expectError(version, 'E_VERSION');
      const noCommon = await RawPeer.connect(server.url, server.caPath);
      noCommon.send('hello', 1, { versions: [1, 3] });
      const refused = await noCommon.next((message) => message.type === 'error');
      assert.deepEqual(refused.type === 'error' ? refused.body.supported : [], [2]);
      await noCommon.closed();
    });
  });

  it('an oversized frame is refused while it arrives, and the connection closed', async () => {
    await servedThroughout(async () => {
      const peer = await RawPeer.connect(server.url, server.caPath);
      peer.sendRaw(new Uint8Array(3 * 1024 * 1024));
      assert.equal(await peer.closed(), 1009);
    });
  });

  it('a stalled handshake is timed out; a non-WebSocket TLS client is dropped', async () => {
    await servedThroughout(async () => {
      const stalled = await RawPeer.connect(server.url, server.caPath);
      await expectError(stalled, 'E_TIMEOUT');
      const silent = await RawPeer.connect(server.url, server.caPath);
      silent.send('hello', 1, { versions: [2] });
      await expectError(silent, 'E_TIMEOUT');
      // Raw TLS garbage instead of an HTTP upgrade.
      const url = new URL(server.url);
      await new Promise<void>((resolve) => {
        const socket = tlsConnect(
          { host: url.hostname, port: Number(url.port), ca: readFileSync(server.caPath) },
          () => {
            socket.write(randomBytes(4096));
          },
        );
        socket.on('error', () => {
          resolve();
        });
        socket.on('close', () => {
          resolve();
        });
        socket.on('data', () => undefined);
      });
    });
  });

  it('frames before the handshake completes are refused', async () => {
    await servedThroughout(async () => {
      const peer = await RawPeer.connect(server.url, server.caPath);
      peer.send('list', 1, {});
      const early = await peer.reply(1);
      assert.equal(early.type === 'error' ? early.body.code : '', 'E_AUTH');
      await peer.closed();
      const second = await RawPeer.connect(server.url, server.caPath);
      second.send('hello', 1, { versions: [2] });
      await second.reply(1);
      second.send('post.chunk', 2, { data: new Uint8Array(10) });
      const unauthenticated = await second.reply(2);
      assert.equal(unauthenticated.type === 'error' ? unauthenticated.body.code : '', 'E_AUTH');
      await second.closed();
    });
  });

  it('after login, sending past the granted credit is flow-control abuse: E_FLOW_CONTROL, and that connection closes', async () => {
    await servedThroughout(async () => {
      const peer = await loggedInPeer(server.url, server.caPath, alice.dir);
      const size = 1000;
      const filler = { enc: new Uint8Array(32).fill(9), ct: new Uint8Array(48) };
      peer.send('post.begin', 3, {
        image: randomBytes(16),
        name: 'greedy',
        contentType: 'image/png',
        size,
        audience: 'public',
        keys: [
          { recipient: 'alice', ...filler },
          { recipient: '@server', ...filler },
        ],
        replace: false,
      });
      const ready = await peer.reply(3);
      if (ready.type !== 'post.ready') assert.fail(`expected post.ready, got ${ready.type}`);
      // The credit covers the declared 1072 bytes; one mebibyte is far past it.
      assert.equal(ready.body.credit, sealedLength(size));
      peer.send('post.chunk', 3, { data: new Uint8Array(1024 * 1024) });
      peer.send('post.chunk', 3, { data: new Uint8Array(1024) });
      const refused = await peer.next((message) => message.id === 3 && message.type === 'error');
      assert.equal(refused.type === 'error' ? refused.body.code : '', 'E_FLOW_CONTROL');
      assert.equal(await peer.closed(), 1008);
      // Nothing of it was kept: alice's next session does not list it.
      const again = await loggedInPeer(server.url, server.caPath, alice.dir);
      again.send('list', 4, {});
      const listed = await again.reply(4);
      if (listed.type !== 'list.result') assert.fail(listed.type);
      const names = listed.body.images.map((image) => decodeManifest(image.manifest).name);
      assert.ok(!names.includes('greedy'), names.join(', '));
      again.close();
    });
  });
});

describe('heavy traffic', () => {
  let server: ServerProcess;
  const dirs: string[] = [];
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.stop();
    cleanup(...dirs);
  });

  it('a 200 MiB image round trip', async () => {
    const alice = clientHome(server);
    const bob = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    assert.equal((await bob.run(['register', 'bob'])).code, 0);
    const path = largeJpeg(200 * 1024 * 1024);
    const posted = await alice.run(['post', 'big', path], { timeoutMs: 300_000 });
    assert.equal(posted.code, 0, posted.stderr);
    const out = tempDir('big-out');
    dirs.push(out);
    const downloaded = await bob.run(['download', 'big', '--out', out], { timeoutMs: 300_000 });
    assert.equal(downloaded.code, 0, downloaded.stderr);
    // Compare by digest to keep the test's own memory small.
    const { createHash } = await import('node:crypto');
    const digest = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
    assert.equal(downloaded.stdout.trim(), join(out, 'big.jpg'));
    assert.equal(digest(downloaded.stdout.trim()), digest(path));
  });

  it('20 clients posting and downloading at once all succeed', async () => {
    const homes = Array.from({ length: 20 }, () => clientHome(server));
    const registered = await Promise.all(
      homes.map((home, index) => home.run(['register', `user${index}`])),
    );
    for (const result of registered) assert.equal(result.code, 0, result.stderr);
    const images = ['hopper.png', 'hopper.jpg', 'hopper.gif', 'hopper.webp', 'flower.jpg'];
    const posts = await Promise.all(
      homes.map((home, index) =>
        home.run([
          'post',
          `pic${index}`,
          join(IMAGES, images[index % images.length] ?? 'hopper.png'),
        ]),
      ),
    );
    for (const result of posts) assert.equal(result.code, 0, result.stderr);
    const downloads = await Promise.all(
      homes.map((home, index) =>
        home.run(['download', `user${(index + 1) % 20}/pic${(index + 1) % 20}`]),
      ),
    );
    downloads.forEach((result, index) => {
      assert.equal(result.code, 0, result.stderr);
      const source = images[((index + 1) % 20) % images.length] ?? '';
      assert.deepEqual(readFileSync(result.stdout.trim()), readFileSync(join(IMAGES, source)));
    });
  });
});

describe('a server granting less credit than a frame', () => {
  let server: ServerProcess;
  const dirs: string[] = [];
  before(async () => {
    // 10,000 bytes of window against 1 MiB frames: the client must split every frame.
    server = await startServer({ env: { SISP_UPLOAD_WINDOW: '10000' } });
  });
  after(async () => {
    await server.stop();
    cleanup(...dirs);
  });

  it('a 3 MiB post arrives whole, sent in credit-sized parts', async () => {
    const alice = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    const path = largeJpeg(3 * 1024 * 1024);
    const posted = await alice.run(['post', 'pic', path], { timeoutMs: 120_000 });
    assert.equal(posted.code, 0, posted.stderr);
    const out = tempDir('window-out');
    dirs.push(out);
    const downloaded = await alice.run(['download', 'alice/pic', '--out', out]);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(downloaded.stdout.trim(), join(out, 'pic.jpg'));
    assert.deepEqual(readFileSync(join(out, 'pic.jpg')), readFileSync(path));
  });
});
