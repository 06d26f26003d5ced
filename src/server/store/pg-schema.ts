/**
 * The PostgreSQL schema: the SQLite schema's final state (migrations.ts), in
 * PostgreSQL's types. Text that is sorted or compared is COLLATE "C", so names order
 * byte by byte as in SQLite, whatever the server's locale. Versions are applied at
 * start under an advisory lock, so nodes starting together do not race.
 */
import type pg from 'pg';

/** Held while migrating; any constant unique to sisp. */
const MIGRATION_LOCK = 0x5159_5001;

export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE users (
    username TEXT COLLATE "C" PRIMARY KEY,
    signing_key BYTEA NOT NULL,
    encryption_key BYTEA NOT NULL,
    certificate BYTEA NOT NULL,
    created BIGINT NOT NULL
  );
  CREATE TABLE images (
    id BYTEA PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL REFERENCES users(username),
    name TEXT COLLATE "C" NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL,
    content_type TEXT NOT NULL,
    size BIGINT NOT NULL,
    ct_length BIGINT NOT NULL,
    sha256 BYTEA NOT NULL,
    manifest BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('public', 'private')),
    created BIGINT NOT NULL,
    UNIQUE (owner, name)
  );
  -- Names are one name per owner by their key (NFKC, lower case), as SQLite checks in code.
  CREATE UNIQUE INDEX images_owner_namekey ON images(owner, name_key);
  CREATE INDEX images_sha256 ON images(sha256);
  CREATE INDEX images_created_id ON images(created, id);
  CREATE TABLE image_keys (
    image BYTEA NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    recipient TEXT COLLATE "C" NOT NULL,
    enc BYTEA NOT NULL,
    ct BYTEA NOT NULL,
    grant_signature BYTEA,
    PRIMARY KEY (image, recipient)
  );
  CREATE INDEX image_keys_recipient ON image_keys(recipient);
  CREATE TABLE meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
  CREATE TABLE withdrawals (
    image BYTEA NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    recipient TEXT COLLATE "C" NOT NULL,
    withdrawn BIGINT NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (image, recipient)
  );
  CREATE TABLE events (
    position BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN
      ('new_image', 'deleted', 'withdrawn', 'album_shared', 'album_unshared')),
    image BYTEA NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    public BOOLEAN NOT NULL,
    created BIGINT NOT NULL
  );
  CREATE INDEX events_created ON events(created);
  CREATE TABLE event_recipients (
    position BIGINT NOT NULL REFERENCES events(position) ON DELETE CASCADE,
    username TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (username, position)
  );
  CREATE INDEX event_recipients_position ON event_recipients(position);
  CREATE TABLE thumbnails (
    image BYTEA PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    data BYTEA NOT NULL
  );
  CREATE TABLE albums (
    id BYTEA PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL REFERENCES users(username),
    name TEXT COLLATE "C" NOT NULL,
    name_key TEXT COLLATE "C" NOT NULL,
    created BIGINT NOT NULL,
    UNIQUE (owner, name_key)
  );
  CREATE TABLE album_members (
    album BYTEA NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    member TEXT COLLATE "C" NOT NULL,
    enc BYTEA NOT NULL,
    ct BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (album, member)
  );
  CREATE INDEX album_members_member ON album_members(member);
  CREATE TABLE album_items (
    album BYTEA NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    image BYTEA NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    key BYTEA NOT NULL,
    signature BYTEA NOT NULL,
    PRIMARY KEY (album, image)
  );
  CREATE INDEX album_items_image ON album_items(image);
  CREATE TABLE links (
    id BYTEA PRIMARY KEY,
    owner TEXT COLLATE "C" NOT NULL REFERENCES users(username),
    image BYTEA NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    key BYTEA NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL,
    max_downloads BIGINT,
    downloads BIGINT NOT NULL DEFAULT 0,
    revoked BOOLEAN NOT NULL DEFAULT FALSE,
    pass_salt BYTEA,
    pass_n INTEGER,
    pass_r INTEGER,
    pass_p INTEGER
  );
  CREATE INDEX links_owner ON links(owner, created);
  CREATE INDEX links_image ON links(image);
  `,
  // Blobs named by upload rather than by digest: each image names its blob; older
  // images keep theirs, their digest.
  `
  ALTER TABLE images ADD COLUMN blob TEXT COLLATE "C";
  UPDATE images SET blob = encode(sha256, 'hex');
  ALTER TABLE images ALTER COLUMN blob SET NOT NULL;
  DROP INDEX images_sha256;
  CREATE INDEX images_blob ON images(blob);
  `,
];

/** Brings the schema to this version, one transaction per step, under the migration lock. */
export async function migratePg(client: pg.PoolClient): Promise<void> {
  await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
  try {
    await client.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
    const row = await client.query<{ version: number }>('SELECT version FROM schema_version');
    const current = row.rows[0]?.version ?? 0;
    if (current > PG_MIGRATIONS.length)
      throw new Error(
        `database schema version ${current} is newer than this sisp (${PG_MIGRATIONS.length})`,
      );
    for (const [index, sql] of PG_MIGRATIONS.entries()) {
      if (index < current) continue;
      await client.query('BEGIN');
      try {
        await client.query(sql);
        await client.query('DELETE FROM schema_version');
        await client.query('INSERT INTO schema_version (version) VALUES ($1)', [index + 1]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw error;
      }
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}
