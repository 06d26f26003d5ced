import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSispError, sispError } from '../../src/protocol/errors.js';
import Database from 'better-sqlite3';
import { MIGRATIONS } from '../../src/server/store/migrations.js';
import { openSqliteStore } from '../../src/server/store/sqlite-store.js';
import { STORE_METHODS } from '../../src/server/store/types.js';
import { errorFromWire, errorToWire } from '../../src/server/store/worker-protocol.js';
import { image, storeConformance, user } from '../conformance/store.js';

storeConformance('SQLite (in its worker thread)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sisp-store-'));
  const path = join(dir, 'sisp.db');
  let store = await openSqliteStore(path);
  return {
    store,
    async reopen() {
      await store.close();
      store = await openSqliteStore(path);
      return store;
    },
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});

describe('SQLite store: the worker boundary', () => {
  it('every method in STORE_METHODS answers through the worker', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-store-'));
    const store = await openSqliteStore(join(dir, 'sisp.db'));
    try {
      for (const name of Object.keys(STORE_METHODS))
        assert.equal(typeof (store as unknown as Record<string, unknown>)[name], 'function', name);
      // A constraint failure inside the worker comes back as a rejection with a code.
      await assert.rejects(
        store.putImage(image(6, 'nobody', 'x', 'public'), [], false),
        (e: unknown) => isSispError(e, 'E_INTERNAL'),
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a SispError crosses the thread with its code and detail; anything else is E_INTERNAL', () => {
    const crossed = errorFromWire(
      errorToWire(sispError('E_NAME_TAKEN', 'taken', { detail: 'by alice' })),
    );
    assert.ok(isSispError(crossed, 'E_NAME_TAKEN'));
    assert.equal(crossed.message, 'taken');
    assert.equal(crossed.detail, 'by alice');
    const other = errorFromWire(errorToWire(new RangeError('SQLITE_CONSTRAINT: secret detail')));
    assert.ok(isSispError(other, 'E_INTERNAL'));
    assert.ok(!other.message.includes('secret'), 'the text stays in detail, for the log');
    assert.match(other.detail ?? '', /SQLITE_CONSTRAINT/);
    assert.ok(isSispError(errorFromWire({ code: 'E_MADE_UP', message: 'x' }), 'E_INTERNAL'));
  });
});

describe('SQLite store: migrations', () => {
  it('a database from before name keys gets them for its existing images', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-migrate-'));
    const path = join(dir, 'sisp.db');
    const old = new Database(path);
    MIGRATIONS.slice(0, 3).forEach((migration, index) => {
      if (typeof migration !== 'string') assert.fail('the first three migrations are SQL');
      old.exec(migration);
      old.pragma(`user_version = ${index + 1}`);
    });
    old
      .prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)')
      .run('alice', new Uint8Array(32), new Uint8Array(32), new Uint8Array(8), 1);
    const record = image(9, 'alice', 'Sunset', 'public');
    old
      .prepare(
        `INSERT INTO images (id, owner, name, content_type, size, ct_length, sha256, manifest, signature, audience, created)
         VALUES (@id, @owner, @name, @contentType, @size, @ctLength, @sha256, @manifest, @signature, @audience, @created)`,
      )
      .run(record);
    old.close();
    const store = await openSqliteStore(path);
    try {
      assert.deepEqual((await store.findImage('alice', 'SUNSET'))?.id, record.id);
      assert.equal(
        await store.putImage(image(10, 'alice', 'sunset', 'public'), [], false),
        'exists',
      );
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('images stored before blobs were named by upload keep their blob: its digest, in hex', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-migrate-'));
    const path = join(dir, 'sisp.db');
    const old = new Database(path);
    const before = MIGRATIONS.length - 1;
    MIGRATIONS.slice(0, before).forEach((migration, index) => {
      if (typeof migration === 'string') old.exec(migration);
      else migration(old);
      old.pragma(`user_version = ${index + 1}`);
    });
    old
      .prepare('INSERT INTO users VALUES (?, ?, ?, ?, ?)')
      .run('alice', new Uint8Array(32), new Uint8Array(32), new Uint8Array(8), 1);
    const { blob: _unused, ...record } = image(9, 'alice', 'Sunset', 'public');
    old
      .prepare(
        `INSERT INTO images (id, owner, name, name_key, content_type, size, ct_length, sha256, manifest, signature, audience, created)
         VALUES (@id, @owner, @name, 'sunset', @contentType, @size, @ctLength, @sha256, @manifest, @signature, @audience, @created)`,
      )
      .run(record);
    old.close();
    const store = await openSqliteStore(path);
    try {
      const digestKey = Buffer.from(record.sha256).toString('hex');
      assert.equal((await store.getImage(record.id))?.blob, digestKey);
      assert.deepEqual(await store.allBlobs(), [digestKey]);
      assert.equal(await store.blobInUse(digestKey), true);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the event log keeps its events, recipients and position sequence through the album migration', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-migrate-'));
    const path = join(dir, 'sisp.db');
    const old = new Database(path);
    old.pragma('foreign_keys = ON');
    MIGRATIONS.slice(0, 7).forEach((migration, index) => {
      if (typeof migration === 'string') old.exec(migration);
      else migration(old);
      old.pragma(`user_version = ${index + 1}`);
    });
    const insert = old.prepare(
      "INSERT INTO events (kind, image, name, owner, public, created) VALUES ('new_image', ?, ?, 'alice', 0, ?)",
    );
    for (const n of [1, 2, 3]) insert.run(new Uint8Array(16).fill(n), `img${n}`, Date.now());
    old.prepare('INSERT INTO event_recipients (position, username) VALUES (2, ?)').run('bob');
    // The newest event pruned: its position must still never be handed out again.
    old.prepare('DELETE FROM events WHERE position = 3').run();
    old.close();
    const store = await openSqliteStore(path);
    try {
      assert.deepEqual(
        (await store.eventsSince('bob', 0, 10)).map((event) => [event.position, event.name]),
        [[2, 'img2']],
      );
      await store.createUser(user('alice', 1));
      const posted = await store.putImage(image(4, 'alice', 'next', 'public'), [], false);
      assert.ok(posted !== 'exists');
      assert.equal(posted.event.position, 4);
    } finally {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
