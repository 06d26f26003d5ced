/**
 * The durable event log in SQLite: every image event (new, deleted, withdrawn) gets
 * a position, written in the same transaction as the change it reports, so a client
 * that was away resumes from the last position it saw and misses nothing.
 */
import type Database from 'better-sqlite3';
import type { ImageEvent, NewEvent } from '../events/types.js';

interface EventRow {
  position: number;
  kind: ImageEvent['kind'];
  image: Uint8Array;
  name: string;
  owner: string;
  public: number;
}

export interface EventLog {
  /** Appends the event (inside the caller's transaction); returns it with its position. */
  append(event: NewEvent, now: number): ImageEvent;
  /** Up to `limit` events `viewer` was told of, after `after`, in order. */
  since(viewer: string, after: number, limit: number): ImageEvent[];
  /** The last position written (0 when none). */
  head(): number;
  /** Removes events written before `before` (ms); returns how many. */
  prune(before: number): number;
}

export function eventLog(db: Database.Database): EventLog {
  const statements = {
    insert: db.prepare(
      'INSERT INTO events (kind, image, name, owner, public, created) VALUES (?, ?, ?, ?, ?, ?)',
    ),
    insertRecipient: db.prepare(
      'INSERT OR IGNORE INTO event_recipients (position, username) VALUES (?, ?)',
    ),
    since: db.prepare<{ viewer: string; after: number; limit: number }, EventRow>(
      `SELECT position, kind, image, name, owner, public FROM events e
        WHERE e.position > @after AND (e.public = 1 OR EXISTS (
          SELECT 1 FROM event_recipients r WHERE r.username = @viewer AND r.position = e.position))
        ORDER BY e.position LIMIT @limit`,
    ),
    head: db.prepare<[], { head: number | null }>('SELECT MAX(position) AS head FROM events'),
    prune: db.prepare('DELETE FROM events WHERE created < ?'),
  };
  return {
    append(event, now) {
      const isPublic = event.notify === 'public';
      const result = statements.insert.run(
        event.kind,
        event.image,
        event.name,
        event.owner,
        isPublic ? 1 : 0,
        now,
      );
      const position = Number(result.lastInsertRowid);
      if (event.notify !== 'public')
        for (const user of event.notify) statements.insertRecipient.run(position, user);
      return { ...event, position };
    },
    since(viewer, after, limit) {
      return statements.since.all({ viewer, after, limit }).map((row) => ({
        kind: row.kind,
        image: new Uint8Array(row.image),
        name: row.name,
        owner: row.owner,
        notify: row.public === 1 ? 'public' : [viewer],
        position: row.position,
      }));
    },
    head: () => statements.head.get()?.head ?? 0,
    prune: (before) => statements.prune.run(before).changes,
  };
}
