import { strict as assert } from 'node:assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  canDraw,
  detectColourDepth,
  xterm256,
  detectProtocol,
  imageDimensions,
  renderHalfBlocks,
  renderIterm2,
  renderKitty,
} from '../../src/cli/display.js';
import { inspectImage } from '../../src/cli/image.js';
import { isSispError } from '../../src/protocol/errors.js';
import { IMAGES } from '../support/paths.js';
import { pngDeclaring } from '../support/png.js';

/** Escape characters made visible, so the assertions read plainly. */
const visible = (text: string) => text.replaceAll('\u001b', 'ESC');

describe('image checks and terminal display', () => {
  it('recognises the four formats by content, whatever the file is called', async () => {
    const cases: [string, string][] = [
      ['hopper.jpg', 'image/jpeg'],
      ['hopper.png', 'image/png'],
      ['hopper.gif', 'image/gif'],
      ['hopper.webp', 'image/webp'],
      ['iss634.gif', 'image/gif'],
      ['pil_sample_cmyk.jpg', 'image/jpeg'],
    ];
    for (const [file, type] of cases)
      assert.equal((await inspectImage(join(IMAGES, file))).contentType, type, file);
    await assert.rejects(inspectImage(join(IMAGES, 'broken.png')), (e) =>
      isSispError(e, 'E_BAD_REQUEST'),
    );
    await assert.rejects(inspectImage(join(IMAGES, 'README.md')), (e) =>
      isSispError(e, 'E_BAD_REQUEST'),
    );
  });

  it('renders truecolor half-blocks: two pixel rows per text row, bounded by the terminal', async () => {
    const out = await renderHalfBlocks(join(IMAGES, 'hopper.png'), 40, 10);
    const rows = out.trimEnd().split('\n');
    assert.equal(rows.length, 10);
    assert.ok(rows.every((row) => visible(row).endsWith('ESC[0m')));
    assert.equal((rows[0]?.match(/▀/g) ?? []).length, 20, '128x128 fits 40x20 pixels as 20x20');
    assert.match(visible(out), /ESC\[38;2;\d+;\d+;\d+mESC\[48;2;\d+;\d+;\d+m▀/);
  });

  it('applies EXIF orientation: the rotated file renders like the upright one', async () => {
    // hopper_orientation_6.jpg stores hopper rotated, with orientation 6 to undo it.
    const colours = (text: string) =>
      [...text.matchAll(/38;2;(\d+);(\d+);(\d+)m/g)].flatMap((m) => m.slice(1).map(Number));
    const upright = colours(await renderHalfBlocks(join(IMAGES, 'hopper.jpg'), 16, 8));
    const rotated = colours(
      await renderHalfBlocks(join(IMAGES, 'hopper_orientation_6.jpg'), 16, 8),
    );
    assert.equal(upright.length, rotated.length);
    const difference =
      upright.reduce((sum, value, i) => sum + Math.abs(value - (rotated[i] ?? 0)), 0) /
      upright.length;
    assert.ok(difference < 10, `mean channel difference ${difference}`);
    assert.deepEqual(await imageDimensions(join(IMAGES, 'flower2.jpg')), {
      width: 300,
      height: 225,
    });
  });

  it('refuses to decode a decompression bomb or a truncated image for display', async () => {
    await assert.rejects(renderHalfBlocks(join(IMAGES, 'decompression_bomb.gif'), 80, 24), (e) =>
      isSispError(e),
    );
    await assert.rejects(renderHalfBlocks(join(IMAGES, 'truncated_jpeg.jpg'), 80, 24), (e) =>
      isSispError(e),
    );
  });

  it('refuses an image whose header declares more than 64 megapixels, before decoding it', async () => {
    // A valid PNG header for 10000 x 10000 (100 MP), with a token of compressed data.
    const png = pngDeclaring(10_000, 10_000);
    const dir = mkdtempSync(join(tmpdir(), 'sisp-display-'));
    try {
      const path = join(dir, 'huge.png');
      writeFileSync(path, png);
      assert.deepEqual(await imageDimensions(path), { width: 10_000, height: 10_000 });
      await assert.rejects(renderHalfBlocks(path, 80, 24), (e) => isSispError(e, 'E_TOO_LARGE'));
      await assert.rejects(renderKitty(path, 80), (e) => isSispError(e, 'E_TOO_LARGE'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('speaks the kitty and iTerm2 protocols when the terminal says it has them', async () => {
    assert.equal(detectProtocol({ TERM: 'xterm-kitty' }), 'kitty');
    assert.equal(detectProtocol({ TERM_PROGRAM: 'iTerm.app' }), 'iterm2');
    assert.equal(detectProtocol({ TERM: 'xterm-256color' }), 'halfblock');
    assert.match(
      visible(await renderKitty(join(IMAGES, 'hopper.png'), 20)),
      /^ESC_Ga=T,f=100,c=20,m=\d;[A-Za-z0-9+/=]+ESC\\/,
    );
    assert.match(
      visible(await renderIterm2(join(IMAGES, 'hopper.png'), 20)),
      /^ESC\]1337;File=inline=1;size=\d+;/,
    );
  });
});

describe('display honours what the terminal says it can do', () => {
  it('truecolor only with COLORTERM, 256 colours by TERM, none with NO_COLOR, nothing on a dumb terminal', () => {
    const table: [NodeJS.ProcessEnv, string][] = [
      [{ TERM: 'xterm-256color', COLORTERM: 'truecolor' }, 'truecolor'],
      [{ TERM: 'xterm-256color', COLORTERM: '24bit' }, 'truecolor'],
      [{ TERM: 'xterm-256color' }, '256'],
      [{ TERM: 'screen-256color' }, '256'],
      [{ TERM: 'xterm' }, '16'],
      [{ TERM: 'linux' }, '16'],
      [{ TERM: 'xterm-256color', COLORTERM: 'truecolor', NO_COLOR: '1' }, 'none'],
      [{ TERM: 'xterm', NO_COLOR: '' }, '16'],
    ];
    for (const [env, depth] of table)
      assert.equal(detectColourDepth(env), depth, JSON.stringify(env));
    assert.equal(canDraw({ TERM: 'dumb' }), false);
    assert.equal(canDraw({}), false);
    assert.equal(canDraw({ TERM: 'xterm' }), true);
  });

  it('maps colours onto the xterm palette: cube corners, and greys onto the grey ramp', () => {
    assert.equal(xterm256([0, 0, 0]), 16);
    assert.equal(xterm256([255, 255, 255]), 231);
    assert.equal(xterm256([255, 0, 0]), 196);
    assert.equal(xterm256([0, 0, 255]), 21);
    assert.equal(xterm256([128, 128, 128]), 244);
  });

  it('renders with only the escapes each depth allows', async () => {
    const path = join(IMAGES, 'hopper.png');
    const truecolor = visible(await renderHalfBlocks(path, 20, 6, 'truecolor'));
    assert.match(truecolor, /ESC\[38;2;/);
    const palette = visible(await renderHalfBlocks(path, 20, 6, '256'));
    assert.match(palette, /ESC\[38;5;\d+mESC\[48;5;\d+m▀/);
    assert.doesNotMatch(palette, /;2;/);
    const basic = visible(await renderHalfBlocks(path, 20, 6, '16'));
    for (const code of basic.matchAll(/ESC\[(\d+)m/g)) {
      const n = Number(code[1]);
      assert.ok(
        n === 0 ||
          (n >= 30 && n <= 37) ||
          (n >= 40 && n <= 47) ||
          (n >= 90 && n <= 97) ||
          (n >= 100 && n <= 107),
        `SGR ${n}`,
      );
    }
    const plain = await renderHalfBlocks(path, 20, 6, 'none');
    assert.ok(!plain.includes('\u001b'), 'no escapes without colour');
    assert.equal(plain.trimEnd().split('\n').length, 6);
    assert.match(plain, /[.:=+*#%@-]/);
  });
});
