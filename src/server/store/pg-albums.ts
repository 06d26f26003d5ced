/**
 * Albums in PostgreSQL, as in sqlite-albums.ts: each change one transaction that
 * writes its events too (new_image to members who gain sight of an image, withdrawn
 * to those who lose it, album_shared and album_unshared to members added or removed).
 */
import type pg from 'pg';
import { imageNameKey } from '../../protocol/names.js';
import type { ImageEvent } from '../events/types.js';
import { appendEvent, runner, transaction, type Db } from './pg-base.js';
import type { AlbumItem, AlbumMember, Async, StoreMethods, AlbumMethodName } from './types.js';
import { toAlbum, toItem, toMember, type AlbumRow } from './rows.js';
import { visibleTo } from './visible.js';

const ALBUM = 'SELECT id, owner, name, created FROM albums WHERE id = $1';

/** Members of the album who cannot see the image (by any way) now. */
async function blind(db: Db, album: Uint8Array, image: Uint8Array): Promise<string[]> {
  const rows = await db.rows<{ member: string }>(
    `SELECT am.member FROM album_members am JOIN images i ON i.id = $2
      WHERE am.album = $1 AND NOT ${visibleTo('am.member')} ORDER BY am.member`,
    [album, image],
  );
  return rows.map((row) => row.member);
}

async function imageEvent(
  db: Db,
  kind: 'new_image' | 'withdrawn',
  image: Uint8Array,
  notify: string[],
): Promise<ImageEvent[]> {
  const row = await db.one<{ name: string; owner: string }>(
    'SELECT name, owner FROM images WHERE id = $1',
    [image],
  );
  if (row === undefined || notify.length === 0) return [];
  return [
    await appendEvent(db, { kind, image, name: row.name, owner: row.owner, notify }, Date.now()),
  ];
}

async function albumEvent(
  db: Db,
  kind: 'album_shared' | 'album_unshared',
  id: Uint8Array,
  notify: string[],
): Promise<ImageEvent[]> {
  const album = await db.one<AlbumRow>(ALBUM, [id]);
  if (album === undefined || notify.length === 0) return [];
  return [
    await appendEvent(
      db,
      { kind, image: id, name: album.name, owner: album.owner, notify },
      Date.now(),
    ),
  ];
}

async function insertMember(db: Db, album: Uint8Array, m: AlbumMember): Promise<void> {
  await db.run(
    `INSERT INTO album_members (album, member, enc, ct, signature) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (album, member) DO UPDATE SET enc = $3, ct = $4, signature = $5`,
    [album, m.member, m.enc, m.ct, m.signature],
  );
}

async function memberCount(db: Db, album: Uint8Array): Promise<number> {
  return (
    (
      await db.one<{ n: number }>(
        'SELECT COUNT(*)::bigint AS n FROM album_members WHERE album = $1',
        [album],
      )
    )?.n ?? 0
  );
}

function changes(
  pool: pg.Pool,
): Async<Pick<StoreMethods, 'addToAlbum' | 'removeFromAlbum' | 'shareAlbum' | 'unshareAlbum'>> {
  return {
    addToAlbum: (id, items, maxImages) =>
      transaction(pool, async (tx) => {
        const fresh = [];
        for (const item of items)
          if (
            (await tx.one('SELECT 1 FROM album_items WHERE album = $1 AND image = $2', [
              id,
              item.image,
            ])) === undefined
          )
            fresh.push(item);
        const count =
          (
            await tx.one<{ n: number }>(
              'SELECT COUNT(*)::bigint AS n FROM album_items WHERE album = $1',
              [id],
            )
          )?.n ?? 0;
        if (count + fresh.length > maxImages) return 'full' as const;
        const told = [];
        for (const item of items) told.push(await blind(tx, id, item.image));
        for (const item of items)
          await tx.run(
            `INSERT INTO album_items (album, image, key, signature) VALUES ($1, $2, $3, $4)
             ON CONFLICT (album, image) DO UPDATE SET key = $3, signature = $4`,
            [id, item.image, item.key, item.signature],
          );
        const written: ImageEvent[] = [];
        for (const [index, item] of items.entries())
          written.push(...(await imageEvent(tx, 'new_image', item.image, told[index] ?? [])));
        return { changed: fresh.length, events: written };
      }),
    removeFromAlbum: (id, images) =>
      transaction(pool, async (tx) => {
        let changed = 0;
        const written: ImageEvent[] = [];
        for (const image of images) {
          const before = new Set(await blind(tx, id, image));
          if (
            (await tx.run('DELETE FROM album_items WHERE album = $1 AND image = $2', [
              id,
              image,
            ])) === 0
          )
            continue;
          changed += 1;
          const lost = (await blind(tx, id, image)).filter((member) => !before.has(member));
          written.push(...(await imageEvent(tx, 'withdrawn', image, lost)));
        }
        return { changed, events: written };
      }),
    shareAlbum: (id, members, maxMembers) =>
      transaction(pool, async (tx) => {
        const fresh = [];
        for (const m of members)
          if (
            (await tx.one('SELECT 1 FROM album_members WHERE album = $1 AND member = $2', [
              id,
              m.member,
            ])) === undefined
          )
            fresh.push(m);
        if ((await memberCount(tx, id)) + fresh.length > maxMembers) return 'full' as const;
        for (const m of members) await insertMember(tx, id, m);
        const names = fresh.map((m) => m.member);
        return { changed: fresh.length, events: await albumEvent(tx, 'album_shared', id, names) };
      }),
    unshareAlbum: (id, member) =>
      transaction(pool, async (tx) => {
        const album = await tx.one<AlbumRow>(ALBUM, [id]);
        if (album === undefined || album.owner === member) return { changed: 0, events: [] };
        if (
          (await tx.run('DELETE FROM album_members WHERE album = $1 AND member = $2', [
            id,
            member,
          ])) === 0
        )
          return { changed: 0, events: [] };
        return { changed: 1, events: await albumEvent(tx, 'album_unshared', id, [member]) };
      }),
  };
}

