/**
 * Showing an image in the terminal: the kitty graphics protocol or iTerm2 inline
 * images where the terminal says it has them, otherwise truecolor half-blocks (two
 * pixels per character cell). Decoding goes through sharp with a pixel limit, so a
 * decompression bomb is refused rather than decoded.
 */
import { spawn } from 'node:child_process';
import { sispError } from '../protocol/errors.js';
import { loadSharp, type SharpImage } from './sharp.js';

type Raw = { data: Buffer; info: { width: number; height: number; channels: number } };

/** 64 megapixels: far beyond any photo, far below what would exhaust memory. */
const PIXEL_LIMIT = 64 * 1024 * 1024;

export type Protocol = 'kitty' | 'iterm2' | 'halfblock';

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
export async function imageDimensions(path: string): Promise<{ width: number; height: number }> {
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
async function decoder(path: string): Promise<SharpImage> {
  const { width, height } = await imageDimensions(path);
  if (width * height > PIXEL_LIMIT)
    throw sispError('E_TOO_LARGE', 'the image is too large to display safely');
  const sharp = await loadSharp();
  // rotate() applies EXIF orientation, so a phone photo shows the right way up.
  return sharp(path, { limitInputPixels: PIXEL_LIMIT, failOn: 'error', animated: false }).rotate();
}

/** Renders to half-block rows: "▀" with the top pixel as foreground, bottom as background. */
export async function renderHalfBlocks(
  path: string,
  columns: number,
  rows: number,
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
  const channels = info.channels;
  const lines: string[] = [];
  for (let y = 0; y < info.height; y += 2) {
    let line = '';
    for (let x = 0; x < info.width; x++) {
      const top = (y * info.width + x) * channels;
      const bottom = y + 1 < info.height ? ((y + 1) * info.width + x) * channels : -1;
      const fg = `${data[top] ?? 0};${data[top + 1] ?? 0};${data[top + 2] ?? 0}`;
      const bg =
        bottom < 0
          ? '0;0;0'
          : `${data[bottom] ?? 0};${data[bottom + 1] ?? 0};${data[bottom + 2] ?? 0}`;
      line += `\x1b[38;2;${fg}m\x1b[48;2;${bg}m▀`;
    }
    lines.push(`${line}\x1b[0m`);
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
  protocol: Protocol,
  columns: number,
  rows: number,
): Promise<string> {
  if (protocol === 'kitty') return renderKitty(path, columns);
  if (protocol === 'iterm2') return renderIterm2(path, columns);
  return renderHalfBlocks(path, columns, rows);
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
