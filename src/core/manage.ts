/** Managing your own images: delete one, and see what you store against what is allowed. */
import { sispError } from '../protocol/errors.js';
import type { ListedImage } from './catalogue.js';
import type { SispClient } from './client.js';
import { ownImage } from './sharing.js';

/**
 * Deletes one of your images (by name or owner/name, resolved in your list): it is
 * gone from every list at once and downloads of it in progress end.
 */
export async function deleteImage(client: SispClient, reference: string): Promise<ListedImage> {
  const image = await ownImage(client, reference, 'delete');
  const reply = await client.connection.request('delete', { image: image.image });
  if (reply.type !== 'delete.done') throw sispError('E_BAD_FRAME', 'unexpected reply to delete');
  return image;
}

export interface Usage {
  readonly images: number;
  /** Plaintext bytes. */
  readonly bytes: number;
  readonly maxImages: number;
  readonly maxBytes: number;
}

export async function usage(client: SispClient): Promise<Usage> {
  const reply = await client.connection.request('usage', {});
  if (reply.type !== 'usage.result') throw sispError('E_BAD_FRAME', 'unexpected reply to usage');
  return reply.body;
}
