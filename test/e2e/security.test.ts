/** Confidentiality, names and authorisation against the real server. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createHash } from 'node:crypto';
import { sealedLength } from '../../src/crypto/envelope.js';
import { generateIdentity, publicIdentity, type Identity } from '../../src/crypto/keys.js';
import { openKeystore } from '../../src/crypto/keystore.js';
import { decodeManifest, encodeManifest, signManifest } from '../../src/crypto/manifest.js';
import { authPayload, registerPayload, signPayload } from '../../src/crypto/signatures.js';
import { fromHex } from '../../src/protocol/bytes.js';
import {
  clientHome,
  IMAGES,
  registered,
  startServer,
  type ClientHome,
  type ServerProcess,
} from './harness.js';
import { loggedInPeer, RawPeer } from '../support/raw-peer.js';

async function hello(peer: RawPeer) {
  peer.send('hello', 1, { versions: [2] });
  const welcome = await peer.reply(1);
  assert.equal(welcome.type, 'welcome');
  return welcome.body as { nonce: Uint8Array; caFingerprint: Uint8Array };
}

/** Registers `username` with `identity` over a raw session (hello, then register as id 2). */
async function registerRaw(peer: RawPeer, username: string, identity: Identity) {
  const welcome = await hello(peer);
  const pub = await publicIdentity(identity);
  const proof = await signPayload(
    'register',
    identity.signing.privateKey,
    registerPayload({
      username,
      ...pub,
      nonce: welcome.nonce,
      caFingerprint: welcome.caFingerprint,
    }),
  );
  peer.send('register', 2, { username, ...pub, proof });
  return peer.reply(2);
}

