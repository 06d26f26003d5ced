/**
 * The link part of the Store conformance suite: a download is counted only while
 * the link is open, the state says why one is refused, and a link goes with its
 * image. Run by storeConformance for every Store implementation.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import type { LinkRecord, Store } from '../../src/server/store/types.js';
import { image } from './store.js';

const bytes = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

function link(id: number, fields: Partial<LinkRecord> = {}): LinkRecord {
  return {
    id: bytes(16, 0x40 + id),
    owner: 'alice',
    image: bytes(16, 1),
    key: bytes(60, id),
    created: 1000 + id,
    expires: 10_000,
    downloads: 0,
    revoked: false,
    ...fields,
  };
}

export function linkConformance(current: () => Store): void {
  it('links: counted while open; refused as expired, used up or revoked; gone with the image', async () => {
    const store = current();
    await store.putImage(image(1, 'alice', 'flower', 'private'), [], false);
    const limited = link(1, { maxDownloads: 2 });
    const locked = link(2, { passphrase: { salt: bytes(16, 9), N: 32768, r: 8, p: 1 } });
    assert.equal(await store.createLink(limited, 3), 'created');
    assert.equal(await store.createLink(locked, 3), 'created');
    assert.equal(await store.createLink(link(3), 3), 'created');
    assert.equal(await store.createLink(link(4), 3), 'full');
    assert.deepEqual(await store.getLink(locked.id), locked);
    assert.equal(await store.consumeLink(limited.id, 5000), 'open');
    assert.equal(await store.consumeLink(limited.id, 5000), 'open');
    assert.equal(await store.consumeLink(limited.id, 5000), 'used_up');
    assert.equal((await store.getLink(limited.id))?.downloads, 2, 'refusals count nothing');
    assert.equal(await store.consumeLink(locked.id, 10_000), 'expired');
    assert.equal(await store.revokeLink('bob', link(3).id), false, "not bob's to revoke");
    assert.equal(await store.revokeLink('alice', link(3).id), true);
    assert.equal(await store.consumeLink(link(3).id, 5000), 'revoked');
    assert.equal(await store.consumeLink(bytes(16, 0x7f), 5000), 'missing');
    assert.deepEqual(
      (await store.listLinks('alice')).map((row) => [row.name, row.downloads, row.revoked]),
      [
        ['flower', 0, true],
        ['flower', 0, false],
        ['flower', 2, false],
      ],
    );
    assert.deepEqual(await store.listLinks('bob'), []);
    await store.deleteImage('alice', bytes(16, 1));
    assert.equal(await store.getLink(limited.id), undefined);
    assert.deepEqual(await store.listLinks('alice'), []);
  });
}
