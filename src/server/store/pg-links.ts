/**
 * Links in PostgreSQL. A download is counted in the same statement that checks the
 * link is open (not revoked, not expired, not used up), so two at once on two nodes
 * never both take the last one.
 */
import type pg from 'pg';
import { runner, transaction } from './pg-base.js';
import { toLink, type LinkRow } from './rows.js';
import type { Async, LinkState, StoreMethods, LinkMethodName } from './types.js';

export function pgLinkMethods(pool: pg.Pool): Async<Pick<StoreMethods, LinkMethodName>> {
  const db = runner(pool);
  return {
    createLink: (link, maxLinks) =>
      transaction(pool, async (tx) => {
        const count = await tx.one<{ n: number }>(
          'SELECT COUNT(*)::bigint AS n FROM links WHERE owner = $1',
          [link.owner],
        );
        if ((count?.n ?? 0) >= maxLinks) return 'full' as const;
        const pass = link.passphrase;
        await tx.run(
          `INSERT INTO links (id, owner, image, key, created, expires, max_downloads, pass_salt, pass_n, pass_r, pass_p)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
          [
            link.id,
            link.owner,
            link.image,
            link.key,
            link.created,
            link.expires,
            link.maxDownloads ?? null,
            pass?.salt ?? null,
            pass?.N ?? null,
            pass?.r ?? null,
            pass?.p ?? null,
          ],
        );
        return 'created' as const;
      }),
    async getLink(id) {
      const row = await db.one<LinkRow>('SELECT * FROM links WHERE id = $1', [id]);
      return row === undefined ? undefined : toLink(row);
    },
    async listLinks(owner) {
      const rows = await db.rows<LinkRow & { name: string }>(
        `SELECT l.*, i.name FROM links l JOIN images i ON i.id = l.image
          WHERE l.owner = $1 ORDER BY l.created DESC, l.id`,
        [owner],
      );
      return rows.map((row) => ({ ...toLink(row), name: row.name }));
    },
    async revokeLink(owner, id) {
      return (
        (await db.run('UPDATE links SET revoked = TRUE WHERE owner = $1 AND id = $2', [
          owner,
          id,
        ])) > 0
      );
    },
    async consumeLink(id, now): Promise<LinkState> {
      const counted = await db.run(
        `UPDATE links SET downloads = downloads + 1
          WHERE id = $1 AND NOT revoked AND expires > $2
            AND (max_downloads IS NULL OR downloads < max_downloads)`,
        [id, now],
      );
      if (counted === 1) return 'open';
      const row = await db.one<LinkRow>('SELECT * FROM links WHERE id = $1', [id]);
      if (row === undefined) return 'missing';
      if (row.revoked) return 'revoked';
      if (row.expires <= now) return 'expired';
      return 'used_up';
    },
  };
}
