/** The server's cache of user records, over the real SQLite store. */
import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openSqliteStore } from '../../src/server/store/sqlite-store.js';
import type { Store } from '../../src/server/store/types.js';
import { withUserCache } from '../../src/server/store/user-cache.js';
import { user } from '../conformance/store.js';

/** The store, with every getUser that reaches it counted. */
function counted(store: Store): { store: Store; reads: string[] } {
  const reads: string[] = [];
  const proxy = new Proxy(store, {
    get(target, property) {
      if (property === 'getUser')
        return (name: string) => {
          reads.push(name);
          return target.getUser(name);
        };
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
    },
  });
  return { store: proxy, reads };
}

describe('user cache', () => {
  it('keeps users found (copies out), never a miss, and at most its size', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sisp-users-'));
    const real = await openSqliteStore(join(dir, 'sisp.db'));
    try {
      const { store, reads } = counted(real);
      const cache = withUserCache(store, 2);
      assert.equal(await cache.getUser('alice'), undefined);
      await cache.createUser(user('alice', 1));
      const first = await cache.getUser('alice');
      assert.deepEqual(first, user('alice', 1), 'registered since the miss: found');
      first.signingKey.fill(0);
      assert.deepEqual(await cache.getUser('alice'), user('alice', 1), 'a copy each time');
      assert.deepEqual(reads, ['alice', 'alice']);
      for (const [name, fill] of [
        ['bob', 3],
        ['carol', 5],
      ] as const)
        await cache.createUser(user(name, fill));
      await cache.getUser('bob');
      await cache.getUser('carol');
      await cache.getUser('alice');
      assert.deepEqual(reads.slice(2), ['bob', 'carol', 'alice'], 'alice was evicted');
      await cache.getUser('carol');
      assert.equal(reads.length, 5, 'carol still kept');
    } finally {
      await real.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
