/**
 * The album part of the Store conformance suite: membership and items decide who
 * sees an image, each change writes its events in the same transaction, and the
 * limits hold. Run by storeConformance for every Store implementation.
 */
import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import type { AlbumItem, AlbumMember, AlbumRecord, Store } from '../../src/server/store/types.js';
import { image } from './store.js';

const bytes = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

const album = (id: number, owner: string, name: string): AlbumRecord => ({
  id: bytes(16, 0x80 + id),
  owner,
  name,
  created: 5000 + id,
});

const member = (name: string, fill = 4): AlbumMember => ({
  member: name,
  enc: bytes(32, fill),
  ct: bytes(48, fill),
  signature: bytes(64, fill),
});

const item = (imageId: number, fill = 5): AlbumItem => ({
  image: bytes(16, imageId),
  key: bytes(60, fill),
  signature: bytes(64, fill),
});

function change<T>(result: T | 'full'): T {
  assert.notEqual(result, 'full');
  return result as T;
}

export function albumConformance(current: () => Store): void {
  it('albums: one name per owner (in any case), a limit per owner, found only by members', async () => {
    const store = current();
    const holiday = album(1, 'alice', 'Holiday');
    assert.equal(await store.createAlbum(holiday, member('alice'), 2), 'created');
    assert.equal(
      await store.createAlbum(album(2, 'alice', 'holiday'), member('alice'), 2),
      'exists',
    );
    assert.equal(await store.createAlbum(album(3, 'alice', 'work'), member('alice'), 2), 'created');
    assert.equal(await store.createAlbum(album(4, 'alice', 'more'), member('alice'), 2), 'full');
    assert.deepEqual(await store.findAlbum('alice', 'alice', 'HOLIDAY'), holiday);
    assert.equal(await store.findAlbum('bob', 'alice', 'holiday'), undefined);
    assert.deepEqual(await store.getAlbum(holiday.id), holiday);
    assert.deepEqual(await store.albumMembers(holiday.id), [member('alice')]);
  });

  it('albums: members see its images and get their key through it; events tell who gains and loses sight', async () => {
    const store = current();
    const holiday = album(1, 'alice', 'holiday');
    await store.createAlbum(holiday, member('alice'), 10);
    const beach = image(1, 'alice', 'beach', 'private');
    await store.putImage(
      beach,
      [{ recipient: 'alice', enc: bytes(32, 1), ct: bytes(48, 1) }],
      false,
    );
    const shared = change(await store.shareAlbum(holiday.id, [member('bob')], 3));
    assert.equal(shared.changed, 1);
    assert.deepEqual(
      shared.events.map((e) => [e.kind, e.name, e.notify]),
      [['album_shared', 'holiday', ['bob']]],
    );
    assert.equal(await store.getVisible('bob', beach.id), undefined, 'nothing in it yet');
    const added = change(await store.addToAlbum(holiday.id, [item(1)], 100));
    assert.equal(added.changed, 1);
    assert.deepEqual(
      added.events.map((e) => [e.kind, e.name, e.notify]),
      [['new_image', 'beach', ['bob']]],
    );
    assert.ok((await store.getVisible('bob', beach.id)) !== undefined);
    assert.deepEqual(
      (await store.listVisible('bob', null, 10)).map((row) => row.name),
      ['beach'],
    );
    assert.equal(await store.getVisible('carol', beach.id), undefined);
    const via = await store.albumKey('bob', beach.id);
    assert.deepEqual(via, { album: holiday, member: member('bob'), item: item(1) });
    assert.equal(await store.albumKey('carol', beach.id), undefined);
    assert.deepEqual(await store.albumItems(holiday.id, null, 10), [item(1)]);
    // Adding it again re-seals; no one new is told.
    assert.deepEqual(change(await store.addToAlbum(holiday.id, [item(1, 6)], 100)), {
      changed: 0,
      events: [],
    });
    assert.deepEqual(await store.listAlbums('bob', 10), [{ ...holiday, images: 1, members: 2 }]);
    const bobsEvents = await store.eventsSince('bob', 0, 10);
    assert.deepEqual(
      bobsEvents.map((e) => e.kind),
      ['album_shared', 'new_image'],
    );
  });

  it('albums: remove and unshare take sight away (and say so) unless another way remains', async () => {
    const store = current();
    const holiday = album(1, 'alice', 'holiday');
    await store.createAlbum(holiday, member('alice'), 10);
    await store.putImage(image(1, 'alice', 'beach', 'private'), [], false);
    await store.putImage(
      image(2, 'alice', 'granted', 'private'),
      [{ recipient: 'bob', enc: bytes(32, 2), ct: bytes(48, 2) }],
      false,
    );
    change(await store.shareAlbum(holiday.id, [member('bob'), member('carol')], 3));
    change(await store.addToAlbum(holiday.id, [item(1), item(2)], 100));
    const removed = await store.removeFromAlbum(holiday.id, [
      bytes(16, 1),
      bytes(16, 2),
      bytes(16, 9),
    ]);
    assert.equal(removed.changed, 2);
    assert.deepEqual(
      removed.events.map((e) => [e.kind, e.name, e.notify]),
      [
        ['withdrawn', 'beach', ['bob', 'carol']],
        ['withdrawn', 'granted', ['carol']],
      ],
    );
    assert.ok((await store.getVisible('bob', bytes(16, 2))) !== undefined, 'his own grant remains');
    change(await store.addToAlbum(holiday.id, [item(1)], 100));
    const gone = await store.unshareAlbum(holiday.id, 'carol');
    assert.deepEqual(
      gone.events.map((e) => [e.kind, e.name, e.notify]),
      [['album_unshared', 'holiday', ['carol']]],
    );
    assert.equal(await store.getVisible('carol', bytes(16, 1)), undefined);
    assert.deepEqual(await store.unshareAlbum(holiday.id, 'carol'), { changed: 0, events: [] });
    assert.deepEqual(await store.unshareAlbum(holiday.id, 'alice'), { changed: 0, events: [] });
  });

  it('albums: limits on images and members; a deleted image leaves its albums and members are told', async () => {
    const store = current();
    const holiday = album(1, 'alice', 'holiday');
    await store.createAlbum(holiday, member('alice'), 10);
    for (const id of [1, 2, 3])
      await store.putImage(image(id, 'alice', `i${id}`, 'private'), [], false);
    change(await store.addToAlbum(holiday.id, [item(1), item(2)], 2));
    assert.equal(await store.addToAlbum(holiday.id, [item(3)], 2), 'full');
    assert.equal(await store.shareAlbum(holiday.id, [member('bob'), member('carol')], 2), 'full');
    change(await store.shareAlbum(holiday.id, [member('bob')], 2));
    const deleted = await store.deleteImage('alice', bytes(16, 1));
    assert.deepEqual(deleted?.event.notify, ['alice', 'bob']);
    assert.deepEqual(await store.albumItems(holiday.id, null, 10), [item(2)]);
    // Paging through items in id order.
    assert.deepEqual(await store.albumItems(holiday.id, bytes(16, 1), 10), [item(2)]);
    assert.deepEqual(await store.albumItems(holiday.id, bytes(16, 2), 10), []);
  });
}
