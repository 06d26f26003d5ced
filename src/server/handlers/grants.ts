/**
 * Changing who may see an image, owner only, each change signed by the owner: share
 * (more recipients, each with a signed grant), unshare (a signed withdrawal), and
 * grants (who holds a key now). The server checks every signature before storing
 * it, so it keeps only what the owner decided.
 */
import { verifyGrant, verifyWithdrawal } from '../../crypto/grants.js';
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { MAX_GRANTS } from '../../protocol/messages.js';
import type { RequestContext, RequestMessage } from '../request.js';
import type { ImageRecord, UserRecord } from '../store/types.js';

/** The requester's own image, and their user record (for their signing key). */
async function ownImage(
  context: RequestContext,
  id: Uint8Array,
  verb: string,
): Promise<{ image: ImageRecord; owner: UserRecord }> {
  const { store } = context.services;
  const image = await store.getVisible(context.user, id);
  if (image === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  if (image.owner !== context.user)
    throw sispError('E_FORBIDDEN', `only the owner can ${verb} an image`);
  const owner = await store.getUser(context.user);
  if (owner === undefined) throw sispError('E_INTERNAL', 'missing user record');
  return { image, owner };
}

export async function share(
  context: RequestContext,
  message: RequestMessage<'share'>,
): Promise<void> {
  const { store, log, events } = context.services;
  const user = context.user;
  const { image, owner } = await ownImage(context, message.body.image, 'share');
  if (image.audience === 'public')
    throw sispError('E_BAD_REQUEST', 'public images are already shared with everyone');
  const recipients: string[] = [];
  for (const grant of message.body.grants) {
    if (grant.recipient === user) throw sispError('E_BAD_REQUEST', 'share names other users only');
    if ((await store.getUser(grant.recipient)) === undefined)
      throw sispError('E_NOT_FOUND', `no user named ${grant.recipient}`);
    const fields = { image: image.id, owner: user, ...grant };
    if (!(await verifyGrant(owner.signingKey, grant.signature, fields)))
      throw sispError('E_FORBIDDEN', `the grant for ${grant.recipient} is not signed by you`);
    recipients.push(grant.recipient);
  }
  const holders = new Set(await store.recipients(image.id));
  const added = recipients.filter((recipient) => !holders.has(recipient));
  if (holders.size + added.length > MAX_GRANTS)
    throw sispError('E_QUOTA', `an image can be shared with at most ${MAX_GRANTS} users`);
  const event = await store.addKeys(
    image.id,
    message.body.grants.map(({ recipient, enc, ct, signature }) => ({
      recipient,
      enc,
      ct,
      grant: signature,
    })),
  );
  log.info(
    {
      event: 'share',
      session: context.session.id,
      owner: user,
      image: toHex(image.id),
      recipients,
    },
    'image shared',
  );
  await context.send('share.done', {});
  // Those who had no key before are told (the event is in the log already).
  if (event !== null) await events.publish(event);
}

export async function unshare(
  context: RequestContext,
  message: RequestMessage<'unshare'>,
): Promise<void> {
  const { store, log, events } = context.services;
  const { recipient, withdrawn, signature } = message.body;
  const { image, owner } = await ownImage(context, message.body.image, 'unshare');
  if (image.audience === 'public')
    throw sispError(
      'E_BAD_REQUEST',
      'a public image is seen by everyone: make it private instead (it is re-keyed)',
    );
  if (recipient === context.user)
    throw sispError('E_BAD_REQUEST', 'you always see your own images');
  const fields = { image: image.id, owner: context.user, recipient, withdrawn };
  if (!(await verifyWithdrawal(owner.signingKey, signature, fields)))
    throw sispError('E_FORBIDDEN', 'the withdrawal is not signed by you');
  const { held, event } = await store.withdraw(image.id, { recipient, withdrawn, signature });
  log.info(
    {
      event: 'unshare',
      session: context.session.id,
      owner: context.user,
      image: toHex(image.id),
      recipient,
    },
    'share withdrawn',
  );
  await context.send('unshare.done', { held });
  // Their downloads of it end, and their clients are told.
  if (event !== null) await events.publish(event);
}

export async function grants(
  context: RequestContext,
  message: RequestMessage<'grants'>,
): Promise<void> {
  const { image } = await ownImage(context, message.body.image, 'list the grants of');
  const recipients = (await context.services.store.recipients(image.id)).filter(
    (recipient) => recipient !== context.user,
  );
  await context.send('grants.result', { recipients });
}
