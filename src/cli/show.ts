/**
 * `sisp display`: the verified image in the terminal, as well as the terminal can
 * draw it, or its metadata where it cannot (a pipe, TERM=dumb). Verified copies are
 * kept per image id, so displaying again downloads nothing.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { resolveImage } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { downloadImage } from '../core/download.js';
import { FileSink } from '../client/file-sink.js';
import type { Home } from '../client/home.js';
import { toHex } from '../protocol/bytes.js';
import { expected, type CommandOptions } from './commands.js';
import {
  canDraw,
  detectColourDepth,
  detectProtocol,
  imageDimensions,
  openWithSystemViewer,
  renderForTerminal,
} from './display.js';
import { jsonLine, quoteName, quoteReference, type Output } from './output.js';

export interface DisplayOptions extends CommandOptions {
  readonly open?: boolean;
  /** Columns to draw in (default: the terminal's width, at most 160). */
  readonly width?: number;
  readonly env?: NodeJS.ProcessEnv;
}

/** The largest --width accepted: wider than any terminal, small enough to decode quickly. */

async function verifiedCopy(
  client: SispClient,
  home: Home,
  image: Awaited<ReturnType<typeof resolveImage>>,
  options: DisplayOptions,
): Promise<{ path: string; fingerprint: string }> {
  const cacheDir = join(home.dir, 'cache', toHex(image.image));
  if (existsSync(cacheDir)) {
    const cached = (await readdir(cacheDir)).find((file) => !file.startsWith('.'));
    if (cached !== undefined)
      return {
        path: join(cacheDir, cached),
        fingerprint: (await home.getPin(image.owner))?.fingerprint ?? '',
      };
  }
  const result = await downloadImage(
    client,
    expected(image),
    new FileSink(cacheDir),
    options.signal === undefined ? {} : { signal: options.signal },
  );
  return { path: result.result, fingerprint: result.ownerFingerprint };
}

export async function commandDisplay(
  client: SispClient,
  home: Home,
  output: Output,
  reference: string,
  options: DisplayOptions,
): Promise<void> {
  const env = options.env ?? process.env;
  const image = await resolveImage(client, reference);
  const { path, fingerprint } = await verifiedCopy(client, home, image, options);
  const shown = quoteReference(image.owner, image.name);
  if (options.open === true) {
    await openWithSystemViewer(path);
    output.out.write(`${path}\n`);
    return;
  }
  if (output.out.isTTY === true && canDraw(env) && options.json !== true) {
    // A terminal that reports no size (0) is drawn as the common 80 x 24.
    const columns = options.width ?? Math.min(positive(output.out.columns) ?? 80, 160);
    // A chosen width decides the size alone; otherwise the picture fits the window.
    const rows =
      options.width === undefined ? Math.max(4, (positive(output.out.rows) ?? 24) - 3) : 10_000;
    const terminal = { protocol: detectProtocol(env), depth: detectColourDepth(env) };
    output.out.write(await renderForTerminal(path, terminal, columns, rows));
    output.out.write(`${shown}  ${image.contentType}  owner key ${fingerprint}\n`);
    return;
  }
  const { width, height } = await imageDimensions(path);
  if (options.json === true) {
    output.out.write(
      jsonLine({
        owner: image.owner,
        name: image.name,
        image: toHex(image.image),
        type: image.contentType,
        width,
        height,
        ownerFingerprint: fingerprint,
        path,
      }),
    );
    return;
  }
  output.out.write(
    `name: ${quoteName(image.name)}\nowner: ${image.owner}\ndimensions: ${width}x${height}\n` +
      `type: ${image.contentType}\nowner fingerprint: ${fingerprint}\n`,
  );
}

function positive(value: number | undefined): number | undefined {
  return value !== undefined && value > 0 ? value : undefined;
}
