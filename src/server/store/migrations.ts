/** Versioned schema migrations, applied in order inside one transaction each. */
export const MIGRATIONS: readonly string[] = [
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
];
