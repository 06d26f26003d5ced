/** Changing who may see an image: share (owner only). */
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { SERVER_RECIPIENT } from '../../protocol/messages.js';
import type { RequestContext, RequestMessage } from '../request.js';

export async function share(
  context: RequestContext,
  message: RequestMessage<'share'>,
): Promise<void> {
  const { store, log, events } = context.services;
  const user = context.user;
  const image = await store.getVisible(user, message.body.image);
  if (image === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  if (image.owner !== user) throw sispError('E_FORBIDDEN', 'only the owner can share an image');
  if (image.audience === 'public')
    throw sispError('E_BAD_REQUEST', 'public images are already shared with everyone');
  const recipients: string[] = [];
  for (const key of message.body.keys) {
    if (key.recipient === SERVER_RECIPIENT || key.recipient === user)
      throw sispError('E_BAD_REQUEST', 'share names other users only');
    if ((await store.getUser(key.recipient)) === undefined)
      throw sispError('E_NOT_FOUND', `no user named ${key.recipient}`);
    recipients.push(key.recipient);
  }
  await store.addKeys(image.id, message.body.keys);
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
  await events.publish({
    kind: 'new_image',
    image: image.id,
    name: image.name,
    owner: image.owner,
    notify: recipients,
  });
}
