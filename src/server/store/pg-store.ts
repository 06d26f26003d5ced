/**
 * The Store port on PostgreSQL, for several nodes sharing one database: the same
 * methods and the same answers as the SQLite store (one conformance suite runs on
 * both), with pooled connections, SERIALIZABLE transactions where SQLite has
 * transactions, and the schema migrated at start under an advisory lock.
 */
import pg from 'pg';
import { imageNameKey } from '../../protocol/names.js';
import { SERVER_RECIPIENT } from '../../protocol/messages.js';
import type { ImageEvent } from '../events/types.js';
import { appendEvent, runner, transaction, type Db } from './pg-base.js';
import { pgAlbumMethods } from './pg-albums.js';
import { pgLinkMethods } from './pg-links.js';
import { migratePg } from './pg-schema.js';
import { plain, toImage, toUser, type ImageRow, type UserRow } from './rows.js';
import type { Async, KeyGrant, Store, StoreMethods } from './types.js';
import { VISIBLE_PG } from './visible.js';

const equal = (a: Uint8Array, b: Uint8Array): boolean => Buffer.compare(a, b) === 0;

async function insertKey(db: Db, image: Uint8Array, key: KeyGrant): Promise<void> {
  await db.run(
    `INSERT INTO image_keys (image, recipient, enc, ct, grant_signature) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (image, recipient) DO UPDATE SET enc = $3, ct = $4, grant_signature = $5`,
    [image, key.recipient, key.enc, key.ct, key.grant ?? null],
  );
  // A key given (again) clears an earlier withdrawal of the same recipient.
  await db.run('DELETE FROM withdrawals WHERE image = $1 AND recipient = $2', [
    image,
    key.recipient,
  ]);
}

async function recipients(db: Db, image: Uint8Array): Promise<string[]> {
  const rows = await db.rows<{ recipient: string }>(
    'SELECT recipient FROM image_keys WHERE image = $1 AND recipient <> $2 ORDER BY recipient',
    [image, SERVER_RECIPIENT],
  );
  return rows.map((row) => row.recipient);
}

/** An event about image `id` for `notify`, written now; null if the image is gone or no one is told. */
async function announce(
  db: Db,
  id: Uint8Array,
  kind: ImageEvent['kind'],
  notify: readonly string[],
): Promise<ImageEvent | null> {
  const row = await db.one<ImageRow>('SELECT * FROM images WHERE id = $1', [id]);
  if (row === undefined || notify.length === 0) return null;
  return appendEvent(db, { kind, image: id, name: row.name, owner: row.owner, notify }, Date.now());
}

function imageMethods(
  pool: pg.Pool,
): Async<
  Omit<
    StoreMethods,
    keyof ReturnType<typeof pgAlbumMethods> | keyof ReturnType<typeof pgLinkMethods>
  >
