/**
 * The thumbnail a post carries: at most 512 px on the long side, upright, WebP,
 * made here (the poster's client) so the server never sees the image. Best effort:
 * an image sharp cannot shrink safely is posted without one.
 */
import { loadSharp } from './sharp.js';

export const THUMBNAIL_SIZE = 512;
/** Larger images are posted without a thumbnail rather than decoded here. */
const PIXEL_LIMIT = 64 * 1024 * 1024;

export async function makeThumbnail(input: string | Uint8Array): Promise<Uint8Array | undefined> {
  try {
    const sharp = await loadSharp();
    const source = typeof input === 'string' ? input : Buffer.from(input);
    const webp = await sharp(source, {
      limitInputPixels: PIXEL_LIMIT,
      animated: false,
      failOn: 'error',
    })
      .rotate()
      .resize({
        width: THUMBNAIL_SIZE,
        height: THUMBNAIL_SIZE,
        fit: 'inside',
        withoutEnlargement: true,
      })
      // Effort 2 of 6: a third to a half less CPU than the default 4 for a thumbnail a
      // few percent larger (bench/README, small images).
      .webp({ quality: 70, effort: 2 })
      .toBuffer();
    return new Uint8Array(webp);
  } catch {
    return undefined;
  }
}
