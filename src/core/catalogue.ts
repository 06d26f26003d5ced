/** What the signed-in user may see, and finding one image in it by name. */
import { sispError } from '../protocol/errors.js';
import type { MessageBody } from '../protocol/messages.js';
import { normalizeImageName, normalizeUsername } from '../protocol/names.js';
import type { SispClient } from './client.js';

export type ListedImage = MessageBody<'list.result'>['images'][number];

export async function listImages(client: SispClient): Promise<ListedImage[]> {
  const reply = await client.connection.request('list', {});
  if (reply.type !== 'list.result') throw sispError('E_BAD_FRAME', 'unexpected reply to list');
  return reply.body.images;
}

/** `owner/name`, or a bare name that exactly one visible image has. */
export async function resolveImage(client: SispClient, reference: string): Promise<ListedImage> {
  const images = await listImages(client);
  const slash = reference.indexOf('/');
  if (slash >= 0) {
    const owner = normalizeUsername(reference.slice(0, slash));
    const name = normalizeImageName(reference.slice(slash + 1));
    const found = images.find((image) => image.owner === owner && image.name === name);
    if (found === undefined)
      throw sispError('E_NOT_FOUND', `no image ${owner}/${name} that you may see`);
    return found;
  }
  const name = normalizeImageName(reference);
  const matches = images.filter((image) => image.name === name);
  const [first] = matches;
  if (first === undefined)
    throw sispError('E_NOT_FOUND', `no image named "${name}" that you may see`);
  if (matches.length > 1) {
    const choices = matches.map((image) => `${image.owner}/${image.name}`).join(', ');
    throw sispError('E_AMBIGUOUS', `several images are named "${name}": ${choices}`);
  }
  return first;
}
