/**
 * PgEventBus on a real PostgreSQL (test/support/postgres.ts): the EventBus
 * conformance suite with every handle its own node (its own connections), then what
 * only a bus across nodes has to do: events told to many users go in several
 * notifications and still reach each user once, and a node whose listening
 * connection is cut reconnects and says so.
 */
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import pg from 'pg';
import { PgEventBus, fromWire } from '../../src/server/events/pg-event-bus.js';
import type { EventBus, ImageEvent } from '../../src/server/events/types.js';
import { eventBusConformance } from '../conformance/event-bus.js';
import { testPostgres } from '../support/postgres.js';

let url = '';
before(async () => {
  url = await testPostgres();
});

eventBusConformance('PgEventBus (PostgreSQL LISTEN/NOTIFY)', () => {
  const opened: EventBus[] = [];
  return Promise.resolve({
    async bus() {
      const bus = await PgEventBus.open({ connectionString: url });
      opened.push(bus);
      return bus;
    },
    async dispose() {
      await Promise.all(opened.map((bus) => bus.close()));
    },
  });
});

async function eventually(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('PgEventBus across nodes', () => {
  it('an event told to 3,000 users reaches each of them once, whatever the payload limit', async () => {
    const [a, b] = [
      await PgEventBus.open({ connectionString: url }),
      await PgEventBus.open({ connectionString: url }),
    ];
    try {
      const users = Array.from({ length: 3000 }, (_, index) => `user-${index}`);
      const told = new Map<string, number>();
      b.subscribe((event) => {
        if (event.notify === 'public') return;
        for (const user of event.notify) told.set(user, (told.get(user) ?? 0) + 1);
      });
      await a.publish({
        kind: 'album_shared',
        image: new Uint8Array(16).fill(9),
        name: 'trip',
        owner: 'alice',
        notify: users,
        position: 1,
      });
      await eventually(() => told.size === users.length, 'every user');
      assert.ok([...told.values()].every((count) => count === 1));
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('a node whose listening connection is cut reconnects and says so; events flow again', async () => {
    let reconnected = 0;
    const node = await PgEventBus.open({ connectionString: url });
    node.onResume(() => (reconnected += 1));
    const other = await PgEventBus.open({ connectionString: url });
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    try {
      const got: ImageEvent[] = [];
      node.subscribe((event) => got.push(event));
      // Cut every other connection that listens, as a database restart would.
      await admin.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE pid <> pg_backend_pid() AND datname = current_database() AND query LIKE 'LISTEN%'`,
      );
      await eventually(() => reconnected >= 1, 'the reconnection');
      await other.publish({
        kind: 'new_image',
        image: new Uint8Array(16).fill(1),
        name: 'after',
        owner: 'bob',
        notify: 'public',
        position: 2,
      });
      await eventually(
        () => got.some((event) => event.name === 'after'),
        'an event after reconnecting',
      );
    } finally {
      await admin.end();
      await Promise.all([node.close(), other.close()]);
    }
  });

  it('deployments in different schemas of one database never hear each other', async () => {
    const admin = new pg.Client({ connectionString: url });
    await admin.connect();
    await admin.query('CREATE SCHEMA IF NOT EXISTS sisp_other_deployment');
    await admin.end();
    const other = new URL(url);
    other.searchParams.set('options', '-c search_path=sisp_other_deployment');
    const ours = await PgEventBus.open({ connectionString: url });
    const theirs = await PgEventBus.open({ connectionString: other.toString() });
    try {
      const heard: ImageEvent[] = [];
      theirs.subscribe((event) => heard.push(event));
      const mine: ImageEvent[] = [];
      ours.subscribe((event) => mine.push(event));
      await ours.publish({
        kind: 'new_image',
        image: new Uint8Array(16).fill(3),
        name: 'private matter',
        owner: 'alice',
        notify: 'public',
        position: 3,
      });
      await eventually(() => mine.length === 1, 'our own event');
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.deepEqual(heard, []);
    } finally {
      await Promise.all([ours.close(), theirs.close()]);
    }
  });

  it('a notification that is not one of ours is ignored', () => {
    for (const payload of [
      '',
      'null',
      '{}',
      '{"k":"new_image"}',
      'x'.repeat(100),
      '{"k":"rm -rf","i":"AAAAAAAAAAAAAAAAAAAAAA","n":"a","o":"b","t":"public","p":1}',
    ])
      assert.equal(fromWire(payload), undefined, payload);
  });
});