export function pgAlbumMethods(pool: pg.Pool): Async<Pick<StoreMethods, AlbumMethodName>> {
  const db = runner(pool);
  return {
    ...changes(pool),
    createAlbum: (album, owner, maxAlbums) =>
      transaction(pool, async (tx) => {
        const key = imageNameKey(album.name);
        if (
          (await tx.one('SELECT 1 FROM albums WHERE owner = $1 AND name_key = $2', [
            album.owner,
            key,
          ])) !== undefined
        )
          return 'exists' as const;
        const owned = await tx.one<{ n: number }>(
          'SELECT COUNT(*)::bigint AS n FROM albums WHERE owner = $1',
          [album.owner],
        );
        if ((owned?.n ?? 0) >= maxAlbums) return 'full' as const;
        await tx.run(
          'INSERT INTO albums (id, owner, name, name_key, created) VALUES ($1, $2, $3, $4, $5)',
          [album.id, album.owner, album.name, key, album.created],
        );
        await insertMember(tx, album.id, owner);
        return 'created' as const;
      }),
    async findAlbum(viewer, owner, name) {
      const row = await db.one<AlbumRow>(
        `SELECT a.id, a.owner, a.name, a.created FROM albums a
           JOIN album_members m ON m.album = a.id AND m.member = $1
          WHERE a.owner = $2 AND a.name_key = $3`,
        [viewer, owner, imageNameKey(name)],
      );
      return row === undefined ? undefined : toAlbum(row);
    },
    async getAlbum(id) {
      const row = await db.one<AlbumRow>(ALBUM, [id]);
      return row === undefined ? undefined : toAlbum(row);
    },
    async albumMembers(id) {
      const rows = await db.rows<AlbumMember>(
        'SELECT member, enc, ct, signature FROM album_members WHERE album = $1 ORDER BY member',
        [id],
      );
      return rows.map(toMember);
    },
    async albumItems(id, after, limit) {
      const rows =
        after === null
          ? await db.rows<AlbumItem>(
              'SELECT image, key, signature FROM album_items WHERE album = $1 ORDER BY image LIMIT $2',
              [id, limit],
            )
          : await db.rows<AlbumItem>(
              'SELECT image, key, signature FROM album_items WHERE album = $1 AND image > $2 ORDER BY image LIMIT $3',
              [id, after, limit],
            );
      return rows.map(toItem);
    },
    async listAlbums(viewer, limit) {
      const rows = await db.rows<AlbumRow & { images: number; members: number }>(
        `SELECT a.id, a.owner, a.name, a.created,
                (SELECT COUNT(*) FROM album_items ai WHERE ai.album = a.id)::bigint AS images,
                (SELECT COUNT(*) FROM album_members am WHERE am.album = a.id)::bigint AS members
           FROM albums a JOIN album_members m ON m.album = a.id AND m.member = $1
          ORDER BY a.owner = $1 DESC, a.created DESC LIMIT $2`,
        [viewer, limit],
      );
      return rows.map((row) => ({ ...toAlbum(row), images: row.images, members: row.members }));
    },
    async albumKey(viewer, image) {
      const row = await db.one<
        AlbumRow & { item_key: Uint8Array; item_signature: Uint8Array } & Omit<
            AlbumMember,
            'member'
          >
      >(
        `SELECT a.id, a.owner, a.name, a.created, m.enc, m.ct, m.signature,
                ai.key AS item_key, ai.signature AS item_signature
           FROM album_items ai JOIN album_members m ON m.album = ai.album AND m.member = $1
           JOIN albums a ON a.id = ai.album
          WHERE ai.image = $2 ORDER BY a.created LIMIT 1`,
        [viewer, image],
      );
      if (row === undefined) return undefined;
      return {
        album: toAlbum(row),
        member: toMember({ member: viewer, enc: row.enc, ct: row.ct, signature: row.signature }),
        item: toItem({ image, key: row.item_key, signature: row.item_signature }),
      };
    },
  };
}
