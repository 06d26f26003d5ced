/**
 * From a page to a real `sisp serve` over wss: the core registers two users with
 * WebCrypto keys, posts an image from a web stream, and the other user is told
 * and downloads it verified. Runs only in the browser (test/browser/chromium.test.ts
 * starts the server and hands its address to the page).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import { SispClient, type ClientOptions } from '../../src/core/client.js';
import type { ImageEvent } from '../../src/core/connection.js';
import { downloadImage } from '../../src/core/download.js';
import { postImage } from '../../src/core/post.js';
import { memorySink } from '../../src/core/sink.js';
import { streamSource } from '../../src/core/source.js';
import { MemoryStorage } from '../../src/core/storage.js';
import { webSocketConnector } from '../../src/core/websocket-transport.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { toHex } from '../../src/protocol/bytes.js';
import { readTestFile } from '../support/files.js';

interface TestServer {
  readonly url: string;
  readonly caPem: string;
}

const server = (globalThis as { SISP_TEST_SERVER?: TestServer }).SISP_TEST_SERVER;

function options(storage: MemoryStorage): ClientOptions {
  if (server === undefined) throw new Error('no test server given to the page');
  return {
    storage,
    connector: webSocketConnector,
    server: server.url,
    caPem: server.caPem,
    agent: 'sisp-browser-test',
  };
}

async function register(name: string): Promise<SispClient> {
  const client = await SispClient.connect(options(new MemoryStorage()));
  await client.register(name);
  return client;
}

describe('round trip from a page to a real sisp serve', () => {
  it('register, post from a web stream, be told, download verified, in the browser', async () => {
    const suffix = toHex(randomBytes(3));
    const alice = await register(`web-alice-${suffix}`);
    const bob = await register(`web-bob-${suffix}`);
    try {
      const told: ImageEvent[] = [];
      bob.connection.onEvent = (event) => told.push(event);
      const image = await readTestFile('test/fixtures/images/hopper.png');
      const blob = new Blob([image as Uint8Array<ArrayBuffer>], { type: 'image/png' });
      // Small reads, as a File's stream gives them, across many envelope chunks.
      const source = streamSource(() => blob.stream(), blob.size, 'image/png');
      const posted = await postImage(alice, { name: 'from the page', source });
      assert.equal(posted.audience, 'public');

      const listed = (await listImages(bob)).find((entry) => entry.owner === alice.username);
      assert.equal(listed?.name, 'from the page');
      const got = await downloadImage(
        bob,
        { owner: alice.username, name: 'from the page' },
        memorySink(),
      );
      assert.deepEqual(got.result, image);
      assert.equal(got.manifest.owner, alice.username);
      assert.ok(told.some((event) => event.body.owner === alice.username));
    } finally {
      alice.close();
      bob.close();
    }
  });
});
