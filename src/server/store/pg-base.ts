/**
 * What the PostgreSQL store's parts share: a query runner (the pool, or one
 * transaction's connection), transactions that retry when PostgreSQL reports a
 * conflict with a concurrent one, the durable event log, and row conversions.
 */
import pg from 'pg';
import type { ImageEvent, NewEvent } from '../events/types.js';

// BIGINT columns hold milliseconds and counts, all well inside 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (text) => Number(text));

export interface Db {
  rows<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  one<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  /** Rows changed. */
  run(sql: string, params?: readonly unknown[]): Promise<number>;
}

export function runner(target: pg.Pool | pg.PoolClient): Db {
  return {
    async rows<T>(sql: string, params: readonly unknown[] = []) {
      return (await target.query(sql, params as unknown[])).rows as T[];
    },
    async one<T>(sql: string, params: readonly unknown[] = []) {
      return (await target.query(sql, params as unknown[])).rows[0] as T | undefined;
    },
    async run(sql: string, params: readonly unknown[] = []) {
      return (await target.query(sql, params as unknown[])).rowCount ?? 0;
    },
  };
}

/** Serialization failure, deadlock, or a unique key taken by a concurrent transaction. */
const RETRY_CODES = new Set(['40001', '40P01', '23505']);
const MAX_ATTEMPTS = 8;

/**
 * Runs `work` in one SERIALIZABLE transaction, as SQLite runs every transaction: a
 * conflict with a concurrent one rolls back and runs it again, so checks and writes
 * never interleave with another node's.
 */
export async function transaction<T>(pool: pg.Pool, work: (db: Db) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const client = await pool.connect();
    try {
      await client.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
      const result = await work(runner(client));
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const code = (error as { code?: string }).code;
      if (attempt >= MAX_ATTEMPTS || code === undefined || !RETRY_CODES.has(code)) throw error;
      await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * attempt));
    } finally {
      client.release();
    }
  }
}

/** Held by every transaction that writes events, so positions commit in order. */
const EVENT_LOCK = 0x5159_5002;

/**
 * Appends an event in the caller's transaction. Positions come from a sequence, which
 * is not transactional: the lock makes transactions that write events commit one at a
 * time, so a reader never sees position n+1 before n (and skips n for good).
 */
export async function appendEvent(db: Db, event: NewEvent, now: number): Promise<ImageEvent> {
  await db.run('SELECT pg_advisory_xact_lock($1)', [EVENT_LOCK]);
  const row = await db.one<{ position: number }>(
    'INSERT INTO events (kind, image, name, owner, public, created) VALUES ($1, $2, $3, $4, $5, $6) RETURNING position',
    [event.kind, event.image, event.name, event.owner, event.notify === 'public', now],
  );
  const position = row?.position ?? 0;
  if (event.notify !== 'public')
    for (const user of new Set(event.notify))
      await db.run(
        'INSERT INTO event_recipients (position, username) VALUES ($1, $2) ON CONFLICT DO NOTHING',
        [position, user],
      );
  return { ...event, position };
}
