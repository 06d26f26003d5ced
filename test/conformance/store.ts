/**
 * The Store conformance suite: what every implementation of the Store port must do
 * (SQLite now; PostgreSQL runs the same). Each test gets a fresh, empty store.
 */
import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { albumConformance } from './store-albums.js';
import { linkConformance } from './store-links.js';
import type {
  ImageRecord,
  KeyGrant,
  ListCursor,
  Store,
  UserRecord,
} from '../../src/server/store/types.js';

export interface StoreFixture {
  readonly store: Store;
  /** Closes and reopens the same store (durability across restart). */
  reopen(): Promise<Store>;
  dispose(): Promise<void>;
}

const bytes = (length: number, fill: number): Uint8Array => new Uint8Array(length).fill(fill);

export function user(username: string, fill: number): UserRecord {
  return {
    username,
    signingKey: bytes(32, fill),
    encryptionKey: bytes(32, fill + 1),
    certificate: bytes(10, fill),
    created: 1,
  };
}

/** The blob key of test image `id`: 32 hex digits, as the server draws them. */
export const blobKey = (id: number): string => id.toString(16).padStart(2, '0').repeat(16);

export function image(
  id: number,
  owner: string,
  name: string,
  audience: 'public' | 'private',
): ImageRecord {
  return {
    id: bytes(16, id),
    owner,
    name,
    contentType: 'image/png',
    size: 10,
    ctLength: 82,
    sha256: bytes(32, id),
    blob: blobKey(id),
    manifest: bytes(20, id),
    signature: bytes(64, id),
    audience,
    created: 1000 + id,
  };
}

/** putImage without the event it writes, for tests about the image itself. */
async function putImage(
  store: Store,
  ...args: Parameters<Store['putImage']>
): Promise<{ replacedBlob: string | null } | 'exists'> {
  const result = await store.putImage(...args);
  return result === 'exists' ? result : { replacedBlob: result.replacedBlob };
}

const grant = (recipient: string, fill = 9): KeyGrant => ({
  recipient,
  enc: bytes(32, fill),
  ct: bytes(48, fill),
});

