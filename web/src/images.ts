/** Turning images into what a page shows: thumbnails made with a canvas, blobs to view and save. */
import type { ContentType } from '../../src/protocol/messages.js';

const THUMBNAIL_SIDE = 512;

/** A WebP at most 512 px on its long side, made here (the server never sees the image). */
export async function makeThumbnail(file: Blob): Promise<Uint8Array | undefined> {
  try {
    const bitmap = await createImageBitmap(file);
    const scale = Math.min(1, THUMBNAIL_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * scale));
    const height = Math.max(1, Math.round(bitmap.height * scale));
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (context === null) return undefined;
    context.drawImage(bitmap, 0, 0, width, height);
    bitmap.close();
    const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 0.8 });
    return new Uint8Array(await blob.arrayBuffer());
  } catch {
    // A picture the browser cannot decode still posts, without a thumbnail.
    return undefined;
  }
}

const TYPES: Record<string, ContentType> = {
  'image/jpeg': 'image/jpeg',
  'image/png': 'image/png',
  'image/gif': 'image/gif',
  'image/webp': 'image/webp',
};

export function contentTypeOf(file: File): ContentType | undefined {
  return TYPES[file.type];
}

export function blobUrl(bytes: Uint8Array, type: string): string {
  const copy = new Uint8Array(bytes);
  return URL.createObjectURL(new Blob([copy.buffer], { type }));
}

/** A name for an image from its file name: the part before the extension. */
export function nameOf(file: File): string {
  return file.name.replace(/\.[^.]*$/, '').slice(0, 64) || 'image';
}
