/**
 * What kind of image a file is, judged by its content (sharp/libvips reads the
 * header; the extension is ignored). Only JPEG, PNG, GIF and WebP are accepted, and
 * nothing is decoded beyond the header here.
 */
import { sispError } from '../protocol/errors.js';
import type { ContentType } from '../protocol/messages.js';
import { loadSharp, type SharpImage } from './sharp.js';

const FORMATS: Record<string, ContentType> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
};

export interface ImageInfo {
  readonly contentType: ContentType;
  readonly width: number;
  readonly height: number;
}

/** `input`: the file's path, or its bytes already read (`path` then only names it). */
export async function inspectImage(
  path: string,
  input: string | Uint8Array = path,
): Promise<ImageInfo> {
  const sharp = await loadSharp();
  let metadata: Awaited<ReturnType<SharpImage['metadata']>>;
  try {
    const source =
      typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.length);
    metadata = await sharp(source, { failOn: 'error' }).metadata();
  } catch {
    throw sispError('E_BAD_REQUEST', `${path} is not an image (JPEG, PNG, GIF or WebP)`);
  }
  const contentType: ContentType | undefined = FORMATS[metadata.format];
  if (contentType === undefined) {
    throw sispError(
      'E_BAD_REQUEST',
      `${path} is not an image sisp accepts (JPEG, PNG, GIF or WebP)`,
    );
  }
  return { contentType, width: metadata.width, height: metadata.height };
}
