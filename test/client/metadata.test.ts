/**
 * Metadata found and stripped without touching a pixel: the real fixtures (EXIF with
 * GPS, orientation, eXIf in PNG) and WebP made with EXIF, XMP and GPS by libvips;
 * every stripped file still decodes to exactly the same pixels.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import sharp from 'sharp';
import {
  exifOf,
  formatOf,
  gpsOf,
  orientationOf,
  stripMetadata,
} from '../../src/client/metadata.js';
import { isSispError } from '../../src/protocol/errors.js';
import { IMAGES } from '../support/paths.js';

const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(join(IMAGES, name)));

/** The decoded pixels, as stored (no orientation applied), and the dimensions. */
async function pixels(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

async function assertSamePixels(before: Uint8Array, after: Uint8Array): Promise<void> {
  const [a, b] = await Promise.all([pixels(before), pixels(after)]);
  assert.equal(b.width, a.width);
  assert.equal(b.height, a.height);
  assert.ok(a.data.equals(b.data), 'the pixels are byte-identical after decoding');
}

/** A WebP with EXIF (GPS included) and XMP, made by libvips. */
async function webpWithMetadata(): Promise<Uint8Array> {
  const xmp =
    '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"/></x:xmpmeta>';
  return new Uint8Array(
    await sharp(fixture('hopper.jpg'))
      .withExif({
        IFD0: { Copyright: 'someone' },
        IFD3: {
          GPSLatitudeRef: 'N',
          GPSLatitude: '52/1 22/1 1234/100',
          GPSLongitudeRef: 'E',
          GPSLongitude: '4/1 53/1 4321/100',
        },
      })
      .withXmp(xmp)
      .withMetadata({ orientation: 6 })
      .webp({ lossless: true })
      .toBuffer(),
  );
}

describe('metadata: found, and stripped losslessly', () => {
  it('finds the GPS position in a real photo, and none where there is none', async () => {
    // Pillow's fixture has a GPS directory with placeholder values: GPS data, no readable position.
    const gps = await gpsOf(fixture('exif_gps.jpg'));
    assert.deepEqual(gps, {});
    for (const name of ['hopper.jpg', 'hopper.png', 'hopper.gif', 'hopper.webp', 'flower2.jpg'])
      assert.equal(await gpsOf(fixture(name)), undefined, name);
    // Only the beginning of a file is enough for a JPEG.
    assert.deepEqual(await gpsOf(fixture('exif_gps.jpg').subarray(0, 4096)), gps);
  });

  it('JPEG: EXIF with GPS goes, the pixels stay byte-identical, and stripping twice changes nothing', async () => {
    const original = fixture('exif_gps.jpg');
    const stripped = await stripMetadata(original);
    assert.ok(stripped.removed.includes('EXIF'));
    assert.equal(await gpsOf(stripped.bytes), undefined);
    assert.equal(exifOf(stripped.bytes), undefined);
    assert.ok(stripped.bytes.length < original.length);
    await assertSamePixels(original, stripped.bytes);
    const again = await stripMetadata(stripped.bytes);
    assert.deepEqual(again.bytes, stripped.bytes);
    assert.deepEqual(again.removed, []);
    const metadata = await sharp(stripped.bytes).metadata();
    assert.equal(metadata.exif, undefined);
  });

  it('JPEG: the orientation is kept (alone), so a phone photo still shows the right way up', async () => {
    const original = fixture('hopper_orientation_6.jpg');
    assert.equal(await orientationOf(original), 6);
    const stripped = await stripMetadata(original);
    assert.equal(await orientationOf(stripped.bytes), 6);
    assert.equal((await sharp(stripped.bytes).metadata()).orientation, 6);
    assert.equal(exifOf(stripped.bytes)?.length, 26, 'a minimal EXIF: one entry');
    await assertSamePixels(original, stripped.bytes);
    // Shown upright, both look the same.
    const upright = async (bytes: Uint8Array) => sharp(bytes).rotate().raw().toBuffer();
    assert.ok((await upright(original)).equals(await upright(stripped.bytes)));
  });

  it('JPEG: colour information stays (CMYK with its Adobe segment still decodes the same)', async () => {
    const original = fixture('pil_sample_cmyk.jpg');
    const stripped = await stripMetadata(original);
    await assertSamePixels(original, stripped.bytes);
  });

  it('PNG: the eXIf chunk goes, every other chunk stays, the pixels stay', async () => {
    const original = fixture('exif.png');
    assert.ok(exifOf(original) !== undefined);
    const stripped = await stripMetadata(original);
    assert.ok(stripped.removed.includes('EXIF'));
    assert.equal(exifOf(stripped.bytes), undefined);
    await assertSamePixels(original, stripped.bytes);
    assert.equal(formatOf(stripped.bytes), 'png');
  });

  it('WebP: EXIF (with GPS) and XMP go, their flags are cleared, the orientation and pixels stay', async () => {
    const original = await webpWithMetadata();
    const position = await gpsOf(original);
    assert.ok(
      position?.latitude !== undefined && Math.abs(position.latitude - 52.367) < 0.01,
      'the made WebP carries GPS',
    );
    assert.equal(await orientationOf(original), 6);
    const stripped = await stripMetadata(original);
    assert.deepEqual([...stripped.removed].sort(), ['EXIF', 'XMP']);
    assert.equal(await gpsOf(stripped.bytes), undefined);
    assert.equal(await orientationOf(stripped.bytes), 6);
    const metadata = await sharp(stripped.bytes).metadata();
    assert.equal(metadata.xmp, undefined);
    assert.equal(metadata.orientation, 6);
    await assertSamePixels(original, stripped.bytes);
    // The RIFF size is right: the file ends where it says.
    const view = new DataView(stripped.bytes.buffer, stripped.bytes.byteOffset);
    assert.equal(view.getUint32(4, true) + 8, stripped.bytes.length);
  });

  it('GIF is left as it is; a file that is not an image, or is malformed, is refused plainly', async () => {
    const gif = fixture('iss634.gif');
    assert.deepEqual((await stripMetadata(gif)).bytes, gif);
    await assert.rejects(stripMetadata(new Uint8Array([1, 2, 3, 4])), (e) =>
      isSispError(e, 'E_BAD_REQUEST'),
    );
    const cut = fixture('exif_gps.jpg').subarray(0, 100);
    await assert.rejects(stripMetadata(cut), (e) => isSispError(e, 'E_BAD_REQUEST'));
    // A JPEG whose scan data is cut short keeps what it has: stripping never decodes.
    const truncated = fixture('truncated_jpeg.jpg');
    const stripped = await stripMetadata(truncated);
    assert.ok(stripped.bytes.length <= truncated.length);
  });
});
