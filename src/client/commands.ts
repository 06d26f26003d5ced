/**
 * The client's commands, shared by the one-shot CLI and the interactive prompt.
 * Each takes a connected client where it needs one and writes its result to `out`.
 */
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import cliProgress from 'cli-progress';
import { toPem } from '../crypto/certificates.js';
import { keyFingerprint, readableFingerprint } from '../crypto/fingerprint.js';
import { toHex } from '../protocol/bytes.js';
import { isSispError, sispError } from '../protocol/errors.js';
import type { MessageBody } from '../protocol/messages.js';
import { normalizeImageName, normalizeUsername } from '../protocol/names.js';
import type { SispClient } from './client.js';
import { downloadImage, type DownloadResult } from './download.js';
import {
  detectProtocol,
  imageDimensions,
  openWithSystemViewer,
  renderForTerminal,
} from './display.js';
import { postImage } from './post.js';

export interface Output {
  readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number; rows?: number };
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
}

type Listed = MessageBody<'list.result'>['images'][number];

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
  if (isSispError(error)) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'EACCES' || code === 'EISDIR') {
    return `cannot access ${(error as NodeJS.ErrnoException).path ?? 'a file'} (${code})`;
  }
  return 'unexpected failure';
}

export async function listImages(client: SispClient): Promise<Listed[]> {
  const reply = await client.connection.request('list', {});
  if (reply.type !== 'list.result') throw sispError('E_BAD_FRAME', 'unexpected reply to list');
  return reply.body.images;
}

/** `owner/name`, or a bare name that exactly one visible image has. */
export async function resolveImage(client: SispClient, reference: string): Promise<Listed> {
  const images = await listImages(client);
  const slash = reference.indexOf('/');
  if (slash >= 0) {
    const owner = normalizeUsername(reference.slice(0, slash));
    const name = normalizeImageName(reference.slice(slash + 1));
    const found = images.find((image) => image.owner === owner && image.name === name);
    if (found === undefined)
      throw sispError('E_NOT_FOUND', `no image ${owner}/${name} that you may see`);
    return found;
  }
  const name = normalizeImageName(reference);
  const matches = images.filter((image) => image.name === name);
  const [first] = matches;
  if (first === undefined)
    throw sispError('E_NOT_FOUND', `no image named "${name}" that you may see`);
  if (matches.length > 1) {
    const choices = matches.map((image) => `${image.owner}/${image.name}`).join(', ');
    throw sispError('E_AMBIGUOUS', `several images are named "${name}": ${choices}`);
  }
  return first;
}

export async function commandPost(
  client: SispClient,
  output: Output,
  name: string,
  path: string,
  options: { to?: string[]; replace?: boolean },
): Promise<void> {
  if (!existsSync(path)) throw sispError('E_NOT_FOUND', `no such file: ${path}`);
  const bar = progressBar(output, 'posting');
  try {
    const result = await postImage(client, {
      name,
      path,
      ...(options.to === undefined ? {} : { to: options.to }),
      replace: options.replace === true,
      onProgress: bar.update,
    });
    bar.stop();
    const audience =
      options.to === undefined || options.to.length === 0 ? 'everyone' : options.to.join(', ');
    output.out.write(
      `posted ${client.username}/${result.name} (${result.contentType}, ${result.size} bytes) to ${audience}\n`,
    );
  } finally {
    bar.stop();
  }
}

export async function commandDownload(
  client: SispClient,
  output: Output,
  reference: string,
  outDir: string,
): Promise<DownloadResult> {
  const image = await resolveImage(client, reference);
  const bar = progressBar(output, 'downloading');
  try {
    const result = await downloadImage(client, { image: image.image }, outDir, bar.update);
    bar.stop();
    return result;
  } finally {
    bar.stop();
  }
}

export async function commandDisplay(
  client: SispClient,
  output: Output,
  reference: string,
  options: { open?: boolean },
): Promise<void> {
  const image = await resolveImage(client, reference);
  // Verified copies are kept per image id, so "display" downloads only when needed.
  const cacheDir = join(client.home.dir, 'cache', toHex(image.image));
  let path: string | undefined;
  let fingerprint = '';
  if (existsSync(cacheDir)) {
    const cached = (await readdir(cacheDir)).find((file) => !file.startsWith('.'));
    if (cached !== undefined) {
      path = join(cacheDir, cached);
      fingerprint = (await client.home.readPins())[image.owner]?.fingerprint ?? '';
    }
  }
  if (path === undefined) {
    const result = await downloadImage(client, { image: image.image }, cacheDir);
    path = result.path;
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
    image.audience,
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
  const fingerprint = readableFingerprint(
    await keyFingerprint(peer.signingKey, peer.encryptionKey),
  );
  output.out.write(`${toPem(peer.certificate)}fingerprint: ${fingerprint}\n`);
}
