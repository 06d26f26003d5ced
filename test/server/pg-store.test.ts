/**
 * The PostgreSQL Store on a real PostgreSQL (test/support/postgres.ts): the same
 * Store conformance suite as SQLite (albums and links included), each fixture in a
 * schema of its own; then what several nodes need: two stores on one database agree,
 * and migrations run once when nodes start together.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { PG_MIGRATIONS } from '../../src/server/store/pg-schema.js';
import { openPgStore } from '../../src/server/store/pg-store.js';
import { image, storeConformance, user } from '../conformance/store.js';
import { freshSchema, testPostgres } from '../support/postgres.js';

let base = '';

before(async () => {
  base = await testPostgres();
});

storeConformance('PostgreSQL', async () => {
  const { url, drop } = await freshSchema(base);
  let store = await openPgStore({ connectionString: url });
  return {
    store,
    async reopen() {
      await store.close();
      store = await openPgStore({ connectionString: url });
      return store;
    },
    async dispose() {
      await store.close();
      await drop();
    },
  };
});

describe('PostgreSQL store: migrations', () => {
  it('images stored before blobs were named by upload keep their blob: its digest, in hex', async () => {
    const { url, drop } = await freshSchema(base);
    const old = new pg.Client({ connectionString: url });
    await old.connect();
    const { blob: _unused, ...record } = image(9, 'alice', 'Sunset', 'public');
    try {
      const before = PG_MIGRATIONS.length - 1;
      for (const sql of PG_MIGRATIONS.slice(0, before)) await old.query(sql);
      await old.query('CREATE TABLE schema_version (version INTEGER NOT NULL)');
      await old.query('INSERT INTO schema_version (version) VALUES ($1)', [before]);
      await old.query('INSERT INTO users VALUES ($1, $2, $3, $4, $5)', [
        'alice',
        new Uint8Array(32),
        new Uint8Array(32),
        new Uint8Array(8),
        1,
      ]);
      await old.query(
        `INSERT INTO images (id, owner, name, name_key, content_type, size, ct_length, sha256, manifest, signature, audience, created)
         VALUES ($1, $2, $3, 'sunset', $4, $5, $6, $7, $8, $9, $10, $11)`,
        [
          record.id,
          record.owner,
          record.name,
          record.contentType,
          record.size,
          record.ctLength,
          record.sha256,
          record.manifest,
          record.signature,
          record.audience,
          record.created,
        ],
      );
    } finally {
      await old.end();
    }
    const store = await openPgStore({ connectionString: url });
    try {
      const digestKey = Buffer.from(record.sha256).toString('hex');
      assert.equal((await store.getImage(record.id))?.blob, digestKey);
      assert.deepEqual(await store.allBlobs(), [digestKey]);
    } finally {
      await store.close();
      await drop();
    }
  });
});

describe('PostgreSQL store: several nodes on one database', () => {
  it('nodes starting together migrate once; what one writes the other reads', async () => {
    const { url, drop } = await freshSchema(base);
    const [a, b, c] = await Promise.all([
      openPgStore({ connectionString: url }),
      openPgStore({ connectionString: url }),
      openPgStore({ connectionString: url }),
    ]);
    try {
      assert.equal(await a.createUser(user('alice', 1)), 'created');
      assert.equal(await b.createUser(user('alice', 1)), 'same');
      assert.equal(await c.createUser(user('alice', 2)), 'taken');
      const posted = await a.putImage(image(3, 'alice', 'sunset', 'public'), [], false);
      assert.notEqual(posted, 'exists');
      assert.equal((await b.findImage('alice', 'Sunset'))?.name, 'sunset');
      assert.equal(await c.eventHead(), await a.eventHead());
    } finally {
      await Promise.all([a.close(), b.close(), c.close()]);
      await drop();
    }
  });

  it('concurrent posts of one name from two nodes: exactly one wins', async () => {
    const { url, drop } = await freshSchema(base);
    const [a, b] = await Promise.all([
      openPgStore({ connectionString: url }),
      openPgStore({ connectionString: url }),
    ]);
    try {
      await a.createUser(user('alice', 1));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          (index % 2 === 0 ? a : b).putImage(
            image(10 + index, 'alice', 'same', 'public'),
            [],
            false,
          ),
        ),
      );
      assert.equal(results.filter((result) => result !== 'exists').length, 1);
    } finally {
      await Promise.all([a.close(), b.close()]);
      await drop();
    }
  });
});
