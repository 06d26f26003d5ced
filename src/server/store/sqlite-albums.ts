/**
 * Albums in SQLite. Each change is one transaction that writes its events to the
 * log too: members who gain sight of an image through the album are told
 * new_image, those who lose it withdrawn, new members album_shared and removed ones
 * album_unshared.
 */
import type Database from 'better-sqlite3';
import { imageNameKey } from '../../protocol/names.js';
import type { ImageEvent } from '../events/types.js';
import type { EventLog } from './sqlite-events.js';
import { toAlbum, toItem, toMember, type AlbumRow } from './rows.js';
import { visibleTo } from './visible.js';
import type {
  AlbumChange,
  AlbumItem,
  AlbumMember,
  AlbumRecord,
  StoreMethods,
  AlbumMethodName,
} from './types.js';

function prepare(db: Database.Database) {
  return {
    insertAlbum: db.prepare(
      'INSERT INTO albums (id, owner, name, name_key, created) VALUES (?, ?, ?, ?, ?)',
    ),
    ownedCount: db.prepare<[string], { n: number }>(
      'SELECT COUNT(*) AS n FROM albums WHERE owner = ?',
    ),
    findOwned: db.prepare<[string, string], AlbumRow>(
      'SELECT id, owner, name, created FROM albums WHERE owner = ? AND name_key = ?',
    ),
    findAlbum: db.prepare<[string, string, string], AlbumRow>(
      `SELECT a.id, a.owner, a.name, a.created FROM albums a
        JOIN album_members m ON m.album = a.id AND m.member = ?
       WHERE a.owner = ? AND a.name_key = ?`,
    ),
    getAlbum: db.prepare<[Uint8Array], AlbumRow>(
      'SELECT id, owner, name, created FROM albums WHERE id = ?',
    ),
    insertMember: db.prepare(
      'INSERT OR REPLACE INTO album_members (album, member, enc, ct, signature) VALUES (?, ?, ?, ?, ?)',
    ),
    members: db.prepare<[Uint8Array], AlbumMember>(
      'SELECT member, enc, ct, signature FROM album_members WHERE album = ? ORDER BY member',
    ),
    isMember: db.prepare<[Uint8Array, string], { one: number }>(
      'SELECT 1 AS one FROM album_members WHERE album = ? AND member = ?',
    ),
    deleteMember: db.prepare('DELETE FROM album_members WHERE album = ? AND member = ?'),
    itemsFirst: db.prepare<[Uint8Array, number], AlbumItem>(
      'SELECT image, key, signature FROM album_items WHERE album = ? ORDER BY image LIMIT ?',
    ),
    itemsAfter: db.prepare<[Uint8Array, Uint8Array, number], AlbumItem>(
      'SELECT image, key, signature FROM album_items WHERE album = ? AND image > ? ORDER BY image LIMIT ?',
    ),
    itemCount: db.prepare<[Uint8Array], { n: number }>(
      'SELECT COUNT(*) AS n FROM album_items WHERE album = ?',
    ),
    hasItem: db.prepare<[Uint8Array, Uint8Array], { one: number }>(
      'SELECT 1 AS one FROM album_items WHERE album = ? AND image = ?',
    ),
    insertItem: db.prepare(
      'INSERT OR REPLACE INTO album_items (album, image, key, signature) VALUES (?, ?, ?, ?)',
    ),
    deleteItem: db.prepare('DELETE FROM album_items WHERE album = ? AND image = ?'),
    list: db.prepare<
      { viewer: string; limit: number },
      AlbumRow & { images: number; members: number }
    >(
      `SELECT a.id, a.owner, a.name, a.created,
              (SELECT COUNT(*) FROM album_items ai WHERE ai.album = a.id) AS images,
              (SELECT COUNT(*) FROM album_members am WHERE am.album = a.id) AS members
         FROM albums a JOIN album_members m ON m.album = a.id AND m.member = @viewer
        ORDER BY a.owner = @viewer DESC, a.created DESC LIMIT @limit`,
    ),
    /** Members of the album who cannot see the image (by any way) now. */
    blind: db.prepare<{ album: Uint8Array; image: Uint8Array }, { member: string }>(
      `SELECT am.member FROM album_members am JOIN images i ON i.id = @image
        WHERE am.album = @album AND NOT ${visibleTo('am.member')} ORDER BY am.member`,
    ),
    image: db.prepare<[Uint8Array], { name: string; owner: string }>(
      'SELECT name, owner FROM images WHERE id = ?',
    ),
    albumKey: db.prepare<
      { viewer: string; image: Uint8Array },
      AlbumRow & { item_key: Uint8Array; item_signature: Uint8Array } & Omit<AlbumMember, 'member'>
    >(
      `SELECT a.id, a.owner, a.name, a.created, m.enc, m.ct, m.signature,
              ai.key AS item_key, ai.signature AS item_signature
         FROM album_items ai JOIN album_members m ON m.album = ai.album AND m.member = @viewer
         JOIN albums a ON a.id = ai.album
        WHERE ai.image = @image ORDER BY a.created LIMIT 1`,
    ),
  };
}

