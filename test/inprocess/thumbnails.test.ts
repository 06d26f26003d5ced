/**
 * Thumbnails end to end in one process, against the real server: sealed by the
 * poster, stored beside the image, fetched a page at a time with the reader's key,
 * verified against the owner's signed manifest; a server that swaps or alters one
 * is caught.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import type { SispClient } from '../../src/core/client.js';
import { postImage } from '../../src/core/post.js';
import { shareImage } from '../../src/core/sharing.js';
import { bytesSource } from '../../src/core/source.js';
import { fetchThumbnails } from '../../src/core/thumbnails.js';
import { toHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import type { Store } from '../../src/server/store/types.js';
import { registered, testServer, type TestServer } from './harness.js';
import { pngBytes } from './images.js';

const attack = { swap: false, flip: false };

/** Serves thumbnails swapped between images, or with one bit flipped, when told to. */
function hostile(real: Store): Store {
  return {
    ...real,
    thumbnails: async (viewer, ids) => {
      const found = await real.thumbnails(viewer, ids);
      if (attack.flip)
        return found.map((entry) => {
          const data = new Uint8Array(entry.data);
          data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 1;
          return { ...entry, data };
        });
      if (attack.swap && found.length >= 2)
        return found.map((entry, i) => ({
          ...entry,
          data: found[(i + 1) % found.length]?.data ?? entry.data,
        }));
      return found;
    },
  };
}

describe('thumbnails', () => {
  let server: TestServer;
  let alice: SispClient;
  let bob: SispClient;
  let carol: SispClient;
  const small = new Map<string, Uint8Array>();

  before(async () => {
    server = await testServer({}, { wrapStore: hostile });
    alice = (await registered(server, 'alice')).client;
    bob = (await registered(server, 'bob')).client;
    carol = (await registered(server, 'carol')).client;
    for (let i = 0; i < 5; i++) {
      const thumbnail = new Uint8Array(randomBytes(2000 + i * 1000));
      const posted = await postImage(alice, {
        name: `t${i}`,
        source: bytesSource(pngBytes(3000, i)),
        thumbnail,
        ...(i === 4 ? { to: ['carol'] } : {}),
      });
      small.set(toHex(posted.image), thumbnail);
    }
    await postImage(alice, { name: 'none', source: bytesSource(pngBytes(3000, 9)) });
  });
  after(async () => {
    for (const client of [alice, bob, carol]) client.close();
    await server.stop();
  });

  it('a reader gets every thumbnail they may see, opened, byte for byte; none for an image without one', async () => {
    const listed = await listImages(bob);
    assert.equal(listed.find((image) => image.name === 'none')?.thumbnail, undefined);
    const got = await fetchThumbnails(bob, listed);
    assert.equal(got.size, 4, "the four public ones (not carol's private one)");
    for (const [id, bytes] of got) assert.deepEqual(bytes, small.get(id));
    const carols = await fetchThumbnails(carol, await listImages(carol));
    assert.equal(carols.size, 5);
  });

  it('a thumbnail shared later opens for its new reader (through the signed grant)', async () => {
    await shareImage(alice, 't4', ['bob']);
    const got = await fetchThumbnails(bob, await listImages(bob));
    assert.equal(got.size, 5);
  });

  it('a swapped or altered thumbnail is E_TAMPERED', async () => {
    const listed = await listImages(bob);
    for (const kind of ['swap', 'flip'] as const) {
      attack[kind] = true;
      try {
        await assert.rejects(fetchThumbnails(bob, listed), (error) =>
          isSispError(error, 'E_TAMPERED'),
        );
      } finally {
        attack[kind] = false;
      }
    }
  });

  it('the owner signs the thumbnail: its type, length and digest are in the listed manifest', async () => {
    const listed = await listImages(alice);
    const image = listed.find((entry) => entry.name === 't0');
    assert.ok(image?.thumbnail !== undefined);
    assert.equal(image.thumbnail.type, 'image/webp');
    assert.equal(image.thumbnail.sha256.length, 32);
    assert.ok(
      image.thumbnail.ctLength > 2000,
      'the sealed length covers the 2,000 plaintext bytes',
    );
  });
});
