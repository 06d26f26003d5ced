/**
 * Showing an image in the terminal: the kitty graphics protocol or iTerm2 inline
 * images where the terminal says it has them, otherwise half-blocks (two pixels per
 * character cell) in as many colours as the terminal says it has. Decoding goes through sharp with a pixel limit, so a
 * decompression bomb is refused rather than decoded.
 */
import { spawn } from 'node:child_process';
import { sispError } from '../protocol/errors.js';
import { loadSharp, type SharpImage } from './sharp.js';

type Raw = { data: Buffer; info: { width: number; height: number; channels: number } };

/** 64 megapixels: far beyond any photo, far below what would exhaust memory. */
const PIXEL_LIMIT = 64 * 1024 * 1024;

export type Protocol = 'kitty' | 'iterm2' | 'halfblock';

/** A file's path, or the image's bytes (a thumbnail). */
export type ImageInput = string | Buffer;

export function detectProtocol(env: NodeJS.ProcessEnv): Protocol {
  if (
    env.KITTY_WINDOW_ID !== undefined ||
    env.TERM === 'xterm-kitty' ||
    env.TERM_PROGRAM === 'ghostty'
  )
    return 'kitty';
  if (
    env.TERM_PROGRAM === 'iTerm.app' ||
    env.TERM_PROGRAM === 'WezTerm' ||
    env.LC_TERMINAL === 'iTerm2'
  )
    return 'iterm2';
  return 'halfblock';
}

function cannotDecode(): never {
  throw sispError('E_BAD_REQUEST', 'the image cannot be decoded for display');
}

/** Width and height as displayed (EXIF orientation applied), from the header alone. */
export async function imageDimensions(
  path: ImageInput,
): Promise<{ width: number; height: number }> {
  const sharp = await loadSharp();
  let metadata: Awaited<ReturnType<SharpImage['metadata']>>;
  try {
    // Only the header is read here, so no pixel limit: decoder() applies it, and can
    // then say that the image is too large rather than that it is unreadable.
    metadata = await sharp(path, { limitInputPixels: false }).metadata();
  } catch {
    return cannotDecode();
  }
  const rotated = (metadata.orientation ?? 1) >= 5;
  const width = metadata.width;
  const height = metadata.pageHeight ?? metadata.height;
  return rotated ? { width: height, height: width } : { width, height };
}

/**
 * A decoder for the image, refused up front if its header declares more pixels than
 * the limit (a decompression bomb); sharp's own limit stays as a second guard.
 */
async function decoder(path: ImageInput): Promise<SharpImage> {
  const { width, height } = await imageDimensions(path);
  if (width * height > PIXEL_LIMIT)
    throw sispError(
      'E_TOO_LARGE',
      `the image is ${width}x${height} pixels, more than a terminal preview decodes (64 megapixels): ` +
        'use --open to view it in your image viewer, or sisp download to save it',
    );
  const sharp = await loadSharp();
  // rotate() applies EXIF orientation, so a phone photo shows the right way up.
  return sharp(path, { limitInputPixels: PIXEL_LIMIT, failOn: 'error', animated: false }).rotate();
}

/** How many colours the terminal shows, from what it says about itself (no-color.org, COLORTERM). */
export type ColourDepth = 'truecolor' | '256' | '16' | 'none';

/**
 * Truecolor only when COLORTERM says so; 256 colours when TERM says so; NO_COLOR
 * (any value) means characters alone; a dumb terminal gets no picture at all
 * (`displayable` is false) and the command shows the metadata instead.
 */
export function detectColourDepth(env: NodeJS.ProcessEnv): ColourDepth {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 'none';
  if (env.COLORTERM === 'truecolor' || env.COLORTERM === '24bit') return 'truecolor';
  if (env.TERM !== undefined && /256col/.test(env.TERM)) return '256';
  return '16';
}

/** False for a terminal that cannot draw at all: TERM=dumb or unset. */
export function canDraw(env: NodeJS.ProcessEnv): boolean {
  return env.TERM !== undefined && env.TERM !== '' && env.TERM !== 'dumb';
}

type Rgb = readonly [number, number, number];

/** The 16 ANSI colours as xterm draws them, in SGR order (30-37, then 90-97). */
const ANSI16: readonly Rgb[] = [
  [0, 0, 0],
  [205, 0, 0],
  [0, 205, 0],
  [205, 205, 0],
  [0, 0, 238],
  [205, 0, 205],
  [0, 205, 205],
  [229, 229, 229],
  [127, 127, 127],
  [255, 0, 0],
  [0, 255, 0],
  [255, 255, 0],
  [92, 92, 255],
  [255, 0, 255],
  [0, 255, 255],
  [255, 255, 255],
];

