/**
 * Who may see image `i`, as one SQL condition (standard SQL: SQLite and PostgreSQL): it is public, theirs, they hold a
 * key grant to it, or it is in an album they belong to. Every query that decides
 * visibility uses this one fragment, so they cannot drift apart.
 */
export function visibleTo(viewer: string): string {
  return `(i.audience = 'public' OR i.owner = ${viewer} OR EXISTS (
    SELECT 1 FROM image_keys k WHERE k.image = i.id AND k.recipient = ${viewer}) OR EXISTS (
    SELECT 1 FROM album_items ai JOIN album_members am ON am.album = ai.album
     WHERE ai.image = i.id AND am.member = ${viewer}))`;
}

export const VISIBLE = visibleTo('@viewer');

/** The same, for PostgreSQL statements that pass the viewer as their first parameter. */
export const VISIBLE_PG = visibleTo('$1');
