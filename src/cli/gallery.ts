/**
 * `sisp list --thumbnails`: each image's line under its thumbnail, drawn with the
 * display code in the colours the terminal has. The thumbnails are verified against
 * their owners' signed manifests before anything is drawn.
 */
import type { ListedImage } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { fetchThumbnails } from '../core/thumbnails.js';
import { toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { formatList } from './listing.js';
import { canDraw, detectColourDepth, renderHalfBlocks } from './display.js';
import type { Output } from './output.js';

const COLUMNS = 24;
const ROWS = 8;

export async function listWithThumbnails(
  client: SispClient,
  images: readonly ListedImage[],
  output: Output,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (output.out.isTTY !== true || !canDraw(env))
    throw sispError(
      'E_BAD_REQUEST',
      '--thumbnails draws on a terminal; without one, use sisp list',
    );
  if (images.length === 0) return formatList(images);
  const thumbnails = await fetchThumbnails(client, images);
  const depth = detectColourDepth(env);
  const lines = formatList(images).trimEnd().split('\n');
  let out = '';
  for (const [i, image] of images.entries()) {
    const thumbnail = thumbnails.get(toHex(image.image));
    if (thumbnail !== undefined)
      out += await renderHalfBlocks(Buffer.from(thumbnail), COLUMNS, ROWS, depth);
    else out += '(no thumbnail)\n';
    out += `${lines[i] ?? ''}\n\n`;
  }
  return out;
}