function distance(a: Rgb, b: Rgb): number {
  return (a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2 + (a[2] - b[2]) ** 2;
}

function nearestAnsi16(rgb: Rgb): number {
  let best = 0;
  for (let i = 1; i < ANSI16.length; i++)
    if (distance(rgb, ANSI16[i] ?? rgb) < distance(rgb, ANSI16[best] ?? rgb)) best = i;
  return best;
}

/** The xterm 256-colour index: the 6x6x6 cube, or the grey ramp when that is closer. */
export function xterm256(rgb: Rgb): number {
  const level = (value: number) =>
    value < 48 ? 0 : value < 115 ? 1 : Math.floor((value - 35) / 40);
  const steps = [0, 95, 135, 175, 215, 255];
  const cube = rgb.map(level) as [number, number, number];
  const cubeRgb: Rgb = [steps[cube[0]] ?? 0, steps[cube[1]] ?? 0, steps[cube[2]] ?? 0];
  const average = (rgb[0] + rgb[1] + rgb[2]) / 3;
  const grey = Math.max(0, Math.min(23, Math.round((average - 8) / 10)));
  const greyValue = 8 + grey * 10;
  const greyRgb: Rgb = [greyValue, greyValue, greyValue];
  return distance(rgb, greyRgb) < distance(rgb, cubeRgb)
    ? 232 + grey
    : 16 + 36 * cube[0] + 6 * cube[1] + cube[2];
}

function sgr(rgb: Rgb, background: boolean, depth: ColourDepth): string {
  if (depth === 'truecolor') return `\x1b[${background ? 48 : 38};2;${rgb.join(';')}m`;
  if (depth === '256') return `\x1b[${background ? 48 : 38};5;${xterm256(rgb)}m`;
  const index = nearestAnsi16(rgb);
  const base = (index < 8 ? 30 : 90) + (background ? 10 : 0);
  return `\x1b[${base + (index % 8)}m`;
}

/** Characters by brightness, for a terminal without colour. */
const RAMP = ' .:-=+*#%@';

function cell(top: Rgb, bottom: Rgb, depth: ColourDepth): string {
  if (depth === 'none') {
    const light = (top[0] + top[1] + top[2] + bottom[0] + bottom[1] + bottom[2]) / (6 * 255);
    return RAMP[Math.min(RAMP.length - 1, Math.floor(light * RAMP.length))] ?? ' ';
  }
  return `${sgr(top, false, depth)}${sgr(bottom, true, depth)}▀`;
}

/**
 * Renders to half-block rows: "▀" with the top pixel as foreground and the bottom as
 * background (two pixels per cell); without colour, one brightness character per cell.
 */
export async function renderHalfBlocks(
  path: ImageInput,
  columns: number,
  rows: number,
  depth: ColourDepth = 'truecolor',
): Promise<string> {
  const image = await decoder(path);
  let raw: Raw;
  try {
    raw = await image
      .resize(Math.max(1, columns), Math.max(2, rows * 2), { fit: 'inside' })
      .flatten({ background: '#000000' })
      .raw()
      .toBuffer({ resolveWithObject: true });
  } catch {
    return cannotDecode();
  }
  const { data, info } = raw;
  const pixel = (x: number, y: number): Rgb => {
    if (y >= info.height) return [0, 0, 0];
    const at = (y * info.width + x) * info.channels;
    return [data[at] ?? 0, data[at + 1] ?? 0, data[at + 2] ?? 0];
  };
  const lines: string[] = [];
  for (let y = 0; y < info.height; y += 2) {
    let line = '';
    for (let x = 0; x < info.width; x++) line += cell(pixel(x, y), pixel(x, y + 1), depth);
    lines.push(depth === 'none' ? line.trimEnd() : `${line}\x1b[0m`);
  }
  return `${lines.join('\n')}\n`;
}

async function asPng(path: string, columns: number): Promise<Buffer> {
  const image = await decoder(path);
  try {
    // Roughly 10 pixels per cell is what these terminals draw at.
    return await image
      .resize({ width: Math.max(1, columns) * 10, withoutEnlargement: true })
      .png()
      .toBuffer();
  } catch {
    return cannotDecode();
  }
}

export async function renderKitty(path: string, columns: number): Promise<string> {
  const base64 = (await asPng(path, columns)).toString('base64');
  let out = '';
  for (let offset = 0; offset < base64.length; offset += 4096) {
    const more = offset + 4096 < base64.length ? 1 : 0;
    const control = offset === 0 ? `a=T,f=100,c=${columns},m=${more}` : `m=${more}`;
    out += `\x1b_G${control};${base64.slice(offset, offset + 4096)}\x1b\\`;
  }
  return `${out}\n`;
}

export async function renderIterm2(path: string, columns: number): Promise<string> {
  const png = await asPng(path, columns);
  return `\x1b]1337;File=inline=1;size=${png.length};width=${columns};preserveAspectRatio=1:${png.toString('base64')}\x07\n`;
}

export async function renderForTerminal(
  path: string,
  terminal: { protocol: Protocol; depth: ColourDepth },
  columns: number,
  rows: number,
): Promise<string> {
  if (terminal.protocol === 'kitty') return renderKitty(path, columns);
  if (terminal.protocol === 'iterm2') return renderIterm2(path, columns);
  return renderHalfBlocks(path, columns, rows, terminal.depth);
}

/** Hands the file to the desktop's viewer. */
export function openWithSystemViewer(path: string): Promise<void> {
  const command =
    process.platform === 'darwin' ? 'open' : process.platform === 'win32' ? 'explorer' : 'xdg-open';
  return new Promise((resolve, reject) => {
    const child = spawn(command, [path], { stdio: 'ignore', detached: true });
    child.once('error', () => {
      reject(sispError('E_UNAVAILABLE', `cannot run ${command} to open the image`));
    });
    child.once('spawn', () => {
      child.unref();
      resolve();
    });
  });
}