export function albumMethods(
  db: Database.Database,
  events: EventLog,
): Pick<StoreMethods, AlbumMethodName> {
  const statements = prepare(db);

  /** Tells `notify` of an image; nothing when no one is to be told. */
  function imageEvent(
    kind: 'new_image' | 'withdrawn',
    image: Uint8Array,
    notify: string[],
  ): ImageEvent[] {
    const row = statements.image.get(image);
    if (row === undefined || notify.length === 0) return [];
    return [events.append({ kind, image, name: row.name, owner: row.owner, notify }, Date.now())];
  }

  function albumEvent(
    kind: 'album_shared' | 'album_unshared',
    id: Uint8Array,
    notify: string[],
  ): ImageEvent[] {
    const album = statements.getAlbum.get(id);
    if (album === undefined || notify.length === 0) return [];
    const event = { kind, image: id, name: album.name, owner: album.owner, notify };
    return [events.append(event, Date.now())];
  }

  const blind = (album: Uint8Array, image: Uint8Array): string[] =>
    statements.blind.all({ album, image }).map((row) => row.member);

  const createAlbum = db.transaction(
    (album: AlbumRecord, owner: AlbumMember, maxAlbums: number) => {
      if (statements.findOwned.get(album.owner, imageNameKey(album.name)) !== undefined)
        return 'exists' as const;
      if ((statements.ownedCount.get(album.owner)?.n ?? 0) >= maxAlbums) return 'full' as const;
      statements.insertAlbum.run(
        album.id,
        album.owner,
        album.name,
        imageNameKey(album.name),
        album.created,
      );
      statements.insertMember.run(album.id, owner.member, owner.enc, owner.ct, owner.signature);
      return 'created' as const;
    },
  );

  const addToAlbum = db.transaction(
    (id: Uint8Array, items: readonly AlbumItem[], maxImages: number): AlbumChange | 'full' => {
      const fresh = items.filter((item) => statements.hasItem.get(id, item.image) === undefined);
      if ((statements.itemCount.get(id)?.n ?? 0) + fresh.length > maxImages) return 'full';
      const told = items.map((item) => blind(id, item.image));
      for (const item of items) statements.insertItem.run(id, item.image, item.key, item.signature);
      const written = items.flatMap((item, index) =>
        imageEvent('new_image', item.image, told[index] ?? []),
      );
      return { changed: fresh.length, events: written };
    },
  );

  const removeFromAlbum = db.transaction(
    (id: Uint8Array, images: readonly Uint8Array[]): AlbumChange => {
      let changed = 0;
      const written: ImageEvent[] = [];
      for (const image of images) {
        const before = new Set(blind(id, image));
        if (statements.deleteItem.run(id, image).changes === 0) continue;
        changed += 1;
        const lost = blind(id, image).filter((member) => !before.has(member));
        written.push(...imageEvent('withdrawn', image, lost));
      }
      return { changed, events: written };
    },
  );

  const shareAlbum = db.transaction(
    (id: Uint8Array, members: readonly AlbumMember[], maxMembers: number): AlbumChange | 'full' => {
      const fresh = members.filter((m) => statements.isMember.get(id, m.member) === undefined);
      if (statements.members.all(id).length + fresh.length > maxMembers) return 'full';
      for (const m of members) statements.insertMember.run(id, m.member, m.enc, m.ct, m.signature);
      const names = fresh.map((m) => m.member);
      return { changed: fresh.length, events: albumEvent('album_shared', id, names) };
    },
  );

  const unshareAlbum = db.transaction((id: Uint8Array, member: string): AlbumChange => {
    const album = statements.getAlbum.get(id);
    if (album === undefined || album.owner === member) return { changed: 0, events: [] };
    if (statements.deleteMember.run(id, member).changes === 0) return { changed: 0, events: [] };
    return { changed: 1, events: albumEvent('album_unshared', id, [member]) };
  });

  return {
    createAlbum: (album, owner, maxAlbums) => createAlbum(album, owner, maxAlbums),
    findAlbum(viewer, owner, name) {
      const row = statements.findAlbum.get(viewer, owner, imageNameKey(name));
      return row === undefined ? undefined : toAlbum(row);
    },
    getAlbum(id) {
      const row = statements.getAlbum.get(id);
      return row === undefined ? undefined : toAlbum(row);
    },
    albumMembers: (id) => statements.members.all(id).map(toMember),
    albumItems: (id, after, limit) =>
      (after === null
        ? statements.itemsFirst.all(id, limit)
        : statements.itemsAfter.all(id, after, limit)
      ).map(toItem),
    listAlbums: (viewer, limit) =>
      statements.list
        .all({ viewer, limit })
        .map((row) => ({ ...toAlbum(row), images: row.images, members: row.members })),
    addToAlbum: (id, items, maxImages) => addToAlbum(id, items, maxImages),
    removeFromAlbum: (id, images) => removeFromAlbum(id, images),
    shareAlbum: (id, members, maxMembers) => shareAlbum(id, members, maxMembers),
    unshareAlbum: (id, member) => unshareAlbum(id, member),
    albumKey(viewer, image) {
      const row = statements.albumKey.get({ viewer, image });
      if (row === undefined) return undefined;
      return {
        album: toAlbum(row),
        member: toMember({ member: viewer, enc: row.enc, ct: row.ct, signature: row.signature }),
        item: toItem({ image, key: row.item_key, signature: row.item_signature }),
      };
    },
  };
}
