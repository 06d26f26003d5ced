/** The client core's state machines against a real server in this process. */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import { SispClient } from '../../src/core/client.js';
import { downloadImage, DOWNLOAD_WINDOW } from '../../src/core/download.js';
import { postImage } from '../../src/core/post.js';
import { memorySink, type ImageSink } from '../../src/core/sink.js';
import { bytesSource } from '../../src/core/source.js';
import type { ImageEvent } from '../../src/core/connection.js';
import { isSispError } from '../../src/protocol/errors.js';
import { clientOptions, login, registered, testServer, type TestServer } from './harness.js';
import { fromPem } from '../../src/crypto/pem.js';
import { verificationKey } from '../../src/core/verified.js';
import { pngBytes } from './images.js';
import type { MemoryStorage } from '../../src/core/storage.js';

const fails = (code: string) => (error: unknown) => isSispError(error) && error.code === code;

/** A sink that writes slowly and records the most plaintext it ever held unwritten. */
function slowSink(): ImageSink<number> & { peak: number; aborted: boolean } {
  let held = 0;
  let total = 0;
  const sink = {
    peak: 0,
    aborted: false,
    begin: () => Promise.resolve(),
    async write(pieces: readonly Uint8Array[]) {
      const bytes = pieces.reduce((n, piece) => n + piece.length, 0);
      held += bytes;
      sink.peak = Math.max(sink.peak, held);
      await new Promise((resolve) => setTimeout(resolve, 2));
      held -= bytes;
      total += bytes;
    },
    commit: () => Promise.resolve(total),
    abort() {
      sink.aborted = true;
      return Promise.resolve();
    },
  };
  return sink;
}

