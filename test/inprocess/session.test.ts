/**
 * Which errors answer a request and which close the connection (docs/PROTOCOL.md
 * 2.1), against a real server in this process.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { encodeDeterministic } from '../../src/protocol/cbor.js';
import { encodeReversedKeys } from '../support/cbor.js';
import { encodeFrame } from '../../src/protocol/frame.js';
import type { Message } from '../../src/protocol/messages.js';
import { bytesSource } from '../../src/core/source.js';
import { postImage } from '../../src/core/post.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { generateIdentity, publicIdentity } from '../../src/crypto/keys.js';
import { registerPayload, signPayload } from '../../src/crypto/signatures.js';
import { fromHex } from '../../src/protocol/bytes.js';
import { authenticatedPeer, RawPeer } from '../support/raw-peer.js';
import { registered, testServer, type TestServer } from './harness.js';
import { pngBytes } from './images.js';
import type { SispClient } from '../../src/core/client.js';

const errorCode = (message: Message): string =>
  message.type === 'error' ? message.body.code : `not an error: ${message.type}`;

describe('the connection survives request errors and ends on protocol violations', () => {
  let server: TestServer;
  let alice: SispClient;
  before(async () => {
    server = await testServer({ handshakeTimeoutMs: 1500 });
    alice = (await registered(server, 'alice')).client;
    await postImage(alice, { name: 'big', source: bytesSource(pngBytes(3 * 1024 * 1024)) });
  });
  after(async () => {
    alice.close();
    await server.stop();
  });

  const peer = (): Promise<RawPeer> => {
    const identity = alice.identity ?? assert.fail('alice is signed in');
    return authenticatedPeer(server.url, server.caPath, 'alice', identity);
  };

  it('requests before auth are E_AUTH on their id, and the session can still authenticate', async () => {
    const raw = await RawPeer.connect(server.url, server.caPath);
    raw.send('list', 5, {});
    assert.equal(errorCode(await raw.reply(5)), 'E_AUTH', 'before hello');
    raw.send('hello', 6, { versions: [2] });
    assert.equal((await raw.reply(6)).type, 'welcome');
    raw.send('list', 7, {});
    assert.equal(errorCode(await raw.reply(7)), 'E_AUTH', 'after hello, before auth');
    assert.equal(raw.closeCode, undefined);
    raw.close();
  });

  it('schema failures answer one request; a download in progress on the same connection completes', async () => {
    const raw = await peer();
    // A download with credit for the first chunk only: it waits for more.
    raw.send('download', 10, { credit: 1024 * 1024, owner: 'alice', name: 'big' });
    assert.equal(
      (await raw.next((m) => m.id === 10 && m.type === 'download.begin')).type,
      'download.begin',
    );
    const bad: [number, unknown, string][] = [
      [11, [2, 'no.such.type', 11, {}], 'E_BAD_REQUEST'],
      [12, [2, 'list', 12, { extra: true }], 'E_BAD_REQUEST'],
      [13, [2, 'cert.get', 13, { username: 'Not-Canonical' }], 'E_INVALID_NAME'],
      [14, [2, 'download', 14, { credit: 5, owner: 'alice', name: '.hidden' }], 'E_INVALID_NAME'],
      [
        15,
        [2, 'download', 15, { credit: 5, image: new Uint8Array(16), owner: 'alice', name: 'big' }],
        'E_BAD_REQUEST',
      ],
      [16, [2, 'welcome', 16, {}], 'E_BAD_REQUEST'],
      [17, [2, 'auth', 17, { username: 'alice', signature: new Uint8Array(64) }], 'E_BAD_REQUEST'],
    ];
    for (const [, frame] of bad) raw.sendRaw(encodeDeterministic(frame));
    for (const [id, , code] of bad)
      assert.equal(errorCode(await raw.reply(id)), code, `request ${id}`);
    const contentType = encodeFrame('post.begin', 18, {
      image: randomBytes(16),
      name: 'x',
      contentType: 'image/png',
      size: 1,
      audience: 'public',
      keys: [{ recipient: 'alice', enc: new Uint8Array(32), ct: new Uint8Array(48) }],
      replace: false,
    });
    // The same frame with an unsupported content type: 'image/png' -> 'image/svg'.
    const svg = Buffer.from(contentType).toString('latin1').replace('image/png', 'image/svg');
    raw.sendRaw(Buffer.from(svg, 'latin1'));
    assert.equal(errorCode(await raw.reply(18)), 'E_BAD_REQUEST');
    // The download goes on: grant the rest and it ends cleanly.
    raw.send('credit', 10, { bytes: 8 * 1024 * 1024 });
    await raw.next((m) => m.id === 10 && m.type === 'download.end');
    raw.send('list', 19, {});
    assert.equal((await raw.reply(19)).type, 'list.result');
    assert.equal(raw.closeCode, undefined);
    raw.close();
  });

  const closes = (
    name: string,
    send: (raw: RawPeer) => void,
    code: string,
    closeCode = 1008,
  ): void => {
    it(`${name}: ${code} with id 0, then close ${closeCode}`, async () => {
      const raw = await peer();
      send(raw);
      const error = await raw.next((m) => m.type === 'error');
      assert.equal(error.id, 0);
      assert.equal(errorCode(error), code);
      if (code === 'E_VERSION' && error.type === 'error')
        assert.deepEqual(error.body.supported, [2]);
      assert.equal(await raw.closed(), closeCode);
    });
  };
  closes(
    'a frame of another version',
    (raw) => {
      raw.sendRaw(encodeDeterministic([3, 'list', 30, {}]));
    },
    'E_VERSION',
  );
  closes(
    'not CBOR',
    (raw) => {
      raw.sendRaw(Uint8Array.of(0xff, 0x00));
    },
    'E_BAD_FRAME',
  );
  closes(
    'a text message',
    (raw) => {
      raw.sendRaw('list');
    },
    'E_BAD_FRAME',
  );
  closes(
    'a request with id 0',
    (raw) => {
      raw.sendRaw(encodeDeterministic([2, 'list', 0, {}]));
    },
    'E_BAD_FRAME',
  );
  closes(
    'map keys out of canonical order',
    (raw) => {
      const body = { credit: 5, image: new Uint8Array(16) };
      const canonical = encodeDeterministic([2, 'download', 31, body]);
      const reversed = encodeReversedKeys([2, 'download', 31, body]);
      assert.notDeepEqual(reversed, canonical, 'the same frame, keys swapped');
      raw.sendRaw(reversed);
    },
    'E_BAD_FRAME',
  );

  it('hello with no common version: E_VERSION with supported on its id, then close', async () => {
    const raw = await RawPeer.connect(server.url, server.caPath);
    raw.send('hello', 1, { versions: [7] });
    const reply = await raw.reply(1);
    assert.equal(errorCode(reply), 'E_VERSION');
    assert.deepEqual(reply.type === 'error' ? reply.body.supported : undefined, [2]);
    assert.equal(await raw.closed(), 1008);
  });

  it('registering a low-order X25519 key is E_BAD_KEY, and the name stays free', async () => {
    const identity = await generateIdentity();
    const { signingKey } = await publicIdentity(identity);
    // RFC 7748 6.1: u = 0, u = 1, and a point of order 8 (Wycheproof's x25519 tests).
    const lowOrder = [
      new Uint8Array(32),
      Uint8Array.of(1, ...new Uint8Array(31)),
      fromHex('e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800'),
    ];
    for (const encryptionKey of lowOrder) {
      const raw = await RawPeer.connect(server.url, server.caPath);
      raw.send('hello', 1, { versions: [2] });
      const welcome = await raw.reply(1);
      assert.ok(welcome.type === 'welcome');
      const { nonce, caFingerprint } = welcome.body;
      const fields = { username: 'lowkey', signingKey, encryptionKey, nonce, caFingerprint };
      const proof = await signPayload(
        'register',
        identity.signing.privateKey,
        registerPayload(fields),
      );
      raw.send('register', 2, { username: 'lowkey', signingKey, encryptionKey, proof });
      assert.equal(errorCode(await raw.reply(2)), 'E_BAD_KEY');
      raw.close();
    }
    const fine = await registered(server, 'lowkey');
    fine.client.close();
  });

  it('a failed auth is E_AUTH and closes the connection', async () => {
    const raw = await RawPeer.connect(server.url, server.caPath);
    raw.send('hello', 1, { versions: [2] });
    await raw.reply(1);
    raw.send('auth', 2, { username: 'alice', signature: new Uint8Array(64) });
    assert.equal(errorCode(await raw.reply(2)), 'E_AUTH');
    assert.equal(await raw.closed(), 1008);
  });

  it('the handshake timeout: E_TIMEOUT with id 0, then close', async () => {
    const raw = await RawPeer.connect(server.url, server.caPath);
    const error = await raw.next((m) => m.type === 'error', 5000);
    assert.equal(error.id, 0);
    assert.equal(errorCode(error), 'E_TIMEOUT');
    assert.equal(await raw.closed(), 1008);
  });

  it('a message over the frame limit is closed with 1009 while it arrives', async () => {
    const raw = await peer();
    raw.sendRaw(new Uint8Array(2 * 1024 * 1024));
    assert.equal(await raw.closed(), 1009);
  });
});

describe('server shutdown', () => {
  it('transfers get E_UNAVAILABLE on their ids, the connection E_UNAVAILABLE with id 0, then close 1001', async () => {
    const server = await testServer();
    try {
      const { client } = await registered(server, 'alice');
      await postImage(client, { name: 'big', source: bytesSource(pngBytes(2 * 1024 * 1024)) });
      const identity = client.identity ?? assert.fail('signed in');
      const raw = await authenticatedPeer(server.url, server.caPath, 'alice', identity);
      raw.send('download', 9, { credit: 100_000, owner: 'alice', name: 'big' });
      await raw.next((m) => m.id === 9 && m.type === 'download.begin');
      await server.stop();
      assert.equal(
        errorCode(await raw.next((m) => m.id === 9 && m.type === 'error')),
        'E_UNAVAILABLE',
      );
      const push = await raw.next((m) => m.id === 0 && m.type === 'error');
      assert.equal(errorCode(push), 'E_UNAVAILABLE');
      assert.equal(await raw.closed(), 1001);
      client.close();
    } finally {
      await server.stop();
    }
  });
});
