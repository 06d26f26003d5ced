/**
 * Metadata in image files, found and removed without touching a pixel: JPEG APP
 * segments, PNG text and eXIf chunks, WebP EXIF and XMP chunks are dropped at the
 * container level, and the compressed image data is copied byte for byte. Colour
 * information (ICC profiles, JFIF, Adobe, PNG colour chunks) stays, and so does the
 * orientation, rewritten as a minimal EXIF block holding only that, so the image
 * still shows the right way up. GIF files are left as they are (they carry no EXIF).
 */
import exifr from 'exifr';
import { sispError } from '../protocol/errors.js';
import { stripJpeg, jpegExif } from './metadata-jpeg.js';
import { pngExif, stripPng } from './metadata-png.js';
import { stripWebp, webpExif } from './metadata-webp.js';

export interface Coordinates {
  readonly latitude: number;
  readonly longitude: number;
}

export interface Stripped {
  readonly bytes: Uint8Array;
  /** What was removed, in words: "EXIF", "XMP", "IPTC", "PNG text", ... */
  readonly removed: readonly string[];
}

type Format = 'jpeg' | 'png' | 'webp' | 'gif' | 'other';

export function formatOf(bytes: Uint8Array): Format {
  if (bytes[0] === 0xff && bytes[1] === 0xd8) return 'jpeg';
  if (bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  const ascii = (from: number, to: number) => String.fromCharCode(...bytes.subarray(from, to));
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'webp';
  if (ascii(0, 3) === 'GIF') return 'gif';
  return 'other';
}

/** The EXIF block (a TIFF structure) the file carries, if any. */
export function exifOf(bytes: Uint8Array): Uint8Array | undefined {
  switch (formatOf(bytes)) {
    case 'jpeg':
      return jpegExif(bytes);
    case 'png':
      return pngExif(bytes);
    case 'webp':
      return webpExif(bytes);
    default:
      return undefined;
  }
}

/** GPS tags that say where (or when and how high) a photo was taken. */
const LOCATION_TAGS = /^GPS(?!VersionID$)/;

/**
 * The GPS data in the file's EXIF, if it has any: with the coordinates when they
 * are readable, otherwise empty (still location data, and still worth a warning).
 */
export async function gpsOf(bytes: Uint8Array): Promise<Partial<Coordinates> | undefined> {
  const exif = exifOf(bytes);
  if (exif === undefined) return undefined;
  try {
    const tags = ((await exifr.parse(exif, { gps: true, exif: false })) ?? {}) as Record<
      string,
      unknown
    >;
    if (!Object.keys(tags).some((tag) => LOCATION_TAGS.test(tag))) return undefined;
    const { latitude, longitude } = tags;
    const valid = (value: unknown): value is number =>
      typeof value === 'number' && Number.isFinite(value);
    return valid(latitude) && valid(longitude) ? { latitude, longitude } : {};
  } catch {
    // EXIF too damaged to read: nothing to show, and stripping removes it anyway.
    return undefined;
  }
}

/** EXIF orientation (1..8), 1 when absent or unreadable. */
export async function orientationOf(bytes: Uint8Array): Promise<number> {
  const exif = exifOf(bytes);
  if (exif === undefined) return 1;
  try {
    const orientation = (await exifr.orientation(exif)) as unknown;
    return typeof orientation === 'number' && orientation >= 1 && orientation <= 8
      ? orientation
      : 1;
  } catch {
    return 1;
  }
}

/**
 * A TIFF block with one IFD entry, Orientation (0x0112), big-endian: what is kept of
 * the EXIF so that the image still shows the right way up.
 */
export function orientationOnlyExif(orientation: number): Uint8Array {
  return Uint8Array.of(
    0x4d,
    0x4d,
    0x00,
    0x2a,
    0x00,
    0x00,
    0x00,
    0x08, // "MM", 42, IFD at 8
    0x00,
    0x01, // one entry
    0x01,
    0x12,
    0x00,
    0x03,
    0x00,
    0x00,
    0x00,
    0x01, // Orientation, SHORT, count 1
    0x00,
    orientation,
    0x00,
    0x00, // the value, padded
    0x00,
    0x00,
    0x00,
    0x00, // no next IFD
  );
}

/** Removes EXIF, XMP, IPTC, GPS and text metadata losslessly; keeps colour and orientation. */
export async function stripMetadata(bytes: Uint8Array): Promise<Stripped> {
  const orientation = await orientationOf(bytes);
  const kept = orientation === 1 ? undefined : orientationOnlyExif(orientation);
  switch (formatOf(bytes)) {
    case 'jpeg':
      return stripJpeg(bytes, kept);
    case 'png':
      return stripPng(bytes, kept);
    case 'webp':
      return stripWebp(bytes, kept);
    case 'gif':
      return { bytes, removed: [] };
    default:
      throw sispError('E_BAD_REQUEST', 'not an image whose metadata sisp can strip');
  }
}
