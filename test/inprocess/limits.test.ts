/** Listing in pages that always fit a frame, per-user quotas, and the free-space reserve. */
import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import { postImage } from '../../src/core/post.js';
import { bytesSource } from '../../src/core/source.js';
import { isSispError } from '../../src/protocol/errors.js';
import { MAX_LIST_PAGE } from '../../src/protocol/messages.js';
import type { Store } from '../../src/server/store/types.js';
import { authenticatedPeer } from '../support/raw-peer.js';
import { registered, withServer } from './harness.js';
import { pngBytes } from './images.js';

const fails = (code: string) => (error: unknown) => isSispError(error) && error.code === code;

describe('listing never outgrows a frame', () => {
  it('hundreds of images with the longest names list in pages, each within the frame limit', async () => {
    // A small frame limit makes the bomb small: ~16 entries fit in 16 KiB. The 500 requests
    // of 250 posts go faster than the default rate on a quiet machine: not what is tested here.
    const limits = { maxFrame: 16 * 1024, requestsPerSecond: 10_000, requestBurst: 10_000 };
    await withServer(limits, async (server) => {
      const { client: alice } = await registered(server, 'alice');
      const { client: bob } = await registered(server, 'bob');
      const long = 'x'.repeat(60);
      for (let n = 0; n < 250; n++)
        await postImage(alice, { name: `${long}${n}`, source: bytesSource(pngBytes(10)) });
      const listed = await listImages(bob);
      assert.equal(listed.length, 250);
      assert.equal(new Set(listed.map((image) => image.name)).size, 250);
      // Page by page on the wire: every reply within the limit, every image once.
      const peer = await authenticatedPeer(server.url, server.caPath, 'bob', bob.requireIdentity());
      let after: Uint8Array | undefined;
      let pages = 0;
      let total = 0;
      do {
        peer.send(
          'list',
          10 + pages,
          after === undefined ? { limit: MAX_LIST_PAGE } : { after, limit: MAX_LIST_PAGE },
        );
        const reply = await peer.reply(10 + pages);
        if (reply.type !== 'list.result') assert.fail(reply.type);
        total += reply.body.images.length;
        after = reply.body.next;
        pages++;
      } while (after !== undefined);
      assert.equal(total, 250);
      assert.ok(pages > 250 / MAX_LIST_PAGE, `${pages} pages: split to fit the frame`);
      peer.close();
      alice.close();
      bob.close();
    });
  });

  it('a malformed cursor is E_BAD_REQUEST, and the connection stays open', async () => {
    await withServer({}, async (server) => {
      const { client } = await registered(server, 'alice');
      const peer = await authenticatedPeer(
        server.url,
        server.caPath,
        'alice',
        client.requireIdentity(),
      );
      peer.send('list', 5, { after: Uint8Array.of(1, 2, 3) });
      const reply = await peer.reply(5);
      assert.equal(reply.type === 'error' ? reply.body.code : reply.type, 'E_BAD_REQUEST');
      peer.send('list', 6, {});
      assert.equal((await peer.reply(6)).type, 'list.result');
      peer.close();
      client.close();
    });
  });
});

describe('per-user limits', () => {
  it('past the image count or the byte total: E_QUOTA; replacing counts the old image out', async () => {
    await withServer({ imagesPerUser: 3, bytesPerUser: 10_000 }, async (server) => {
      const { client: alice } = await registered(server, 'alice');
      const post = (name: string, size: number, replace = false) =>
        postImage(alice, { name, source: bytesSource(pngBytes(size)), replace });
      await post('a', 100);
      await post('b', 100);
      await post('c', 100);
      await assert.rejects(post('d', 100), fails('E_QUOTA'));
      await post('c', 5000, true);
      await assert.rejects(post('b', 6000, true), fails('E_QUOTA'));
      // Another user's quota is their own.
      const { client: bob } = await registered(server, 'bob');
      await postImage(bob, { name: 'a', source: bytesSource(pngBytes(9000)) });
      assert.deepEqual(
        (await listImages(alice))
          .filter((i) => i.owner === 'alice')
          .map((i) => i.name)
          .sort(),
        ['a', 'b', 'c'],
      );
      alice.close();
      bob.close();
    });
  });

  it('an upload that would eat into the free-space reserve: E_NO_SPACE, logged', async () => {
    await withServer({ minFreeBytes: Number.MAX_SAFE_INTEGER }, async (server) => {
      const { client } = await registered(server, 'alice');
      await assert.rejects(
        postImage(client, { name: 'full', source: bytesSource(pngBytes(100)) }),
        fails('E_NO_SPACE'),
      );
      client.close();
    });
  });
});

