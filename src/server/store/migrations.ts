/** Versioned schema migrations, applied in order inside one transaction each. */
import type Database from 'better-sqlite3';
import { imageNameKey } from '../../protocol/names.js';

/** SQL, or a step that needs code (computing a column SQLite cannot). */
export type Migration = string | ((db: Database.Database) => void);

/**
 * Names are unique per owner by their key (NFKC, lower case), so "Sunset" and
 * "sunset" are one name. The key is stored, filled in here for existing images.
 */
function nameKeys(db: Database.Database): void {
  db.exec('ALTER TABLE images ADD COLUMN name_key TEXT');
  const rows = db
    .prepare<[], { id: Uint8Array; name: string }>('SELECT id, name FROM images')
    .all();
  const update = db.prepare('UPDATE images SET name_key = ? WHERE id = ?');
  for (const row of rows) update.run(imageNameKey(row.name), row.id);
  db.exec('CREATE INDEX images_owner_name_key ON images(owner, name_key)');
}

/**
 * The event log learns the album kinds. SQLite cannot change a CHECK constraint, so
 * the two event tables are rebuilt and renamed (foreign keys and the position
 * sequence carried over: positions are never reused, or a client would miss events).
 */
const ALBUM_EVENTS = `
  CREATE TABLE events_v2 (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN
      ('new_image', 'deleted', 'withdrawn', 'album_shared', 'album_unshared')),
    image BLOB NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    created INTEGER NOT NULL
  ) STRICT;
  INSERT INTO events_v2 SELECT position, kind, image, name, owner, public, created FROM events;
  DELETE FROM sqlite_sequence WHERE name = 'events_v2';
  INSERT INTO sqlite_sequence (name, seq) SELECT 'events_v2', seq FROM sqlite_sequence WHERE name = 'events';
  CREATE TABLE event_recipients_v2 (
    position INTEGER NOT NULL REFERENCES events_v2(position) ON DELETE CASCADE,
    username TEXT NOT NULL,
    PRIMARY KEY (username, position)
  ) STRICT;
  INSERT INTO event_recipients_v2 SELECT position, username FROM event_recipients;
  DROP TABLE event_recipients;
  DROP TABLE events;
  ALTER TABLE events_v2 RENAME TO events;
  ALTER TABLE event_recipients_v2 RENAME TO event_recipients;
  CREATE INDEX events_created ON events(created);
`;

export const MIGRATIONS: readonly Migration[] = [
  `
  CREATE TABLE users (
    username TEXT PRIMARY KEY,
    signing_key BLOB NOT NULL,
    encryption_key BLOB NOT NULL,
    certificate BLOB NOT NULL,
    created INTEGER NOT NULL
  ) STRICT;
  CREATE TABLE images (
    id BLOB PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(username),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size INTEGER NOT NULL,
    ct_length INTEGER NOT NULL,
    sha256 BLOB NOT NULL,
    manifest BLOB NOT NULL,
    signature BLOB NOT NULL,
    audience TEXT NOT NULL CHECK (audience IN ('public', 'private')),
    created INTEGER NOT NULL,
    UNIQUE (owner, name)
  ) STRICT;
  CREATE INDEX images_name ON images(name);
  CREATE INDEX images_sha256 ON images(sha256);
  CREATE TABLE image_keys (
    image BLOB NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    enc BLOB NOT NULL,
    ct BLOB NOT NULL,
    PRIMARY KEY (image, recipient)
  ) STRICT;
  CREATE INDEX image_keys_recipient ON image_keys(recipient);
  `,
  // Listings page in (created, id) order; quotas sum per owner.
  `
  CREATE INDEX images_created_id ON images(created, id);
  CREATE INDEX images_owner ON images(owner);
  `,
  // What the data belongs to (the CA's fingerprint, the wrap key), recorded once.
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL
  ) STRICT;
  `,
  nameKeys,
  // Grants made after posting carry the owner's signature; withdrawals are kept, signed.
  `
  ALTER TABLE image_keys ADD COLUMN grant_signature BLOB;
  CREATE TABLE withdrawals (
    image BLOB NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    recipient TEXT NOT NULL,
    withdrawn INTEGER NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (image, recipient)
  ) STRICT;
  `,
  // The durable event log: a position per event; who may read the private ones.
  `
  CREATE TABLE events (
    position INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL CHECK (kind IN ('new_image', 'deleted', 'withdrawn')),
    image BLOB NOT NULL,
    name TEXT NOT NULL,
    owner TEXT NOT NULL,
    public INTEGER NOT NULL CHECK (public IN (0, 1)),
    created INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX events_created ON events(created);
  CREATE TABLE event_recipients (
    position INTEGER NOT NULL REFERENCES events(position) ON DELETE CASCADE,
    username TEXT NOT NULL,
    PRIMARY KEY (username, position)
  ) STRICT;
  `,
  // Sealed thumbnails, beside their images (listings never load them).
  `
  CREATE TABLE thumbnails (
    image BLOB PRIMARY KEY REFERENCES images(id) ON DELETE CASCADE,
    data BLOB NOT NULL
  ) STRICT;
  `,
  // Albums: members hold the album key wrapped to them; items hold image keys sealed
  // under it; the owner's signature beside each.
  `
  CREATE TABLE albums (
    id BLOB PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(username),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (owner, name_key)
  ) STRICT;
  CREATE TABLE album_members (
    album BLOB NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    member TEXT NOT NULL,
    enc BLOB NOT NULL,
    ct BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (album, member)
  ) STRICT;
  CREATE INDEX album_members_member ON album_members(member);
  CREATE TABLE album_items (
    album BLOB NOT NULL REFERENCES albums(id) ON DELETE CASCADE,
    image BLOB NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    key BLOB NOT NULL,
    signature BLOB NOT NULL,
    PRIMARY KEY (album, image)
  ) STRICT;
  CREATE INDEX album_items_image ON album_items(image);
  ${ALBUM_EVENTS}
  `,
  // Links: the content key sealed under a key the server never sees; its limits.
  `
  CREATE TABLE links (
    id BLOB PRIMARY KEY,
    owner TEXT NOT NULL REFERENCES users(username),
    image BLOB NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    key BLOB NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL,
    max_downloads INTEGER,
    downloads INTEGER NOT NULL DEFAULT 0,
    revoked INTEGER NOT NULL DEFAULT 0 CHECK (revoked IN (0, 1)),
    pass_salt BLOB,
    pass_n INTEGER,
    pass_r INTEGER,
    pass_p INTEGER
  ) STRICT;
  CREATE INDEX links_owner ON links(owner, created);
  CREATE INDEX links_image ON links(image);
  `,
  // Blobs named by upload rather than by digest (the server no longer hashes what it
  // stores): each image names its blob; older images keep theirs, their digest.
  `
  ALTER TABLE images ADD COLUMN blob TEXT NOT NULL DEFAULT '';
  UPDATE images SET blob = lower(hex(sha256));
  DROP INDEX images_sha256;
  CREATE INDEX images_blob ON images(blob);
  `,
];
