/**
 * Thumbnails sealed under the image's key material with their own derivation: the
 * thumbnail key is HKDF-SHA-256(the content key, label "sisp/2 thumbnail key"), and
 * the envelope's context binds the image id under its own label, so a thumbnail and
 * its image never share a key or open as each other. Whoever may read the image may
 * read its thumbnail, and no one else.
 */
import { concatBytes, utf8 } from '../protocol/bytes.js';
import { openStream, sealStream } from './envelope-stream.js';
import type { AeadFactory } from './aead.js';
import { hkdfExpand, hkdfExtract } from './hkdf.js';

const KEY_LABEL = utf8('sisp/2 thumbnail key');
const CONTEXT_LABEL = utf8('sisp/2 thumbnail\n');

export function thumbnailKey(contentKey: Uint8Array): Uint8Array {
  return hkdfExpand(
    'SHA-256',
    hkdfExtract('SHA-256', contentKey, new Uint8Array(0)),
    KEY_LABEL,
    32,
  );
}

export function thumbnailContext(imageId: Uint8Array): Uint8Array {
  return concatBytes(CONTEXT_LABEL, imageId);
}

async function collect(pieces: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for await (const piece of pieces) parts.push(piece);
  return concatBytes(...parts);
}

export function sealThumbnail(
  contentKey: Uint8Array,
  imageId: Uint8Array,
  thumbnail: Uint8Array,
  aead?: AeadFactory,
): Promise<Uint8Array> {
  const options = { key: thumbnailKey(contentKey), context: thumbnailContext(imageId) };
  return collect(sealStream([thumbnail], aead === undefined ? options : { ...options, aead }));
}

/** E_TAMPERED if it was not sealed under this image's key. */
export function openThumbnail(
  contentKey: Uint8Array,
  imageId: Uint8Array,
  sealed: Uint8Array,
  aead?: AeadFactory,
): Promise<Uint8Array> {
  const options = { key: thumbnailKey(contentKey), context: thumbnailContext(imageId) };
  return collect(openStream([sealed], aead === undefined ? options : { ...options, aead }));
}