describe('private images, names and authorisation', () => {
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

  it('a post --to bob reaches bob but not carol: no event, no listing, no download, no size', async () => {
    const bobWatch = bob.spawn(['watch']);
    const carolWatch = carol.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const posted = await alice.run([
        'post',
        'secret',
        join(IMAGES, 'hopper.webp'),
        '--to',
        'bob',
      ]);
      assert.equal(posted.code, 0, posted.stderr);
      await bobWatch.waitFor((stdout) => stdout.includes('NEW_IMAGE secret alice\n'));
      // A public post afterwards: carol sees that one, proving her watch was live.
      assert.equal((await alice.run(['post', 'open', join(IMAGES, 'hopper.jpg')])).code, 0);
      await carolWatch.waitFor((stdout) => stdout.includes('NEW_IMAGE open alice\n'));
      assert.ok(!carolWatch.stdout.includes('secret'));
    } finally {
      await bobWatch.stop();
      await carolWatch.stop();
    }
    const bobDownload = await bob.run(['download', 'alice/secret']);
    assert.equal(bobDownload.code, 0, bobDownload.stderr);
    assert.deepEqual(
      readFileSync(bobDownload.stdout.trim()),
      readFileSync(join(IMAGES, 'hopper.webp')),
    );
    const carolList = await carol.run(['list']);
    assert.ok(!carolList.stdout.includes('secret'), carolList.stdout);
    const carolDownload = await carol.run(['download', 'alice/secret']);
    assert.equal(carolDownload.code, 1);
    assert.match(carolDownload.stderr, /^error: no image alice\/secret that you may see/);
    // Over the protocol directly, by owner and name: the same answer as a missing image.
    const peer = await loggedInPeer(server.url, server.caPath, carol.dir);
    peer.send('download', 3, { credit: 1 << 20, owner: 'alice', name: 'secret' });
    const denied = await peer.reply(3);
    assert.equal(denied.type, 'error');
    peer.send('download', 4, { credit: 1 << 20, owner: 'alice', name: 'no-such-thing' });
    const missing = await peer.reply(4);
    assert.deepEqual(denied.body, missing.body, 'forbidden and missing are indistinguishable');
    peer.close();
  });

  it('a taken username, or a case variant of it, with another key is refused; look-alikes are not valid names', async () => {
    for (const name of ['alice', 'Alice', 'ALICE']) {
      const result = await clientHome(server).run(['register', name]);
      assert.equal(result.code, 1, name);
      assert.match(result.stderr, /^error: that username is taken/);
    }
    // Cyrillic 'а' (U+0430) in place of Latin 'a'.
    const lookalike = await clientHome(server).run(['register', '\u0430lice']);
    assert.equal(lookalike.code, 1);
    assert.match(lookalike.stderr, /^error: usernames are 3 to 32 characters/);
  });

  it('the same key registering again is idempotent', async () => {
    const keys = await openKeystore(readFileSync(join(alice.dir, 'identity.key')));
    const peer = await RawPeer.connect(server.url, server.caPath);
    assert.equal((await registerRaw(peer, 'alice', keys.identity)).type, 'registered');
    peer.close();
  });

  it('a session that names another user in a request gains nothing', async () => {
    const mallory = await generateIdentity();
    const peer = await RawPeer.connect(server.url, server.caPath);
    const welcome = await hello(peer);
    // Authenticating as bob with mallory's key fails, and ends the connection.
    const forged = await signPayload(
      'auth',
      mallory.signing.privateKey,
      authPayload({ username: 'bob', nonce: welcome.nonce, caFingerprint: welcome.caFingerprint }),
    );
    peer.send('auth', 2, { username: 'bob', signature: forged });
    const refused = await peer.reply(2);
    assert.equal(refused.type === 'error' ? refused.body.code : refused.type, 'E_AUTH');
    await peer.closed();

    // Mallory registers honestly, then posts a manifest claiming to be bob.
    const second = await RawPeer.connect(server.url, server.caPath);
    assert.equal((await registerRaw(second, 'mallory', mallory)).type, 'registered');
    const filler = { enc: new Uint8Array(32).fill(9), ct: new Uint8Array(48) };
    const begin = {
      image: fromHex('11'.repeat(16)),
      name: 'forged',
      contentType: 'image/png' as const,
      size: 0,
      audience: 'public' as const,
      replace: true,
    };
    // Keys for bob instead of the session's own user: refused at once.
    second.send('post.begin', 3, {
      ...begin,
      keys: [
        { recipient: 'bob', ...filler },
        { recipient: '@server', ...filler },
      ],
    });
    const wrongKeys = await second.reply(3);
    assert.equal(
      wrongKeys.type === 'error' ? wrongKeys.body.code : wrongKeys.type,
      'E_BAD_REQUEST',
    );
    // A well-formed upload whose signed manifest names bob as the owner: refused at the end.
    second.send('post.begin', 4, {
      ...begin,
      keys: [
        { recipient: 'mallory', ...filler },
        { recipient: '@server', ...filler },
      ],
    });
    assert.equal((await second.reply(4)).type, 'post.ready');
    const envelope = new Uint8Array(sealedLength(0));
    second.send('post.chunk', 4, { data: envelope });
    const manifest = encodeManifest({
      v: 1,
      id: begin.image,
      owner: 'bob',
      name: 'forged',
      type: 'image/png',
      size: 0,
      ctLength: envelope.length,
      sha256: new Uint8Array(createHash('sha256').update(envelope).digest()),
      created: Date.now(),
      audience: 'public',
    });
    second.send('post.end', 4, {
      manifest,
      signature: await signManifest(mallory.signing.privateKey, manifest),
    });
    const posted = await second.reply(4);
    assert.equal(posted.type === 'error' ? posted.body.code : posted.type, 'E_FORBIDDEN');
    // Listing and downloading are decided by the session's user: mallory sees no private image.
    second.send('list', 5, {});
    const listed = await second.reply(5);
    if (listed.type !== 'list.result') assert.fail(listed.type);
    for (const image of listed.body.images)
      assert.equal(decodeManifest(image.manifest).audience, 'public');
    // Requests before authentication are refused.
    const fresh = await RawPeer.connect(server.url, server.caPath);
    await hello(fresh);
    fresh.send('list', 2, {});
    const early = await fresh.reply(2);
    assert.equal(early.type === 'error' ? early.body.code : early.type, 'E_AUTH');
    second.close();
    fresh.close();
  });

  it('a changed key for a pinned user is refused, naming both fingerprints', async () => {
    // bob has pinned alice (from downloading her image). Tamper with the pin file to
    // simulate the server presenting a different key for alice.
    const pinsPath = join(bob.dir, 'pins.json');
    const pins = JSON.parse(readFileSync(pinsPath, 'utf8')) as Record<
      string,
      { signingKey: string; fingerprint: string }
    >;
    const alicePin = pins.alice;
    assert.ok(alicePin);
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      pinsPath,
      JSON.stringify({
        ...pins,
        alice: {
          ...alicePin,
          signingKey: '00'.repeat(32),
          fingerprint: '11111 22222 33333 44444 55555 66666 77777 88888',
        },
      }),
    );
    const result = await bob.run(['download', 'alice/open']);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: the key for alice has CHANGED: pinned 11111 22222 33333 44444 55555 66666 77777 88888, server now presents (\d{5} ){7}\d{5}/,
    );
    assert.equal(result.stderr.trim().split('\n').length, 1);
  });
});
