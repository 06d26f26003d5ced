/**
 * WebP at the RIFF chunk level: EXIF and XMP chunks are dropped and the extended
 * header's flags for them cleared; the image chunks are copied byte for byte.
 */
import { concatBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { Stripped } from './metadata.js';

/** A chunk type's four ASCII letters as bytes. */
function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
}

const EXIF_FLAG = 0x08;
const XMP_FLAG = 0x04;
const EXIF_PREFIX = 'Exif\0\0';

interface Chunk {
  readonly fourcc: string;
  readonly start: number;
  readonly data: number;
  readonly size: number;
  readonly end: number;
}

/** `partial`: the bytes may be only the file's beginning; stop quietly where they end. */
function chunks(bytes: Uint8Array, partial = false): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const list: Chunk[] = [];
  const riffEnd = Math.min(bytes.length, 8 + view.getUint32(4, true));
  let at = 12;
  while (at + 8 <= riffEnd) {
    const fourcc = String.fromCharCode(...bytes.subarray(at, at + 4));
    const size = view.getUint32(at + 4, true);
    const end = at + 8 + size + (size % 2);
    if (partial && at + 8 + size > riffEnd) break;
    if (at + 8 + size > riffEnd)
      throw sispError('E_BAD_REQUEST', 'the WebP file is malformed: a chunk runs past its end');
    list.push({ fourcc, start: at, data: at + 8, size, end: Math.min(end, riffEnd) });
    at = end;
  }
  return list;
}

export function webpExif(bytes: Uint8Array): Uint8Array | undefined {
  const found = chunks(bytes, true).find((chunk) => chunk.fourcc === 'EXIF');
  if (found === undefined) return undefined;
  const data = bytes.subarray(found.data, found.data + found.size);
  const prefixed = String.fromCharCode(...data.subarray(0, 6)) === EXIF_PREFIX;
  return prefixed ? data.subarray(6) : data;
}

function riffChunk(fourcc: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  head.set(asciiBytes(fourcc));
  new DataView(head.buffer).setUint32(4, data.length, true);
  return concatBytes(head, data, data.length % 2 === 1 ? new Uint8Array(1) : new Uint8Array(0));
}

export function stripWebp(bytes: Uint8Array, keptExif: Uint8Array | undefined): Stripped {
  const list = chunks(bytes);
  const removed = new Set<string>();
  const parts: Uint8Array[] = [];
  const extended = list.some((chunk) => chunk.fourcc === 'VP8X');
  for (const chunk of list) {
    if (chunk.fourcc === 'EXIF' || chunk.fourcc === 'XMP ') {
      removed.add(chunk.fourcc === 'EXIF' ? 'EXIF' : 'XMP');
      continue;
    }
    const copy = bytes.slice(chunk.start, chunk.end);
    if (chunk.fourcc === 'VP8X' && copy.length > 8) {
      const flags = (copy[8] ?? 0) & ~(EXIF_FLAG | XMP_FLAG);
      copy[8] = keptExif === undefined ? flags : flags | EXIF_FLAG;
    }
    parts.push(copy);
  }
  // Only the extended format can carry EXIF; it goes after the image data.
  if (keptExif !== undefined && extended) parts.push(riffChunk('EXIF', keptExif));
  const body = concatBytes(...parts);
  const header = new Uint8Array(12);
  header.set(bytes.subarray(0, 12));
  new DataView(header.buffer).setUint32(4, body.length + 4, true);
  return { bytes: concatBytes(header, body), removed: [...removed] };
}
