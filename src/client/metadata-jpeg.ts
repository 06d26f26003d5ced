/**
 * JPEG at the container level: the segments before the first scan are walked and
 * metadata segments dropped; from the first scan (SOS) on, every byte is copied as
 * it is, so the compressed image is untouched.
 */
import { concatBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { Stripped } from './metadata.js';

const EXIF_HEADER = Uint8Array.of(0x45, 0x78, 0x69, 0x66, 0x00, 0x00); // "Exif\0\0"
const XMP_HEADER = 'http://ns.adobe.com/';

interface Segment {
  readonly marker: number;
  readonly start: number;
  /** Where its payload starts (after marker and length). */
  readonly body: number;
  readonly end: number;
}

function malformed(): never {
  throw sispError('E_BAD_REQUEST', 'the JPEG file is malformed: its segments run past its end');
}

/**
 * The segments from SOI up to (not including) the first SOS, and where SOS starts.
 * `partial`: the bytes may be only the file's beginning; stop quietly where they end.
 */
function segments(bytes: Uint8Array, partial = false): { list: Segment[]; scan: number } {
  const list: Segment[] = [];
  let at = 2;
  for (;;) {
    if (partial && at + 4 > bytes.length) return { list, scan: bytes.length };
    if (at + 4 > bytes.length || bytes[at] !== 0xff) return malformed();
    let markerAt = at + 1;
    while (bytes[markerAt] === 0xff) markerAt++; // fill bytes
    const marker = bytes[markerAt] ?? 0;
    if (marker === 0xda || marker === 0xd9) return { list, scan: at };
    const length = ((bytes[markerAt + 1] ?? 0) << 8) | (bytes[markerAt + 2] ?? 0);
    const end = markerAt + 1 + length;
    if (partial && end > bytes.length) return { list, scan: bytes.length };
    if (length < 2 || end > bytes.length) return malformed();
    list.push({ marker, start: at, body: markerAt + 3, end });
    at = end;
  }
}

function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  return bytes.length >= prefix.length && prefix.every((byte, i) => bytes[i] === byte);
}

function ascii(bytes: Uint8Array, length: number): string {
  return String.fromCharCode(...bytes.subarray(0, length));
}

/** What a segment is, if it is metadata to drop. */
function metadataKind(marker: number, payload: Uint8Array): string | undefined {
  if (marker === 0xe1) {
    if (startsWith(payload, EXIF_HEADER)) return 'EXIF';
    if (ascii(payload, XMP_HEADER.length) === XMP_HEADER) return 'XMP';
    return 'APP1 metadata';
  }
  if (marker === 0xed) return 'IPTC';
  if (marker === 0xfe) return 'comment';
  // APP3..APP12 and APP15 hold vendor metadata; APP0 (JFIF), APP2 (ICC, MPF) and APP14 (Adobe colour) stay.
  if ((marker >= 0xe3 && marker <= 0xec) || marker === 0xef) return 'vendor metadata';
  return undefined;
}

/** The EXIF block; `bytes` may be only the file's beginning. */
export function jpegExif(bytes: Uint8Array): Uint8Array | undefined {
  for (const segment of segments(bytes, true).list) {
    const payload = bytes.subarray(segment.body, segment.end);
    if (segment.marker === 0xe1 && startsWith(payload, EXIF_HEADER))
      return payload.subarray(EXIF_HEADER.length);
  }
  return undefined;
}

function app1(tiff: Uint8Array): Uint8Array {
  const length = 2 + EXIF_HEADER.length + tiff.length;
  return concatBytes(Uint8Array.of(0xff, 0xe1, length >> 8, length & 0xff), EXIF_HEADER, tiff);
}

export function stripJpeg(bytes: Uint8Array, keptExif: Uint8Array | undefined): Stripped {
  const { list, scan } = segments(bytes);
  const parts: Uint8Array[] = [bytes.subarray(0, 2)];
  const removed = new Set<string>();
  let placed = keptExif === undefined;
  for (const segment of list) {
    const kind = metadataKind(segment.marker, bytes.subarray(segment.body, segment.end));
    // The kept orientation goes after a leading JFIF segment, or first.
    if (!placed && segment.marker !== 0xe0 && keptExif !== undefined) {
      parts.push(app1(keptExif));
      placed = true;
    }
    if (kind === undefined) parts.push(bytes.subarray(segment.start, segment.end));
    else removed.add(kind);
  }
  if (!placed && keptExif !== undefined) parts.push(app1(keptExif));
  parts.push(bytes.subarray(scan));
  return { bytes: concatBytes(...parts), removed: [...removed] };
}