describe('client core against a real server', () => {
  let server: TestServer;
  let alice: SispClient;
  let bob: SispClient;
  let carol: SispClient;
  let bobStorage: MemoryStorage;
  const bobEvents: ImageEvent[] = [];
  before(async () => {
    server = await testServer();
    alice = (await registered(server, 'alice')).client;
    ({ client: bob, storage: bobStorage } = await registered(server, 'bob'));
    carol = (await registered(server, 'carol')).client;
    bob.connection.onEvent = (event) => bobEvents.push(event);
  });
  after(async () => {
    for (const client of [alice, bob, carol]) client.close();
    await server.stop();
  });

  it('registering again into storage that holds an identity is refused (E_EXISTS)', async () => {
    const again = await SispClient.connect(clientOptions(server, bobStorage));
    try {
      await assert.rejects(again.register('bob2'), fails('E_EXISTS'));
    } finally {
      again.close();
    }
  });

  it('signs in from the certificates it verified before, and keeps the server’s too, in storage', async () => {
    const { client: dave, storage } = await registered(server, 'dave');
    const caDer = fromPem(server.caPem);
    const ownKey = await verificationKey(caDer, (await dave.peer('dave')).certificate);
    const own = await storage.readVerified(ownKey);
    assert.ok(own?.kind === 'user' && own.username === 'dave');
    // What a public post wraps its key to.
    await dave.serverEncryptionKey();
    const serverKey = await verificationKey(caDer, dave.welcome.serverCertificate);
    assert.equal((await storage.readVerified(serverKey))?.kind, 'server');
    dave.close();
    // A record whose keys are not dave's: the next sign-in takes it, and refuses it.
    await storage.saveVerified(ownKey, { ...own, signingKey: new Uint8Array(32).fill(1) });
    await assert.rejects(login(server, storage), fails('E_CERTIFICATE'));
    await storage.saveVerified(ownKey, own);
    (await login(server, storage)).close();
  });

  it('a public post: everyone lists it, watchers are told, a download verifies and decrypts', async () => {
    const bytes = pngBytes(300_000, 7);
    const posted = await postImage(alice, { name: 'sunset', source: bytesSource(bytes) });
    assert.equal(posted.audience, 'public');
    assert.ok((await listImages(carol)).some((image) => image.name === 'sunset'));
    const got = await downloadImage(bob, { owner: 'alice', name: 'sunset' }, memorySink());
    assert.deepEqual(got.result, bytes);
    assert.equal(got.manifest.owner, 'alice');
    assert.equal(got.manifest.created, posted.created);
    assert.equal(got.ownerFingerprint, (await bob.peer('alice')).fingerprint);
    assert.ok(
      bobEvents.some((event) => event.body.name === 'sunset' && event.body.owner === 'alice'),
    );
  });

  it('named recipients: they see it, others do not, not even that it exists', async () => {
    const bytes = pngBytes(20_000, 3);
    await postImage(alice, { name: 'for bob', source: bytesSource(bytes), to: ['Bob'] });
    const got = await downloadImage(bob, { owner: 'alice', name: 'for bob' }, memorySink());
    assert.deepEqual(got.result, bytes);
    assert.deepEqual(got.manifest.audience, ['bob']);
    assert.ok(!(await listImages(carol)).some((image) => image.name === 'for bob'));
    await assert.rejects(
      downloadImage(carol, { owner: 'alice', name: 'for bob' }, memorySink()),
      fails('E_NOT_FOUND'),
    );
  });

  it('naming only yourself makes an image private to you; an empty list is an error', async () => {
    const before = bobEvents.length;
    const posted = await postImage(alice, {
      name: 'mine',
      source: bytesSource(pngBytes(1000)),
      to: ['alice'],
    });
    assert.deepEqual(posted.audience, ['alice']);
    assert.ok((await listImages(alice)).some((image) => image.name === 'mine'));
    assert.ok(!(await listImages(bob)).some((image) => image.name === 'mine'));
    await assert.rejects(
      postImage(alice, { name: 'nobody', source: bytesSource(pngBytes(10)), to: [] }),
      fails('E_BAD_REQUEST'),
    );
    // Give any (wrong) event time to arrive before concluding none came.
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.ok(!bobEvents.slice(before).some((event) => event.body.name === 'mine'));
  });

  it('a download whose signed owner or name is not what was asked for is E_TAMPERED, and nothing is kept', async () => {
    const listed = (await listImages(bob)).find((image) => image.name === 'sunset');
    assert.ok(listed);
    for (const wrong of [{ owner: 'carol' }, { name: 'sunrise' }]) {
      const sink = slowSink();
      await assert.rejects(
        downloadImage(bob, { image: listed.image, owner: 'alice', name: 'sunset', ...wrong }, sink),
        fails('E_TAMPERED'),
      );
      // Refused before the sink was ever given a byte.
      assert.equal(sink.peak, 0);
    }
  });

  it('memory stays within the credit window however slow the sink and large the image', async () => {
    const size = 3 * DOWNLOAD_WINDOW + 12_345;
    await postImage(alice, { name: 'large', source: bytesSource(pngBytes(size, 9)) });
    const sink = slowSink();
    const got = await downloadImage(bob, { owner: 'alice', name: 'large' }, sink);
    assert.equal(got.result, size);
    assert.ok(sink.peak > 0);
    assert.ok(sink.peak <= DOWNLOAD_WINDOW, `held ${sink.peak} > window ${DOWNLOAD_WINDOW}`);
  });

  it('cancelling a post and a download: E_CANCELLED, nothing kept, the connection still works', async () => {
    const controller = new AbortController();
    const posting = postImage(alice, {
      name: 'cancelled',
      source: bytesSource(pngBytes(40 * 1024 * 1024)),
      signal: controller.signal,
      onProgress: (sent) => {
        if (sent > 1024 * 1024) controller.abort();
      },
    });
    await assert.rejects(posting, fails('E_CANCELLED'));
    assert.ok(!(await listImages(alice)).some((image) => image.name === 'cancelled'));

    const downloading = new AbortController();
    const sink = slowSink();
    const download = downloadImage(bob, { owner: 'alice', name: 'large' }, sink, {
      signal: downloading.signal,
      onProgress: (received) => {
        if (received > 1024 * 1024) downloading.abort();
      },
    });
    await assert.rejects(download, fails('E_CANCELLED'));
    assert.equal(sink.aborted, true);
    const after = await downloadImage(bob, { owner: 'alice', name: 'sunset' }, memorySink());
    assert.equal(after.manifest.name, 'sunset');
  });

  it('a changed key for a pinned user is refused loudly (E_KEY_CHANGED)', async () => {
    const pinned = await bobStorage.getPin('alice');
    assert.ok(pinned);
    await bobStorage.savePin('alice', { ...pinned, signingKey: new Uint8Array(32).fill(1) });
    try {
      await assert.rejects(
        downloadImage(bob, { owner: 'alice', name: 'sunset' }, memorySink()),
        fails('E_KEY_CHANGED'),
      );
      await assert.rejects(listImages(bob), fails('E_KEY_CHANGED'));
      // A gallery can go on without that owner's images, told why.
      await postImage(bob, { name: 'own', source: bytesSource(pngBytes(1000)) });
      const told: string[] = [];
      const listed = await listImages(bob, {
        onKeyChanged: (owner, error) => told.push(`${owner} ${error.code}`),
      });
      assert.deepEqual(told, ['alice E_KEY_CHANGED']);
      assert.deepEqual(
        listed.map((image) => `${image.owner}/${image.name}`),
        ['bob/own'],
      );
    } finally {
      await bobStorage.savePin('alice', pinned);
    }
  });
});

describe('client core when the server goes away', () => {
  it('a download in progress ends with E_UNAVAILABLE and its sink aborts', async () => {
    const server = await testServer();
    const alice = (await registered(server, 'alice')).client;
    await postImage(alice, { name: 'big', source: bytesSource(pngBytes(20 * 1024 * 1024)) });
    const sink = slowSink();
    const download = downloadImage(alice, { owner: 'alice', name: 'big' }, sink, {
      onProgress: (received) => {
        if (received > 1024 * 1024) void server.stop();
      },
    });
    await assert.rejects(download, fails('E_UNAVAILABLE'));
    assert.equal(sink.aborted, true);
    alice.close();
    await server.stop();
  });
});
