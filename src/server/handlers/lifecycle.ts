/** An image's end (delete, owner only) and what a user has stored (usage). */
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import type { RequestContext, RequestMessage } from '../request.js';

/**
 * Deletes the image in one transaction, then its blob if nothing else refers to it
 * (a crash in between leaves an orphan blob, which the start-up sweep removes), then
 * tells everyone who could see it; their downloads of it end with E_NOT_FOUND.
 */
export async function deleteImage(
  context: RequestContext,
  message: RequestMessage<'delete'>,
): Promise<void> {
  const { store, blobs, log, events } = context.services;
  const user = context.user;
  const visible = await store.getVisible(user, message.body.image);
  if (visible === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  if (visible.owner !== user) throw sispError('E_FORBIDDEN', 'only the owner can delete an image');
  const deleted = await store.deleteImage(user, message.body.image);
  if (deleted === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  const { image } = deleted;
  if (!(await store.blobInUse(image.blob))) await blobs.remove(image.blob);
  log.info(
    { event: 'delete', session: context.session.id, owner: user, image: toHex(image.id) },
    'image deleted',
  );
  await context.send('delete.done', {});
  await events.publish(deleted.event);
}

export async function usage(
  context: RequestContext,
  _message: RequestMessage<'usage'>,
): Promise<void> {
  const { store, config } = context.services;
  const used = await store.usage(context.user);
  await context.send('usage.result', {
    images: used.images,
    bytes: used.bytes,
    maxImages: config.limits.imagesPerUser,
    maxBytes: config.limits.bytesPerUser,
  });
}
