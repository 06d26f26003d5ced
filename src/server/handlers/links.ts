/**
 * The owner's side of links (docs/PROTOCOL.md 4.9): make one for an image of theirs
 * (its content key already sealed under a key the server never sees), list them
 * with their state, revoke one. Opening a link is plain HTTPS (link-http.ts).
 */
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { MAX_LINK_LIFETIME_MS, MAX_LINKS } from '../../protocol/link.js';
import type { RequestContext, RequestMessage } from '../request.js';

export async function createLink(
  context: RequestContext,
  message: RequestMessage<'link.create'>,
): Promise<void> {
  const { store, log } = context.services;
  const { link, image: id, key, expires, maxDownloads, passphrase } = message.body;
  const image = await store.getImage(id);
  if (image === undefined || image.owner !== context.user)
    throw sispError('E_NOT_FOUND', 'no such image of yours');
  const now = Date.now();
  if (expires <= now || expires > now + MAX_LINK_LIFETIME_MS)
    throw sispError('E_BAD_REQUEST', 'a link expires after now and within a year');
  const record = {
    id: link,
    owner: context.user,
    image: id,
    key,
    created: now,
    expires,
    downloads: 0,
    revoked: false,
    ...(maxDownloads === undefined ? {} : { maxDownloads }),
    ...(passphrase === undefined ? {} : { passphrase }),
  };
  if ((await store.createLink(record, MAX_LINKS)) === 'full')
    throw sispError('E_QUOTA', `you can have at most ${MAX_LINKS} links; revoke some first`);
  log.info(
    { event: 'link.create', session: context.session.id, owner: context.user, image: toHex(id) },
    'link made',
  );
  await context.send('link.done', {});
}

export async function revokeLink(
  context: RequestContext,
  message: RequestMessage<'link.revoke'>,
): Promise<void> {
  if (!(await context.services.store.revokeLink(context.user, message.body.link)))
    throw sispError('E_NOT_FOUND', 'no such link of yours');
  context.services.log.info(
    { event: 'link.revoke', session: context.session.id, owner: context.user },
    'link revoked',
  );
  await context.send('link.done', {});
}

export async function links(
  context: RequestContext,
  _message: RequestMessage<'links'>,
): Promise<void> {
  const rows = await context.services.store.listLinks(context.user);
  await context.send('links.result', {
    links: rows.map((row) => ({
      link: row.id,
      image: row.image,
      name: row.name,
      created: row.created,
      expires: row.expires,
      downloads: row.downloads,
      revoked: row.revoked,
      passphrase: row.passphrase !== undefined,
      ...(row.maxDownloads === undefined ? {} : { maxDownloads: row.maxDownloads }),
    })),
  });
}