export function storeConformance(name: string, open: () => Promise<StoreFixture>): void {
  describe(`Store conformance: ${name}`, () => {
    let fixture: StoreFixture;
    let store: Store;
    beforeEach(async () => {
      fixture = await open();
      store = fixture.store;
      for (const [who, fill] of [
        ['alice', 1],
        ['bob', 3],
        ['carol', 7],
      ] as const)
        await store.createUser(user(who, fill));
    });
    afterEach(async () => {
      await fixture.dispose();
    });

    it('registers a name once: the same keys again are "same", other keys "taken"', async () => {
      assert.equal(await store.createUser(user('alice', 1)), 'same');
      assert.equal(await store.createUser(user('alice', 5)), 'taken');
      assert.deepEqual((await store.getUser('alice'))?.signingKey, bytes(32, 1));
      assert.deepEqual((await store.getUser('alice'))?.certificate, bytes(10, 1));
      assert.equal(await store.getUser('nobody'), undefined);
    });

    it('concurrent registrations of one name: exactly one is created', async () => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => store.createUser(user('dave', 20 + i))),
      );
      assert.equal(results.filter((r) => r === 'created').length, 1);
      assert.equal(results.filter((r) => r === 'taken').length, 9);
    });

    it('names are unique per owner; replace swaps atomically and reports the old blob', async () => {
      assert.deepEqual(await putImage(store, image(1, 'alice', 'sun', 'public'), [], false), {
        replacedBlob: null,
      });
      assert.equal(await putImage(store, image(2, 'alice', 'sun', 'public'), [], false), 'exists');
      assert.equal(await store.getImage(bytes(16, 2)), undefined, 'a refused put leaves nothing');
      assert.deepEqual(await putImage(store, image(3, 'bob', 'sun', 'public'), [], false), {
        replacedBlob: null,
      });
      assert.deepEqual(await putImage(store, image(4, 'alice', 'sun', 'public'), [], true), {
        replacedBlob: blobKey(1),
      });
      assert.equal(await store.getImage(bytes(16, 1)), undefined);
      assert.deepEqual((await store.findImage('alice', 'sun'))?.id, bytes(16, 4));
      assert.equal(await store.blobInUse(blobKey(1)), false);
      assert.equal(await store.blobInUse(blobKey(4)), true);
    });

    it('checkPost reads what post.begin checks: the image of that name, the id, the usage', async () => {
      assert.deepEqual(await store.checkPost('alice', 'Sun', bytes(16, 1)), {
        existing: undefined,
        idTaken: false,
        usage: { images: 0, bytes: 0 },
      });
      await putImage(store, image(1, 'alice', 'sun', 'public'), [], false);
      await putImage(store, image(2, 'bob', 'moon', 'public'), [], false);
      const check = await store.checkPost('alice', 'SUN', bytes(16, 2));
      assert.deepEqual(check.existing, image(1, 'alice', 'sun', 'public'));
      assert.equal(check.idTaken, true, "bob's id is taken for alice too");
      assert.deepEqual(check.usage, { images: 1, bytes: 10 });
      const other = await store.checkPost('bob', 'sun', bytes(16, 3));
      assert.equal(other.existing, undefined, "alice's name is not bob's");
      assert.equal(other.idTaken, false);
    });

    it('names are one name per owner whatever their case or compatibility form', async () => {
      await putImage(store, image(1, 'alice', 'Sunset', 'public'), [], false);
      assert.equal(
        await putImage(store, image(2, 'alice', 'sunset', 'public'), [], false),
        'exists',
      );
      assert.equal(
        await putImage(store, image(3, 'alice', 'SUNSET', 'public'), [], false),
        'exists',
      );
      assert.deepEqual((await store.findImage('alice', 'sUnSeT'))?.name, 'Sunset');
      assert.deepEqual((await store.findVisible('bob', 'alice', 'sunset'))?.id, bytes(16, 1));
      // Another owner's name is theirs.
      assert.notEqual(
        await putImage(store, image(4, 'bob', 'sunset', 'public'), [], false),
        'exists',
      );
      // Replacing under another case replaces the one image.
      assert.deepEqual(await putImage(store, image(5, 'alice', 'SunSet', 'public'), [], true), {
        replacedBlob: blobKey(1),
      });
      assert.equal((await store.findImage('alice', 'sunset'))?.name, 'SunSet');
    });

    it('concurrent posts of one name without replace: exactly one wins', async () => {
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          putImage(store, image(10 + i, 'alice', 'race', 'public'), [], false),
        ),
      );
      assert.equal(results.filter((r) => r !== 'exists').length, 1);
      const all = await store.listVisible('alice', null, 100);
      assert.equal(all.filter((i) => i.name === 'race').length, 1);
    });

    it('an image round-trips byte for byte', async () => {
      const record = image(5, 'bob', 'ünïcode name', 'private');
      await putImage(store, record, [grant('bob')], false);
      assert.deepEqual(await store.getImage(record.id), record);
      assert.deepEqual(await store.findImage('bob', 'ünïcode name'), record);
      assert.deepEqual(await store.getKey(record.id, 'bob'), grant('bob'));
    });

    it('visibility: public to all, private to the owner and those granted a key only', async () => {
      await putImage(store, image(1, 'alice', 'sun', 'public'), [], false);
      await putImage(store, image(3, 'bob', 'sun', 'public'), [], false);
      await putImage(
        store,
        image(5, 'alice', 'secret', 'private'),
        [grant('alice'), grant('bob')],
        false,
      );
      const sees = async (viewer: string, n: number): Promise<boolean> =>
        (await store.getVisible(viewer, bytes(16, n))) !== undefined;
      assert.equal(await sees('bob', 5), true);
      assert.equal(await sees('alice', 5), true);
      assert.equal(await sees('carol', 5), false);
      assert.equal(await sees('carol', 99), false, 'missing is not visible');
      assert.deepEqual((await store.getVisible('carol', bytes(16, 1)))?.name, 'sun');
      assert.deepEqual((await store.findVisible('bob', 'alice', 'secret'))?.id, bytes(16, 5));
      assert.equal(await store.findVisible('carol', 'alice', 'secret'), undefined);
      assert.equal(await store.findVisible('carol', 'alice', 'nothing'), undefined);
      assert.deepEqual(
        (await store.listVisible('carol', null, 100)).map((i) => `${i.owner}/${i.name}`),
        ['alice/sun', 'bob/sun'],
        'in order of creation',
      );
      assert.equal((await store.listVisible('bob', null, 100)).length, 3);
      assert.equal(await store.getKey(bytes(16, 5), 'carol'), undefined);
      await store.addKeys(bytes(16, 5), [grant('carol')]);
      assert.equal(await sees('carol', 5), true);
      // Granting again replaces the key rather than failing or duplicating it.
      await store.addKeys(bytes(16, 5), [grant('carol', 4)]);
      assert.deepEqual(await store.getKey(bytes(16, 5), 'carol'), grant('carol', 4));
    });

    it('listing pages in (created, id) order: every image once, whatever the page size', async () => {
      // Several images share a creation time, so the id breaks the tie.
      for (let n = 1; n <= 23; n++)
        await putImage(
          store,
          { ...image(n, 'alice', `n${n}`, 'public'), created: 1000 + (n % 4) },
          [],
          false,
        );
      const expected = (await store.listVisible('bob', null, 100)).map((i) => i.name);
      assert.equal(expected.length, 23);
      for (const size of [1, 2, 5, 22, 23, 24]) {
        const seen: string[] = [];
        let after: ListCursor | null = null;
        for (;;) {
          const page: ImageRecord[] = await store.listVisible('bob', after, size);
          assert.ok(page.length <= size);
          seen.push(...page.map((i) => i.name));
          const last = page[page.length - 1];
          if (last === undefined || page.length < size) break;
          after = { created: last.created, id: last.id };
        }
        assert.deepEqual(seen, expected, `page size ${size}`);
      }
    });

    it('usage counts the images and plaintext bytes of one owner', async () => {
      assert.deepEqual(await store.usage('alice'), { images: 0, bytes: 0 });
      await putImage(store, image(1, 'alice', 'a', 'public'), [], false);
      await putImage(store, { ...image(2, 'alice', 'b', 'private'), size: 1000 }, [], false);
      await putImage(store, image(3, 'bob', 'c', 'public'), [], false);
      assert.deepEqual(await store.usage('alice'), { images: 2, bytes: 1010 });
      assert.deepEqual(await store.usage('carol'), { images: 0, bytes: 0 });
    });

    it("delete: only the owner's, with its grants, at once; reports who held a grant", async () => {
      const record = image(1, 'alice', 'gone', 'private');
      await putImage(store, record, [grant('alice'), grant('bob'), grant('@server')], false);
      await putImage(store, image(2, 'alice', 'kept', 'public'), [], false);
      assert.equal(await store.deleteImage('bob', record.id), undefined, 'not for bob to delete');
      assert.ok((await store.getVisible('bob', record.id)) !== undefined);
      const deleted = await store.deleteImage('alice', record.id);
      assert.deepEqual(deleted?.image, record);
      assert.deepEqual(deleted.recipients, ['alice', 'bob']);
      assert.equal(await store.getImage(record.id), undefined);
      assert.equal(await store.getVisible('bob', record.id), undefined);
      assert.equal(await store.getKey(record.id, 'bob'), undefined);
      assert.equal(await store.blobInUse(record.blob), false);
      assert.deepEqual(await store.usage('alice'), { images: 1, bytes: 10 });
      assert.equal(await store.deleteImage('alice', record.id), undefined, 'only once');
      // The name is free again.
      assert.deepEqual(await putImage(store, image(3, 'alice', 'gone', 'public'), [], false), {
        replacedBlob: null,
      });
    });

    it('the event log: every change gets a position, written with it; each user reads their own', async () => {
      const head = await store.eventHead();
      const posted = await store.putImage(image(1, 'alice', 'pub', 'public'), [], false);
      assert.ok(posted !== 'exists');
      const secret = await store.putImage(
        image(2, 'alice', 'secret', 'private'),
        [grant('alice'), grant('bob'), grant('@server')],
        false,
      );
      assert.ok(secret !== 'exists');
      assert.deepEqual(secret.event.notify, ['alice', 'bob']);
      const shared = await store.addKeys(image(2, 'alice', 'secret', 'private').id, [
        grant('carol'),
        grant('bob'),
      ]);
      assert.deepEqual(shared?.notify, ['carol'], 'only those who had no key are told');
      assert.equal(
        await store.addKeys(image(2, 'alice', 'secret', 'private').id, [grant('carol')]),
        null,
      );
      const withdrawn = await store.withdraw(image(2, 'alice', 'secret', 'private').id, {
        recipient: 'carol',
        withdrawn: 5,
        signature: bytes(64, 5),
      });
      assert.equal(withdrawn.held, true);
      assert.deepEqual(withdrawn.event?.notify, ['carol']);
      const deleted = await store.deleteImage('alice', image(1, 'alice', 'pub', 'public').id);
      assert.equal(deleted?.event.kind, 'deleted');
      const positions = [posted.event, secret.event, shared, withdrawn.event, deleted.event].map(
        (event) => event.position,
      );
      assert.deepEqual(
        [...positions].sort((a, b) => a - b),
        positions,
        'increasing',
      );
      assert.ok((positions[0] ?? 0) > head);
      assert.equal(await store.eventHead(), positions.at(-1));
      const kinds = async (viewer: string) =>
        (await store.eventsSince(viewer, head, 100)).map((event) => `${event.kind} ${event.name}`);
      assert.deepEqual(await kinds('carol'), [
        'new_image pub',
        'new_image secret',
        'withdrawn secret',
        'deleted pub',
      ]);
      assert.deepEqual(await kinds('bob'), ['new_image pub', 'new_image secret', 'deleted pub']);
      assert.deepEqual(await kinds('dave'), ['new_image pub', 'deleted pub']);
      assert.deepEqual(
        (await store.eventsSince('bob', positions[1] ?? 0, 100)).map((event) => event.name),
        ['pub'],
        'after a position, only what came later',
      );
      assert.equal((await store.eventsSince('bob', head, 1)).length, 1);
      assert.equal(await store.pruneEvents(0), 0);
    });

    it('thumbnails: stored with the image, given only to who may see it, gone with the image', async () => {
      const pub = { ...image(1, 'alice', 'pub', 'public'), thumbnail: bytes(300, 1) };
      const mine = { ...image(2, 'alice', 'mine', 'private'), thumbnail: bytes(400, 2) };
      await putImage(store, pub, [], false);
      await putImage(store, mine, [grant('alice')], false);
      await putImage(store, image(3, 'alice', 'bare', 'public'), [], false);
      const ids = [mine.id, image(3, 'alice', 'bare', 'public').id, pub.id, bytes(16, 99)];
      const forAlice = await store.thumbnails('alice', ids);
      assert.deepEqual(
        forAlice.map((entry) => [entry.image.name, entry.data.length]),
        [
          ['mine', 400],
          ['pub', 300],
        ],
        'in the order asked; none for an image without one or that does not exist',
      );
      const { thumbnail: _, ...record } = pub;
      assert.deepEqual(forAlice[1]?.image, record, 'with its image record');
      assert.deepEqual(
        (await store.thumbnails('bob', ids)).map((entry) => entry.image.name),
        ['pub'],
        'not the private one',
      );
      assert.equal(await store.getImage(pub.id).then((found) => found?.thumbnail), undefined);
      await store.deleteImage('alice', pub.id);
      assert.deepEqual(await store.thumbnails('alice', [pub.id]), []);
    });

    it('an image of an unknown owner is refused with an error (and keeps its code)', async () => {
      await assert.rejects(
        putImage(store, image(6, 'nobody', 'x', 'public'), [], false),
        (error: unknown) => error instanceof Error,
      );
      assert.equal(await store.getImage(bytes(16, 6)), undefined);
      assert.equal(await store.createUser(user('erin', 11)), 'created', 'still working');
    });

    it('allBlobs names every blob in use, once; blobInUse says whether an image refers to one', async () => {
      await putImage(store, image(1, 'alice', 'a', 'public'), [], false);
      // Blobs named by digest (before blobs were named by upload) could be shared.
      await putImage(store, { ...image(2, 'bob', 'b', 'public'), blob: blobKey(1) }, [], false);
      await putImage(store, image(11, 'carol', 'c', 'public'), [], false);
      assert.deepEqual((await store.allBlobs()).sort(), [blobKey(1), blobKey(11)]);
      assert.equal(await store.blobInUse(blobKey(11)), true);
      assert.equal(await store.blobInUse(blobKey(2)), false);
      assert.equal(await store.blobInUse(blobKey(11).toUpperCase()), false, 'keys are exact');
    });

    albumConformance(() => store);
    linkConformance(() => store);

    it('what was committed survives closing and reopening', async () => {
      await putImage(store, image(1, 'alice', 'kept', 'private'), [grant('alice')], false);
      store = await fixture.reopen();
      assert.deepEqual((await store.findImage('alice', 'kept'))?.id, bytes(16, 1));
      assert.deepEqual(await store.getKey(bytes(16, 1), 'alice'), grant('alice'));
      assert.equal(await store.createUser(user('alice', 1)), 'same');
    });
  });
}