describe('a private image looks exactly like a missing one', () => {
  it('download by name or id, and share, make one store call that answers both the same', async () => {
    const calls: string[] = [];
    const counting = (real: Store): Store =>
      new Proxy(real, {
        get(target, property, receiver) {
          const value: unknown = Reflect.get(target, property, receiver);
          if (typeof value !== 'function' || typeof property !== 'string') return value;
          return (...args: unknown[]) => {
            calls.push(property);
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    await withServer(
      {},
      async (server) => {
        const { client: alice } = await registered(server, 'alice');
        const { client: carol } = await registered(server, 'carol');
        const secret = await postImage(alice, {
          name: 'secret',
          source: bytesSource(pngBytes(100)),
          to: ['alice'],
        });
        const peer = await authenticatedPeer(
          server.url,
          server.caPath,
          'carol',
          carol.requireIdentity(),
        );
        const probe = async (body: { image: Uint8Array } | { owner: string; name: string }) => {
          calls.length = 0;
          peer.send('download', 9, { credit: 1000, ...body });
          const reply = await peer.reply(9);
          return { code: reply.type === 'error' ? reply.body.code : reply.type, calls: [...calls] };
        };
        const hidden = await probe({ owner: 'alice', name: 'secret' });
        const missing = await probe({ owner: 'alice', name: 'nothing' });
        assert.deepEqual(hidden, missing);
        assert.equal(hidden.code, 'E_NOT_FOUND');
        const hiddenById = await probe({ image: secret.image });
        const missingById = await probe({ image: new Uint8Array(16).fill(7) });
        assert.deepEqual(hiddenById, missingById);
        peer.close();
        alice.close();
        carol.close();
      },
      { wrapStore: counting },
    );
  });
});

describe('an upload refused at its end', () => {
  it('a post.end refused as rate-limited ends its transfer: no temporary, no slot held', async () => {
    await withServer({ requestsPerSecond: 1, requestBurst: 6 }, async (server) => {
      const { client } = await registered(server, 'alice');
      const peer = await authenticatedPeer(
        server.url,
        server.caPath,
        'alice',
        client.requireIdentity(),
      );
      const declare = (id: number) => {
        peer.send('post.begin', id, {
          image: new Uint8Array(16).fill(id),
          name: `x${id}`,
          contentType: 'image/png',
          size: 10,
          audience: ['alice'],
          keys: [{ recipient: 'alice', enc: new Uint8Array(32).fill(9), ct: new Uint8Array(48) }],
          replace: false,
        });
        return peer.reply(id);
      };
      // Four uploads fill the connection's transfers; the tokens are then spent.
      for (const id of [10, 11, 12, 13]) assert.equal((await declare(id)).type, 'post.ready');
      peer.send('list', 20, {});
      peer.send('list', 21, {});
      await peer.reply(20);
      await peer.reply(21);
      for (const id of [10, 11, 12, 13]) {
        peer.send('post.end', id, { manifest: new Uint8Array(10), signature: new Uint8Array(64) });
        const refused = await peer.reply(id);
        assert.equal(refused.type === 'error' ? refused.body.code : refused.type, 'E_RATE_LIMITED');
      }
      for (
        let tries = 0;
        readdirSync(join(server.dataDir, 'tmp')).length > 0 && tries < 40;
        tries++
      )
        await new Promise((resolve) => setTimeout(resolve, 50));
      assert.deepEqual(readdirSync(join(server.dataDir, 'tmp')), []);
      // The four slots are free again: a new upload begins (once a token is back).
      await new Promise((resolve) => setTimeout(resolve, 1100));
      assert.equal((await declare(30)).type, 'post.ready');
      peer.close();
      client.close();
    });
  });
});
