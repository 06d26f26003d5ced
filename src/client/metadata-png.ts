/**
 * PNG at the chunk level: text (tEXt, zTXt, iTXt), EXIF (eXIf) and time (tIME)
 * chunks are dropped; every other chunk, image data and colour included, is copied
 * byte for byte.
 */
import { crc32 } from 'node:zlib';
import { concatBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { Stripped } from './metadata.js';

/** A chunk type's four ASCII letters as bytes. */
function asciiBytes(text: string): Uint8Array {
  return Uint8Array.from({ length: text.length }, (_, i) => text.charCodeAt(i));
}

const DROPPED: Record<string, string> = {
  tEXt: 'PNG text',
  zTXt: 'PNG text',
  iTXt: 'PNG text',
  eXIf: 'EXIF',
  tIME: 'PNG time',
};

interface Chunk {
  readonly type: string;
  readonly start: number;
  readonly data: number;
  readonly end: number;
}

/** `partial`: the bytes may be only the file's beginning; stop quietly where they end. */
function chunks(bytes: Uint8Array, partial = false): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const list: Chunk[] = [];
  let at = 8;
  while (at < bytes.length) {
    if (at + 12 > bytes.length) break; // trailing bytes after IEND are copied as they are
    const length = view.getUint32(at);
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    const end = at + 12 + length;
    if (partial && end > bytes.length) break;
    if (end > bytes.length)
      throw sispError('E_BAD_REQUEST', 'the PNG file is malformed: a chunk runs past its end');
    list.push({ type, start: at, data: at + 8, end });
    at = end;
    if (type === 'IEND') break;
  }
  return list;
}

export function pngExif(bytes: Uint8Array): Uint8Array | undefined {
  const found = chunks(bytes, true).find((chunk) => chunk.type === 'eXIf');
  return found === undefined ? undefined : bytes.subarray(found.data, found.end - 4);
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const head = new Uint8Array(8);
  new DataView(head.buffer).setUint32(0, data.length);
  head.set(asciiBytes(type), 4);
  const crc = new Uint8Array(4);
  new DataView(crc.buffer).setUint32(0, crc32(concatBytes(head.subarray(4), data)));
  return concatBytes(head, data, crc);
}

export function stripPng(bytes: Uint8Array, keptExif: Uint8Array | undefined): Stripped {
  const list = chunks(bytes);
  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  const removed = new Set<string>();
  for (const item of list) {
    const kind = DROPPED[item.type];
    if (kind === undefined) parts.push(bytes.subarray(item.start, item.end));
    else removed.add(kind);
    // The kept orientation goes right after the header chunk, before any image data.
    if (item.type === 'IHDR' && keptExif !== undefined) parts.push(chunk('eXIf', keptExif));
  }
  const last = list.at(-1);
  if (last !== undefined) parts.push(bytes.subarray(last.end));
  return { bytes: concatBytes(...parts), removed: [...removed] };
}
