/** list, share and cert.get. */
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { SERVER_RECIPIENT, type ContentType, type Message } from '../../protocol/messages.js';
import type { Session } from '../session.js';

type QueryMessage = Extract<Message, { type: 'list' | 'share' | 'cert.get' }>;

export async function handleQuery(session: Session, message: QueryMessage): Promise<void> {
  const { context } = session;
  const user = session.user ?? '';
  switch (message.type) {
    case 'list': {
      const images = (await context.store.listVisible(user)).slice(-10_000);
      await session.send('list.result', message.id, {
        images: images.map((image) => ({
          image: image.id,
          owner: image.owner,
          name: image.name,
          contentType: image.contentType as ContentType,
          size: image.size,
          created: image.created,
          audience: image.audience,
        })),
      });
      return;
    }
    case 'share': {
      const image = await context.store.getImage(message.body.image);
      if (image === undefined || !(await context.store.canSee(user, image.id)))
        throw sispError('E_NOT_FOUND', 'no such image');
      if (image.owner !== user) throw sispError('E_FORBIDDEN', 'only the owner can share an image');
      if (image.audience === 'public')
        throw sispError('E_BAD_REQUEST', 'public images are already shared with everyone');
      const recipients: string[] = [];
      for (const key of message.body.keys) {
        if (key.recipient === SERVER_RECIPIENT || key.recipient === user) {
          throw sispError('E_BAD_REQUEST', 'share names other users only');
        }
        if ((await context.store.getUser(key.recipient)) === undefined) {
          throw sispError('E_NOT_FOUND', `no user named ${key.recipient}`);
        }
        recipients.push(key.recipient);
      }
      await context.store.addKeys(image.id, message.body.keys);
      context.log.info(
        { event: 'share', session: session.id, owner: user, image: toHex(image.id), recipients },
        'image shared',
      );
      await session.send('share.done', message.id, {});
      context.events.publish({
        image: image.id,
        name: image.name,
        owner: image.owner,
        notify: recipients,
      });
      return;
    }
    case 'cert.get': {
      const found = await context.store.getUser(message.body.username);
      if (found === undefined)
        throw sispError('E_NOT_FOUND', `no user named ${message.body.username}`);
      await session.send('cert', message.id, {
        username: found.username,
        certificate: found.certificate,
      });
      return;
    }
  }
}
