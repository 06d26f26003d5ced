/**
 * Links in SQLite. A download is counted in the same statement that checks the
 * link is open (not revoked, not expired, not used up), so two at once never both
 * take the last one.
 */
import type Database from 'better-sqlite3';
import { toLink, type LinkRow } from './rows.js';
import type { LinkRecord, LinkState, StoreMethods, LinkMethodName } from './types.js';

export function linkMethods(db: Database.Database): Pick<StoreMethods, LinkMethodName> {
  const statements = {
    count: db.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM links WHERE owner = ?'),
    insert: db.prepare(
      `INSERT INTO links (id, owner, image, key, created, expires, max_downloads, pass_salt, pass_n, pass_r, pass_p)
       VALUES (@id, @owner, @image, @key, @created, @expires, @maxDownloads, @salt, @N, @r, @p)`,
    ),
    get: db.prepare<[Uint8Array], LinkRow>('SELECT * FROM links WHERE id = ?'),
    list: db.prepare<[string], LinkRow & { name: string }>(
      `SELECT l.*, i.name FROM links l JOIN images i ON i.id = l.image
        WHERE l.owner = ? ORDER BY l.created DESC, l.id`,
    ),
    revoke: db.prepare('UPDATE links SET revoked = 1 WHERE owner = ? AND id = ?'),
    consume: db.prepare(
      `UPDATE links SET downloads = downloads + 1
        WHERE id = @id AND revoked = 0 AND expires > @now
          AND (max_downloads IS NULL OR downloads < max_downloads)`,
    ),
  };

  const createLink = db.transaction((link: LinkRecord, maxLinks: number) => {
    if ((statements.count.get(link.owner)?.n ?? 0) >= maxLinks) return 'full' as const;
    const pass = link.passphrase;
    statements.insert.run({
      id: link.id,
      owner: link.owner,
      image: link.image,
      key: link.key,
      created: link.created,
      expires: link.expires,
      maxDownloads: link.maxDownloads ?? null,
      salt: pass?.salt ?? null,
      N: pass?.N ?? null,
      r: pass?.r ?? null,
      p: pass?.p ?? null,
    });
    return 'created' as const;
  });

  const consumeLink = db.transaction((id: Uint8Array, now: number): LinkState => {
    if (statements.consume.run({ id, now }).changes === 1) return 'open';
    const row = statements.get.get(id);
    if (row === undefined) return 'missing';
    if (row.revoked === 1) return 'revoked';
    if (row.expires <= now) return 'expired';
    return 'used_up';
  });

  return {
    createLink: (link, maxLinks) => createLink(link, maxLinks),
    getLink(id) {
      const row = statements.get.get(id);
      return row === undefined ? undefined : toLink(row);
    },
    listLinks: (owner) =>
      statements.list.all(owner).map((row) => ({ ...toLink(row), name: row.name })),
    revokeLink: (owner, id) => statements.revoke.run(owner, id).changes > 0,
    consumeLink: (id, now) => consumeLink(id, now),
  };
}
