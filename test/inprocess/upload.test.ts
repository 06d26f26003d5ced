/** post.end: each check has its own code, in the documented order (docs/PROTOCOL.md 4.1). */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { generateIdentity } from '../../src/crypto/keys.js';
import { type Manifest } from '../../src/crypto/manifest.js';
import { signPayload } from '../../src/crypto/signatures.js';
import { listImages } from '../../src/core/catalogue.js';
import { downloadImage } from '../../src/core/download.js';
import { memorySink, type ImageSink } from '../../src/core/sink.js';
import { isSispError } from '../../src/protocol/errors.js';
import type { SispClient } from '../../src/core/client.js';
import type { Message } from '../../src/protocol/messages.js';
import { encodeReversedKeys } from '../support/cbor.js';
import { authenticatedPeer, type RawPeer } from '../support/raw-peer.js';
import { registered, testServer, type TestServer } from './harness.js';
import { rawPost, type RawPostOptions } from './raw-upload.js';

const code = (message: Message): string =>
  message.type === 'error' ? message.body.code : message.type;

describe('post.end checks', () => {
  let server: TestServer;
  let alice: SispClient;
  let peer: RawPeer;
  let nextId = 10;
  before(async () => {
    server = await testServer();
    alice = (await registered(server, 'alice')).client;
    peer = await authenticatedPeer(
      server.url,
      server.caPath,
      'alice',
      alice.identity ?? assert.fail(),
    );
  });
  after(async () => {
    peer.close();
    alice.close();
    await server.stop();
  });

  const post = (options: Partial<RawPostOptions> = {}): Promise<Message> =>
    rawPost(peer, {
      id: nextId++,
      username: 'alice',
      identity: alice.identity ?? assert.fail(),
      ...options,
    });
  const changed =
    (change: Partial<Manifest>) =>
    (manifest: Manifest): Manifest => ({
      ...manifest,
      ...change,
    });

  it('the control: an honest post is done, and shows the signed creation time', async () => {
    const signedAt = Date.now() - 60_000;
    const done = await post({ name: 'honest', manifest: changed({ created: signedAt }) });
    if (done.type !== 'post.done') assert.fail(`expected post.done, got ${code(done)}`);
    assert.equal(done.body.created, signedAt);
    const listed = (await listImages(alice)).find((image) => image.name === 'honest');
    assert.equal(listed?.created, signedAt);
  });

  it('fewer bytes than declared: E_INCOMPLETE', async () => {
    assert.equal(code(await post({ sendBytes: 1000 })), 'E_INCOMPLETE');
  });

  it('a manifest with its keys out of order: E_BAD_MANIFEST', async () => {
    assert.equal(code(await post({ encode: encodeReversedKeys })), 'E_BAD_MANIFEST');
  });

  it('a manifest naming another owner: E_FORBIDDEN', async () => {
    assert.equal(code(await post({ manifest: changed({ owner: 'mallory' }) })), 'E_FORBIDDEN');
  });

  it('the manifest must describe exactly the thumbnail sent, or none: E_MANIFEST_MISMATCH', async () => {
    const thumbnail = new Uint8Array(500).fill(7);
    const described = await post({ name: 'with-thumbnail', thumbnail });
    assert.equal(code(described), 'post.done', 'the control: described as sent');
    const wrongDigest = changed({
      thumbnail: { type: 'image/webp', ctLength: 500, sha256: new Uint8Array(32).fill(1) },
    });
    assert.equal(code(await post({ thumbnail, manifest: wrongDigest })), 'E_MANIFEST_MISMATCH');
    const notDescribed = (manifest: Manifest): Manifest => {
      const { thumbnail: _, ...rest } = manifest;
      return rest;
    };
    assert.equal(code(await post({ thumbnail, manifest: notDescribed })), 'E_MANIFEST_MISMATCH');
    // A thumbnail described but never sent.
    assert.equal(code(await post({ manifest: wrongDigest })), 'E_MANIFEST_MISMATCH');
  });

  it('a manifest that differs from post.begin: E_MANIFEST_MISMATCH', async () => {
    for (const change of [
      { name: 'other name' },
      { type: 'image/jpeg' as const },
      { size: 49_999 },
      { audience: 'public' as const },
    ]) {
      assert.equal(code(await post({ manifest: changed(change) })), 'E_MANIFEST_MISMATCH');
    }
  });

  it('a creation time far from the server clock (1970, or next week): E_CLOCK_SKEW', async () => {
    assert.equal(code(await post({ manifest: changed({ created: 0 }) })), 'E_CLOCK_SKEW');
    const nextWeek = Date.now() + 7 * 24 * 3600 * 1000;
    assert.equal(code(await post({ manifest: changed({ created: nextWeek }) })), 'E_CLOCK_SKEW');
  });

  it('a digest that is not of the bytes sent: stored (the server does not hash), refused by every download', async () => {
    const sha256 = new Uint8Array(32).fill(1);
    const name = 'wrong-digest';
    assert.equal(code(await post({ name, manifest: changed({ sha256 }) })), 'post.done');
    const sink = memorySink();
    const ends: string[] = [];
    const watched: ImageSink<Uint8Array> = {
      ...sink,
      commit: () => (ends.push('commit'), sink.commit()),
      abort: () => (ends.push('abort'), sink.abort()),
    };
    await assert.rejects(
      downloadImage(alice, { owner: 'alice', name }, watched),
      (error: unknown) => isSispError(error, 'E_TAMPERED'),
    );
    // The digest is checked before the sink is committed: nothing is kept.
    assert.deepEqual(ends, ['abort']);
  });

  it('a signature by another key, or in another domain: E_TAMPERED', async () => {
    const mallory = await generateIdentity();
    const identity = alice.identity ?? assert.fail();
    const byMallory = (bytes: Uint8Array) =>
      signPayload('manifest', mallory.signing.privateKey, bytes);
    const asAuth = (bytes: Uint8Array) => signPayload('auth', identity.signing.privateKey, bytes);
    assert.equal(code(await post({ sign: byMallory })), 'E_TAMPERED');
    assert.equal(code(await post({ sign: asAuth })), 'E_TAMPERED');
  });

  it('none of the refused posts is visible, and the connection is still good', async () => {
    const names = (await listImages(alice)).map((image) => image.name);
    // wrong-digest is stored: only its downloaders can tell (above).
    assert.deepEqual(names.sort(), ['honest', 'with-thumbnail', 'wrong-digest']);
    peer.send('list', 99, {});
    assert.equal((await peer.reply(99)).type, 'list.result');
  });
});
