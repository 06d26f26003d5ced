/**
 * The client's commands, shared by the one-shot CLI and the interactive prompt.
 * Each takes a connected client where it needs one and writes its result to `out`.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { toPem } from '../crypto/certificates.js';
import { listImages, resolveImage, type ListedImage } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { downloadImage, type DownloadResult } from '../core/download.js';
import { postImage, type PostRequest, type PostResult } from '../core/post.js';
import { FileSink } from '../client/file-sink.js';
import { openFileSource } from '../client/file-source.js';
import type { Home } from '../client/home.js';
import { toHex } from '../protocol/bytes.js';
import { isSispError, sispError } from '../protocol/errors.js';
import { normalizeUsername } from '../protocol/names.js';
import {
  detectProtocol,
  imageDimensions,
  openWithSystemViewer,
  renderForTerminal,
} from './display.js';
import { inspectImage } from './image.js';
import { safeLine } from './terminal.js';

export { listImages, resolveImage };

export interface Output {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
}

type Listed = ListedImage;

function progressBar(
  output: Output,
  label: string,
): { update: (done: number, total: number) => void; stop: () => void } {
  if (output.err.isTTY !== true) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% {value}/{total} MiB`,
      stream: output.err,
      hideCursor: true,
      clearOnComplete: true,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total) {
      const mib = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;
      if (!started) {
        bar.start(mib(total), 0);
        started = true;
      }
      bar.update(mib(done));
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

/**
 * One plain line for a failed command, the same in the CLI and the prompt: our own
 * errors say what went wrong; a file the user named gets its path and errno code;
 * anything else is a bug, and its text (which may hold internals) stays out.
 */
export function describeFailure(error: unknown): string {
  // A SispError's message may have come from the server: shown, but never as control.
  if (isSispError(error)) return safeLine(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return `cannot access ${safeLine((error as NodeJS.ErrnoException).path ?? 'a file')} (${code})`;
  }
  return 'unexpected failure';
}

/** Checks that `path` is an image, then posts it from the file (opened once for reading). */
export async function postFile(
  client: SispClient,
  request: Omit<PostRequest, 'source'> & { readonly path: string },
): Promise<PostResult> {
  const { path, ...rest } = request;
  if (!existsSync(path)) throw sispError('E_NOT_FOUND', `no such file: ${path}`);
  const info = await inspectImage(path);
  const source = await openFileSource(path, info.contentType);
  try {
    return await postImage(client, { ...rest, source });
  } finally {
    await source.close();
  }
}

function describeAudience(client: SispClient, audience: PostResult['audience']): string {
  if (audience === 'public') return 'everyone';
  if (audience.length === 1 && audience[0] === client.username) return 'only you';
  return audience.join(', ');
}

export async function commandPost(
  client: SispClient,
  output: Output,
  name: string,
  path: string,
  options: { to?: string[]; replace?: boolean },
): Promise<void> {
  const bar = progressBar(output, 'posting');
  try {
    const result = await postFile(client, {
      name,
      path,
      ...(options.to === undefined ? {} : { to: options.to }),
      replace: options.replace === true,
      onProgress: bar.update,
    });
    bar.stop();
    output.out.write(
      `posted ${client.username}/${result.name} (${result.contentType}, ${result.size} bytes) to ${describeAudience(client, result.audience)}\n`,
    );
  } finally {
    bar.stop();
  }
}

/** Verifies and saves an image in `outDir`; returns where. */
export async function commandDownload(
  client: SispClient,
  output: Output,
  reference: string,
  outDir: string,
  options: { replace?: boolean } = {},
): Promise<DownloadResult<string>> {
  const image = await resolveImage(client, reference);
  const bar = progressBar(output, 'downloading');
  try {
    const sink = new FileSink(outDir, { replace: options.replace === true });
    const result = await downloadImage(client, expected(image), sink, {
      onProgress: bar.update,
    });
    bar.stop();
    return result;
  } finally {
    bar.stop();
  }
}

/** The listed image, which the signed manifest must then confirm. */
function expected(image: Listed): { image: Uint8Array; owner: string; name: string } {
  return { image: image.image, owner: image.owner, name: image.name };
}

export async function commandDisplay(
  client: SispClient,
  home: Home,
  output: Output,
  reference: string,
  options: { open?: boolean },
): Promise<void> {
  const image = await resolveImage(client, reference);
  // Verified copies are kept per image id, so "display" downloads only when needed.
  const cacheDir = join(home.dir, 'cache', toHex(image.image));
  let path: string | undefined;
  let fingerprint = '';
  if (existsSync(cacheDir)) {
    const cached = (await readdir(cacheDir)).find((file) => !file.startsWith('.'));
    if (cached !== undefined) {
      path = join(cacheDir, cached);
      fingerprint = (await home.getPin(image.owner))?.fingerprint ?? '';
    }
  }
  if (path === undefined) {
    const result = await downloadImage(client, expected(image), new FileSink(cacheDir));
    path = result.result;
    fingerprint = result.ownerFingerprint;
  }
  if (options.open === true) {
    await openWithSystemViewer(path);
    output.out.write(`${path}\n`);
    return;
  }
  if (output.out.isTTY === true) {
    const columns = Math.min(output.out.columns ?? 80, 160);
    const rows = Math.max(4, (output.out.rows ?? 24) - 3);
    output.out.write(await renderForTerminal(path, detectProtocol(process.env), columns, rows));
    output.out.write(
      `${image.owner}/${image.name}  ${image.contentType}  owner key ${fingerprint}\n`,
    );
    return;
  }
  const { width, height } = await imageDimensions(path);
  output.out.write(
    `name: ${image.name}\nowner: ${image.owner}\ndimensions: ${width}x${height}\ntype: ${image.contentType}\n` +
      `owner fingerprint: ${fingerprint}\n`,
  );
}

export function formatList(images: readonly Listed[]): string {
  if (images.length === 0) return 'no images yet\n';
  const rows = images.map((image) => [
    `${image.owner}/${image.name}`,
    image.contentType,
    formatSize(image.size),
    new Date(image.created).toISOString().replace('T', ' ').slice(0, 16),
    image.audience === 'public' ? 'public' : `private: ${image.audience.join(',')}`,
  ]);
  const widths =
    rows[0]?.map((_, column) => Math.max(...rows.map((row) => row[column]?.length ?? 0))) ?? [];
  return `${rows
    .map((row) =>
      row
        .map((cell, column) => cell.padEnd(widths[column] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export async function commandCert(
  client: SispClient,
  output: Output,
  username?: string,
): Promise<void> {
  const name = username === undefined ? client.username : normalizeUsername(username);
  const peer = await client.peer(name);
  output.out.write(`${toPem(peer.certificate)}fingerprint: ${peer.fingerprint}\n`);
}