> {
  const db = runner(pool);
  const image = async (sql: string, params: unknown[]) => {
    const row = await db.one<ImageRow>(sql, params);
    return row === undefined ? undefined : toImage(row);
  };
  const findImage = (owner: string, name: string) =>
    image('SELECT * FROM images WHERE owner = $1 AND name_key = $2', [owner, imageNameKey(name)]);
  const ownerUsage = async (owner: string) => {
    const row = await db.one<{ images: number; bytes: number }>(
      'SELECT COUNT(*)::bigint AS images, COALESCE(SUM(size), 0)::bigint AS bytes FROM images WHERE owner = $1',
      [owner],
    );
    return row ?? { images: 0, bytes: 0 };
  };
  return {
    async getUser(username) {
      const row = await db.one<UserRow>('SELECT * FROM users WHERE username = $1', [username]);
      return row === undefined ? undefined : toUser(row);
    },
    createUser: (user) =>
      transaction(pool, async (tx) => {
        const existing = await tx.one<UserRow>('SELECT * FROM users WHERE username = $1', [
          user.username,
        ]);
        if (existing !== undefined)
          return equal(existing.signing_key, user.signingKey) &&
            equal(existing.encryption_key, user.encryptionKey)
            ? 'same'
            : 'taken';
        await tx.run(
          'INSERT INTO users (username, signing_key, encryption_key, certificate, created) VALUES ($1, $2, $3, $4, $5)',
          [user.username, user.signingKey, user.encryptionKey, user.certificate, user.created],
        );
        return 'created';
      }),
    putImage: (record, keys, replace) =>
      transaction(pool, async (tx) => {
        const existing = await tx.one<ImageRow>(
          'SELECT * FROM images WHERE owner = $1 AND name_key = $2',
          [record.owner, imageNameKey(record.name)],
        );
        let replacedBlob: string | null = null;
        if (existing !== undefined) {
          if (!replace) return 'exists' as const;
          await tx.run('DELETE FROM images WHERE id = $1', [existing.id]);
          replacedBlob = existing.blob;
        }
        await tx.run(
          `INSERT INTO images (id, owner, name, name_key, content_type, size, ct_length, sha256, blob, manifest, signature, audience, created)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
          [
            record.id,
            record.owner,
            record.name,
            imageNameKey(record.name),
            record.contentType,
            record.size,
            record.ctLength,
            record.sha256,
            record.blob,
            record.manifest,
            record.signature,
            record.audience,
            record.created,
          ],
        );
        if (record.thumbnail !== undefined)
          await tx.run('INSERT INTO thumbnails (image, data) VALUES ($1, $2)', [
            record.id,
            record.thumbnail,
          ]);
        for (const key of keys) await insertKey(tx, record.id, key);
        const readers = keys
          .map((key) => key.recipient)
          .filter((user) => user !== SERVER_RECIPIENT);
        const event = await appendEvent(
          tx,
          {
            kind: 'new_image',
            image: record.id,
            name: record.name,
            owner: record.owner,
            notify:
              record.audience === 'public' ? 'public' : [...new Set([record.owner, ...readers])],
          },
          Date.now(),
        );
        return { replacedBlob, event };
      }),
    getImage: (id) => image('SELECT * FROM images WHERE id = $1', [id]),
    // The three reads at once on the pool: they are checks a racing post can make stale
    // anyway (putImage decides), so no transaction's extra round trips.
    async checkPost(owner, name, id) {
      const [existing, taken, usage] = await Promise.all([
        findImage(owner, name),
        image('SELECT * FROM images WHERE id = $1', [id]),
        ownerUsage(owner),
      ]);
      return { existing, idTaken: taken !== undefined, usage };
    },
    findImage,
    getVisible: (viewer, id) =>
      image(`SELECT * FROM images i WHERE i.id = $2 AND ${VISIBLE_PG}`, [viewer, id]),
    findVisible: (viewer, owner, name) =>
      image(`SELECT * FROM images i WHERE i.owner = $2 AND i.name_key = $3 AND ${VISIBLE_PG}`, [
        viewer,
        owner,
        imageNameKey(name),
      ]),
    async listVisible(viewer, after, limit) {
      const rows =
        after === null
          ? await db.rows<ImageRow>(
              `SELECT * FROM images i WHERE ${VISIBLE_PG} ORDER BY i.created, i.id LIMIT $2`,
              [viewer, limit],
            )
          : await db.rows<ImageRow>(
              `SELECT * FROM images i WHERE ${VISIBLE_PG}
                 AND (i.created > $3 OR (i.created = $3 AND i.id > $4))
               ORDER BY i.created, i.id LIMIT $2`,
              [viewer, limit, after.created, after.id],
            );
      return rows.map(toImage);
    },
    usage: ownerUsage,
    async claim(key, value) {
      await db.run('INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [
        key,
        value,
      ]);
      const row = await db.one<{ value: Uint8Array }>('SELECT value FROM meta WHERE key = $1', [
        key,
      ]);
      if (row === undefined) throw new Error('meta row vanished');
      return plain(row.value);
    },
    async getKey(imageId, recipient) {
      const row = await db.one<{
        recipient: string;
        enc: Uint8Array;
        ct: Uint8Array;
        grant_signature: Uint8Array | null;
      }>(
        'SELECT recipient, enc, ct, grant_signature FROM image_keys WHERE image = $1 AND recipient = $2',
        [imageId, recipient],
      );
      if (row === undefined) return undefined;
      const key = { recipient: row.recipient, enc: plain(row.enc), ct: plain(row.ct) };
      return row.grant_signature === null ? key : { ...key, grant: plain(row.grant_signature) };
    },
    addKeys: (imageId, keys) =>
      transaction(pool, async (tx) => {
        const holders = new Set(await recipients(tx, imageId));
        for (const key of keys) await insertKey(tx, imageId, key);
        const added = keys
          .map((key) => key.recipient)
          .filter((user) => user !== SERVER_RECIPIENT && !holders.has(user));
        return announce(tx, imageId, 'new_image', [...new Set(added)]);
      }),
    deleteImage: (owner, id) =>
      transaction(pool, async (tx) => {
        const row = await tx.one<ImageRow>('SELECT * FROM images WHERE id = $1 AND owner = $2', [
          id,
          owner,
        ]);
        if (row === undefined) return undefined;
        const holders = await recipients(tx, id);
        const record = toImage(row);
        const members = (
          await tx.rows<{ member: string }>(
            `SELECT DISTINCT am.member FROM album_items ai JOIN album_members am ON am.album = ai.album
              WHERE ai.image = $1 AND am.member <> $2`,
            [id, owner],
          )
        ).map((reader) => reader.member);
        const event = await appendEvent(
          tx,
          {
            kind: 'deleted',
            image: id,
            name: record.name,
            owner: record.owner,
            notify:
              record.audience === 'public'
                ? 'public'
                : [...new Set([owner, ...holders, ...members])],
          },
          Date.now(),
        );
        await tx.run('DELETE FROM images WHERE id = $1', [id]);
        return { image: record, recipients: holders, event };
      }),
    recipients: (imageId) => recipients(db, imageId),
    withdraw: (imageId, withdrawal) =>
      transaction(pool, async (tx) => {
        const held =
          (await tx.run('DELETE FROM image_keys WHERE image = $1 AND recipient = $2', [
            imageId,
            withdrawal.recipient,
          ])) > 0;
        await tx.run(
          `INSERT INTO withdrawals (image, recipient, withdrawn, signature) VALUES ($1, $2, $3, $4)
           ON CONFLICT (image, recipient) DO UPDATE SET withdrawn = $3, signature = $4`,
          [imageId, withdrawal.recipient, withdrawal.withdrawn, withdrawal.signature],
        );
        return {
          held,
          event: held ? await announce(tx, imageId, 'withdrawn', [withdrawal.recipient]) : null,
        };
      }),
    async eventsSince(viewer, after, limit) {
      const rows = await db.rows<{
        position: number;
        kind: ImageEvent['kind'];
        image: Uint8Array;
        name: string;
        owner: string;
        public: boolean;
      }>(
        `SELECT position, kind, image, name, owner, public FROM events e
          WHERE e.position > $2 AND (e.public OR EXISTS (
            SELECT 1 FROM event_recipients r WHERE r.username = $1 AND r.position = e.position))
          ORDER BY e.position LIMIT $3`,
        [viewer, after, limit],
      );
      return rows.map((row) => ({
        kind: row.kind,
        image: plain(row.image),
        name: row.name,
        owner: row.owner,
        notify: row.public ? 'public' : [viewer],
        position: row.position,
      }));
    },
    async thumbnails(viewer, ids) {
      // One round trip for the page, then back into the order asked for.
      const rows = await db.rows<ImageRow & { thumbnail: Uint8Array }>(
        `SELECT i.*, t.data AS thumbnail FROM thumbnails t JOIN images i ON i.id = t.image
          WHERE t.image = ANY($2::bytea[]) AND ${VISIBLE_PG}`,
        [viewer, ids],
      );
      const byId = new Map(rows.map((row) => [Buffer.from(row.id).toString('hex'), row]));
      return ids.flatMap((id) => {
        const row = byId.get(Buffer.from(id).toString('hex'));
        return row === undefined ? [] : [{ image: toImage(row), data: plain(row.thumbnail) }];
      });
    },
    async eventHead() {
      const row = await db.one<{ head: number | null }>('SELECT MAX(position) AS head FROM events');
      return row?.head ?? 0;
    },
    pruneEvents: (before) => db.run('DELETE FROM events WHERE created < $1', [before]),
    async blobInUse(key) {
      return (
        (await db.one('SELECT 1 AS one FROM images WHERE blob = $1 LIMIT 1', [key])) !== undefined
      );
    },
    async allBlobs() {
      const rows = await db.rows<{ blob: string }>('SELECT DISTINCT blob FROM images');
      return rows.map((row) => row.blob);
    },
  };
}

export interface PgStoreOptions {
  readonly connectionString: string;
  /** Pooled connections (default 10). */
  readonly max?: number;
}

export async function openPgStore(options: PgStoreOptions): Promise<Store> {
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 10 });
  // An idle connection that drops is replaced on next use; a query in flight fails on its own.
  pool.on('error', () => undefined);
  const client = await pool.connect();
  try {
    await migratePg(client);
  } catch (error) {
    client.release();
    await pool.end();
    throw error;
  }
  client.release();
  return {
    ...imageMethods(pool),
    ...pgAlbumMethods(pool),
    ...pgLinkMethods(pool),
    close: () => pool.end(),
  };
}
