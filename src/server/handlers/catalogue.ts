/** Reading the catalogue: the images a user may see, and users' certificates. */
import { sispError } from '../../protocol/errors.js';
import type { ContentType } from '../../protocol/messages.js';
import type { RequestContext, RequestMessage } from '../request.js';

export async function list(
  context: RequestContext,
  _message: RequestMessage<'list'>,
): Promise<void> {
  const images = (await context.services.store.listVisible(context.user)).slice(-10_000);
  await context.send('list.result', {
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
}

export async function certificate(
  context: RequestContext,
  message: RequestMessage<'cert.get'>,
): Promise<void> {
  const found = await context.services.store.getUser(message.body.username);
  if (found === undefined) throw sispError('E_NOT_FOUND', `no user named ${message.body.username}`);
  await context.send('cert', { username: found.username, certificate: found.certificate });
}
