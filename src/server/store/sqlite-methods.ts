/**
 * The store's SQL, run synchronously by better-sqlite3 inside the store worker.
 * WAL mode with synchronous=FULL: a commit is on disk when it returns, which is what
 * lets the server acknowledge an upload only once it is durable.
 */
import Database from 'better-sqlite3';
import { imageNameKey } from '../../protocol/names.js';
import type { ImageEvent } from '../events/types.js';
import { MIGRATIONS } from './migrations.js';
import { albumMethods } from './sqlite-albums.js';
import { eventLog } from './sqlite-events.js';
import { linkMethods } from './sqlite-links.js';
import { VISIBLE } from './visible.js';
import { SERVER_RECIPIENT } from '../../protocol/messages.js';
import { plain, toImage, toUser, type ImageRow, type UserRow } from './rows.js';
import type {
  CreateUserResult,
  DeletedImage,
  ImageRecord,
  KeyGrant,
  PostCheck,
  StoreMethods,
  UserRecord,
  Withdrawal,
} from './types.js';

export function openSqlite(path: string): StoreMethods & { close(): void } {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  const events = eventLog(db);

  const statements = {
    getUser: db.prepare<[string], UserRow>('SELECT * FROM users WHERE username = ?'),
    insertUser: db.prepare(
      'INSERT INTO users (username, signing_key, encryption_key, certificate, created) VALUES (?, ?, ?, ?, ?)',
    ),
    getImage: db.prepare<[Uint8Array], ImageRow>('SELECT * FROM images WHERE id = ?'),
    findImage: db.prepare<[string, string], ImageRow>(
      'SELECT * FROM images WHERE owner = ? AND name_key = ?',
    ),
    deleteImage: db.prepare('DELETE FROM images WHERE id = ?'),
    getOwned: db.prepare<[Uint8Array, string], ImageRow>(
      'SELECT * FROM images WHERE id = ? AND owner = ?',
    ),
    /** Members of albums that hold the image (besides its owner). */
    albumReaders: db.prepare<[Uint8Array, string], { member: string }>(
      `SELECT DISTINCT am.member FROM album_items ai JOIN album_members am ON am.album = ai.album
        WHERE ai.image = ? AND am.member != ?`,
    ),
    recipients: db.prepare<[Uint8Array, string], { recipient: string }>(
      'SELECT recipient FROM image_keys WHERE image = ? AND recipient != ? ORDER BY recipient',
    ),
    insertImage: db.prepare(
      `INSERT INTO images (id, owner, name, name_key, content_type, size, ct_length, sha256, blob, manifest, signature, audience, created)
       VALUES (@id, @owner, @name, @nameKey, @contentType, @size, @ctLength, @sha256, @blob, @manifest, @signature, @audience, @created)`,
    ),
    insertKey: db.prepare(
      'INSERT OR REPLACE INTO image_keys (image, recipient, enc, ct, grant_signature) VALUES (?, ?, ?, ?, ?)',
    ),
    insertThumbnail: db.prepare('INSERT INTO thumbnails (image, data) VALUES (?, ?)'),
    getThumbnail: db.prepare<
      { viewer: string; id: Uint8Array },
      ImageRow & { thumbnail: Uint8Array }
    >(
      `SELECT i.*, t.data AS thumbnail FROM thumbnails t JOIN images i ON i.id = t.image
        WHERE t.image = @id AND ${VISIBLE}`,
    ),
    clearWithdrawal: db.prepare('DELETE FROM withdrawals WHERE image = ? AND recipient = ?'),
    deleteKey: db.prepare('DELETE FROM image_keys WHERE image = ? AND recipient = ?'),
    insertWithdrawal: db.prepare(
      'INSERT OR REPLACE INTO withdrawals (image, recipient, withdrawn, signature) VALUES (?, ?, ?, ?)',
    ),
    listFirst: db.prepare<{ viewer: string; limit: number }, ImageRow>(
      `SELECT * FROM images i WHERE ${VISIBLE} ORDER BY i.created, i.id LIMIT @limit`,
    ),
    listAfter: db.prepare<
      { viewer: string; limit: number; created: number; id: Uint8Array },
      ImageRow
    >(
      `SELECT * FROM images i WHERE ${VISIBLE}
         AND (i.created > @created OR (i.created = @created AND i.id > @id))
       ORDER BY i.created, i.id LIMIT @limit`,
    ),
    getVisible: db.prepare<{ viewer: string; id: Uint8Array }, ImageRow>(
      `SELECT * FROM images i WHERE i.id = @id AND ${VISIBLE}`,
    ),
    findVisible: db.prepare<{ viewer: string; owner: string; key: string }, ImageRow>(
      `SELECT * FROM images i WHERE i.owner = @owner AND i.name_key = @key AND ${VISIBLE}`,
    ),
    claim: db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING'),
    getMeta: db.prepare<[string], { value: Uint8Array }>('SELECT value FROM meta WHERE key = ?'),
    usage: db.prepare<[string], { images: number; bytes: number }>(
      'SELECT COUNT(*) AS images, COALESCE(SUM(size), 0) AS bytes FROM images WHERE owner = ?',
    ),
    getKey: db.prepare<
      [Uint8Array, string],
      { recipient: string; enc: Uint8Array; ct: Uint8Array; grant_signature: Uint8Array | null }
    >(
      'SELECT recipient, enc, ct, grant_signature FROM image_keys WHERE image = ? AND recipient = ?',
    ),
    blobInUse: db.prepare<[string], { one: number }>(
      'SELECT 1 AS one FROM images WHERE blob = ? LIMIT 1',
    ),
    allBlobs: db.prepare<[], { blob: string }>('SELECT DISTINCT blob FROM images'),
  };

  /** A key given (again) clears an earlier withdrawal of the same recipient. */
  function insertKey(imageId: Uint8Array, key: KeyGrant): void {
    statements.insertKey.run(imageId, key.recipient, key.enc, key.ct, key.grant ?? null);
    statements.clearWithdrawal.run(imageId, key.recipient);
  }

  const createUser = db.transaction((user: UserRecord): CreateUserResult => {
    const existing = statements.getUser.get(user.username);
    if (existing !== undefined) {
      const same =
        Buffer.compare(existing.signing_key, user.signingKey) === 0 &&
        Buffer.compare(existing.encryption_key, user.encryptionKey) === 0;
      return same ? 'same' : 'taken';
    }
    statements.insertUser.run(
      user.username,
      user.signingKey,
      user.encryptionKey,
      user.certificate,
      user.created,
    );
    return 'created';
  });

  const checkPost = db.transaction((owner: string, name: string, id: Uint8Array): PostCheck => {
    const existing = statements.findImage.get(owner, imageNameKey(name));
    return {
      existing: existing === undefined ? undefined : toImage(existing),
      idTaken: statements.getImage.get(id) !== undefined,
      usage: statements.usage.get(owner) ?? { images: 0, bytes: 0 },
    };
  });

  const putImage = db.transaction(
    (image: ImageRecord, keys: readonly KeyGrant[], replace: boolean) => {
      const existing = statements.findImage.get(image.owner, imageNameKey(image.name));
      let replacedBlob: string | null = null;
      if (existing !== undefined) {
        if (!replace) return 'exists' as const;
        statements.deleteImage.run(existing.id);
        replacedBlob = existing.blob;
      }
      const { thumbnail, ...row } = image;
      statements.insertImage.run({ ...row, nameKey: imageNameKey(image.name) });
      if (thumbnail !== undefined) statements.insertThumbnail.run(image.id, thumbnail);
      for (const key of keys) insertKey(image.id, key);
      const readers = keys.map((key) => key.recipient).filter((user) => user !== SERVER_RECIPIENT);
      const event = events.append(
        {
          kind: 'new_image',
          image: image.id,
          name: image.name,
          owner: image.owner,
          notify: image.audience === 'public' ? 'public' : [...new Set([image.owner, ...readers])],
        },
        Date.now(),
      );
      return { replacedBlob, event };
    },
  );

  const claim = db.transaction((key: string, value: Uint8Array): Uint8Array => {
    statements.claim.run(key, value);
    const row = statements.getMeta.get(key);
    if (row === undefined) throw new Error('meta row vanished');
    return plain(row.value);
  });

  /** An event about image `id` for `notify`, written now; null if the image is gone or no one is told. */
  function announce(
    id: Uint8Array,
    kind: ImageEvent['kind'],
    notify: readonly string[],
  ): ImageEvent | null {
    const row = statements.getImage.get(id);
    if (row === undefined || notify.length === 0) return null;
    return events.append({ kind, image: id, name: row.name, owner: row.owner, notify }, Date.now());
  }

  const addKeys = db.transaction((imageId: Uint8Array, keys: readonly KeyGrant[]) => {
    const holders = new Set(
      statements.recipients.all(imageId, SERVER_RECIPIENT).map((r) => r.recipient),
    );
    for (const key of keys) insertKey(imageId, key);
    const added = keys
      .map((key) => key.recipient)
      .filter((user) => user !== SERVER_RECIPIENT && !holders.has(user));
    return announce(imageId, 'new_image', [...new Set(added)]);
  });

  const withdraw = db.transaction((imageId: Uint8Array, withdrawal: Withdrawal) => {
    const held = statements.deleteKey.run(imageId, withdrawal.recipient).changes > 0;
    statements.insertWithdrawal.run(
      imageId,
      withdrawal.recipient,
      withdrawal.withdrawn,
      withdrawal.signature,
    );
    return { held, event: held ? announce(imageId, 'withdrawn', [withdrawal.recipient]) : null };
  });

  const deleteImage = db.transaction((owner: string, id: Uint8Array): DeletedImage | undefined => {
    const row = statements.getOwned.get(id, owner);
    if (row === undefined) return undefined;
    const recipients = statements.recipients
      .all(id, SERVER_RECIPIENT)
      .map((grant) => grant.recipient);
    const image = toImage(row);
    const members = statements.albumReaders.all(id, owner).map((reader) => reader.member);
    const event = events.append(
      {
        kind: 'deleted',
        image: id,
        name: image.name,
        owner: image.owner,
        notify:
          image.audience === 'public' ? 'public' : [...new Set([owner, ...recipients, ...members])],
      },
      Date.now(),
    );
    // The key grants go with it (ON DELETE CASCADE).
    statements.deleteImage.run(id);
    return { image, recipients, event };
  });

  return {
    ...albumMethods(db, events),
    ...linkMethods(db),
    getUser(username) {
      const row = statements.getUser.get(username);
      return row === undefined ? undefined : toUser(row);
    },
    createUser: (user) => createUser(user),
    putImage: (image, keys, replace) => putImage(image, keys, replace),
    getImage(id) {
      const row = statements.getImage.get(id);
      return row === undefined ? undefined : toImage(row);
    },
    findImage(owner, name) {
      const row = statements.findImage.get(owner, imageNameKey(name));
      return row === undefined ? undefined : toImage(row);
    },
    checkPost: (owner, name, id) => checkPost(owner, name, id),
    getVisible(viewer, id) {
      const row = statements.getVisible.get({ viewer, id });
      return row === undefined ? undefined : toImage(row);
    },
    findVisible(viewer, owner, name) {
      const row = statements.findVisible.get({ viewer, owner, key: imageNameKey(name) });
      return row === undefined ? undefined : toImage(row);
    },
    listVisible: (viewer, after, limit) =>
      (after === null
        ? statements.listFirst.all({ viewer, limit })
        : statements.listAfter.all({ viewer, limit, created: after.created, id: after.id })
      ).map(toImage),
    usage: (owner) => statements.usage.get(owner) ?? { images: 0, bytes: 0 },
    claim: (key, value) => claim(key, value),
    getKey(imageId, recipient) {
      const row = statements.getKey.get(imageId, recipient);
      if (row === undefined) return undefined;
      const key = { recipient: row.recipient, enc: plain(row.enc), ct: plain(row.ct) };
      return row.grant_signature === null ? key : { ...key, grant: plain(row.grant_signature) };
    },
    addKeys: (imageId, keys) => addKeys(imageId, keys),
    deleteImage: (owner, id) => deleteImage(owner, id),
    recipients: (imageId) =>
      statements.recipients.all(imageId, SERVER_RECIPIENT).map((row) => row.recipient),
    withdraw: (imageId, withdrawal) => withdraw(imageId, withdrawal),
    eventsSince: (viewer, after, limit) => events.since(viewer, after, limit),
    thumbnails: (viewer, ids) =>
      ids.flatMap((id) => {
        const row = statements.getThumbnail.get({ viewer, id });
        return row === undefined ? [] : [{ image: toImage(row), data: plain(row.thumbnail) }];
      }),
    eventHead: () => events.head(),
    pruneEvents: (before) => events.prune(before),
    blobInUse: (key) => statements.blobInUse.get(key) !== undefined,
    allBlobs: () => statements.allBlobs.all().map((row) => row.blob),
    close: () => {
      db.close();
    },
  };
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > MIGRATIONS.length) {
    throw new Error(
      `database schema version ${current} is newer than this sisp (${MIGRATIONS.length})`,
    );
  }
  MIGRATIONS.slice(current).forEach((migration, index) => {
    db.transaction(() => {
      if (typeof migration === 'string') db.exec(migration);
      else migration(db);
      db.pragma(`user_version = ${current + index + 1}`);
    })();
  });
}
