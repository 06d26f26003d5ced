/**
 * The client's commands, shared by the one-shot CLI and the interactive prompt.
 * Each takes a connected client where it needs one and writes its result to `out`.
 */
import { existsSync } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { toPem } from '../crypto/pem.js';
import { listImages, resolveImage, type ListedImage } from '../core/catalogue.js';
import type { SispClient } from '../core/client.js';
import { downloadImage, type DownloadResult } from '../core/download.js';
import { postImage, type PostRequest, type PostResult } from '../core/post.js';
import { FileSink } from '../client/file-sink.js';
import { openFileSource } from '../client/file-source.js';
import { gpsOf, stripMetadata, type Coordinates } from '../client/metadata.js';
import { bytesSource } from '../core/source.js';
import type { Home } from '../client/home.js';
import { toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { normalizeUsername } from '../protocol/names.js';
import { inspectImage } from './image.js';
import { loadSharp } from './sharp.js';
import { makeThumbnail } from './thumbnail.js';
import { describeError, jsonLine, quoteReference, type Output } from './output.js';
import { safeLine } from './terminal.js';
import { progressBar, type LiveProgress } from './progress.js';

export { listImages, resolveImage };
export { formatList, formatSize, listEntries, listJson } from './listing.js';

export type { Output };

type Listed = ListedImage;

/** The one plain line a failed command prints (output.ts has the details). */
export function describeFailure(error: unknown): string {
  return describeError(error).message;
}

/** The most sisp reads into memory to strip a file's metadata. */
export const STRIP_LIMIT = 256 * 1024 * 1024;
/** Enough of a file to find its EXIF: JPEG and PNG keep it before the image data. */
const GPS_SCAN = 1024 * 1024;

export interface PostFileRequest extends Omit<PostRequest, 'source'> {
  readonly path: string;
  /** Remove EXIF, XMP, IPTC and GPS losslessly before sending (orientation kept). */
  readonly stripMetadata?: boolean;
  /** One line for the person posting: GPS found, or what was stripped. */
  readonly onNotice?: (line: string) => void;
}

/**
 * A file this small is read once and checked, scanned, shrunk and sent from memory:
 * one open instead of four, and the bytes checked are the bytes sent.
 */
const SMALL_FILE = GPS_SCAN;

/** The GPS position in the file, looked for in its first MiB (best effort: never fails a post). */
async function scanForGps(input: string | Uint8Array): Promise<Partial<Coordinates> | undefined> {
  if (typeof input !== 'string') return gpsOf(input.subarray(0, GPS_SCAN)).catch(() => undefined);
  const file = await open(input, 'r');
  try {
    const head = new Uint8Array(GPS_SCAN);
    const { bytesRead } = await file.read(head, 0, GPS_SCAN, 0);
    return await gpsOf(head.subarray(0, bytesRead));
  } catch {
    return undefined;
  } finally {
    await file.close();
  }
}

/**
 * Checks that `path` is an image, says so when it carries a GPS position (or strips
 * its metadata when asked), then posts it: from the file as it is, or from the
 * stripped bytes.
 */
export async function postFile(client: SispClient, request: PostFileRequest): Promise<PostResult> {
  const { path, stripMetadata: strip, onNotice, ...rest } = request;
  if (!existsSync(path)) throw sispError('E_NOT_FOUND', `no such file: ${path}`);
  const size = (await stat(path)).size;
  const small = strip !== true && size <= SMALL_FILE;
  const input = small ? new Uint8Array(await readFile(path)) : path;
  const info = await inspectImage(path, input);
  if (strip === true) {
    if (size > STRIP_LIMIT)
      throw sispError('E_TOO_LARGE', `${path} is too large to strip its metadata (over 256 MiB)`);
    const bytes = new Uint8Array(await readFile(path));
    const hadGps = (await gpsOf(bytes)) !== undefined;
    const stripped = await stripMetadata(bytes);
    onNotice?.(strippedNotice(path, stripped.removed, hadGps));
    const thumbnail = await makeThumbnail(stripped.bytes);
    return postImage(client, {
      ...rest,
      source: bytesSource(stripped.bytes, info.contentType),
      ...(thumbnail === undefined ? {} : { thumbnail }),
    });
  }
  const gps = onNotice === undefined ? undefined : await scanForGps(input);
  if (gps !== undefined) {
    const where =
      gps.latitude === undefined || gps.longitude === undefined
        ? 'GPS data'
        : `its GPS position (${gps.latitude.toFixed(4)}, ${gps.longitude.toFixed(4)})`;
    onNotice?.(
      `note: ${path} carries ${where}, readable by everyone who can see it; --strip-metadata removes it`,
    );
  }
  const thumbnail = await makeThumbnail(input);
  if (typeof input !== 'string') {
    return postImage(client, {
      ...rest,
      source: bytesSource(input, info.contentType),
      ...(thumbnail === undefined ? {} : { thumbnail }),
    });
  }
  const source = await openFileSource(input, info.contentType);
  try {
    return await postImage(client, {
      ...rest,
      source,
      ...(thumbnail === undefined ? {} : { thumbnail }),
    });
  } finally {
    await source.close();
  }
}

function strippedNotice(path: string, removed: readonly string[], hadGps: boolean): string {
  if (removed.length === 0) return `no metadata to strip in ${path}`;
  const what = removed.map((kind) => (kind === 'EXIF' && hadGps ? 'EXIF (with GPS)' : kind));
  return `stripped ${what.join(', ')} from ${path}; the pixels are unchanged`;
}

function describeAudience(client: SispClient, audience: PostResult['audience']): string {
  if (audience === 'public') return 'everyone';
  if (audience.length === 1 && audience[0] === client.username) return 'only you';
  return audience.join(', ');
}

/** What every command that talks to the server may be given. */
export interface CommandOptions {
  readonly json?: boolean;
  /** Aborted on Ctrl-C: the transfer is cancelled and leaves nothing behind. */
  readonly signal?: AbortSignal;
  /** The prompt's slot for the running progress bar. */
  readonly live?: LiveProgress;
}

/**
 * Starts loading sharp (libvips, ~0.1-0.2 s) while the command signs in, so that the
 * load fills the round trips to the server instead of following them. A failure shows
 * where the image is checked.
 */
export function startLoadingImageTools(): void {
  loadSharp().catch(() => undefined);
}

export async function commandPost(
  client: SispClient,
  output: Output,
  name: string,
  path: string,
  options: CommandOptions & { to?: string[]; replace?: boolean; stripMetadata?: boolean },
): Promise<void> {
  const bar = progressBar(output, 'posting', options.live);
  try {
    const result = await postFile(client, {
      name,
      path,
      ...(options.to === undefined ? {} : { to: options.to }),
      ...(options.signal === undefined ? {} : { signal: options.signal }),
      replace: options.replace === true,
      stripMetadata: options.stripMetadata === true,
      onNotice: (line) => {
        bar.log(output.err, `${safeLine(line)}\n`);
      },
      onProgress: (done, total) => {
        bar.update(done, total);
      },
    });
    bar.stop();
    if (options.json === true) {
      output.out.write(
        jsonLine({
          owner: client.username,
          name: result.name,
          image: toHex(result.image),
          type: result.contentType,
          size: result.size,
          created: new Date(result.created).toISOString(),
          audience: result.audience,
        }),
      );
      return;
    }
    output.out.write(
      `posted ${quoteReference(client.username, result.name)} (${result.contentType}, ${result.size} bytes) to ${describeAudience(client, result.audience)}\n`,
    );
  } finally {
    bar.stop();
  }
}

/** Where a download goes: a folder (saved as `<name>.<ext>`) or an exact file. */
export interface DownloadTarget {
  readonly dir: string;
  readonly fileName?: string;
}

const IMAGE_FILE = /\.(jpe?g|png|gif|webp)$/i;

/**
 * The default is HOME/downloads/<owner>/, so two owners' images of the same name
 * never meet. `--out` names a folder, or a file when it is an existing file or ends
 * in an image extension.
 */
export async function downloadTarget(
  home: Home,
  owner: string,
  out: string | undefined,
): Promise<DownloadTarget> {
  if (out === undefined) return { dir: join(home.downloads, owner) };
  const path = resolve(out);
  const info = await stat(path).catch(() => undefined);
  if (info?.isDirectory() === true || out.endsWith(sep) || out.endsWith('/')) return { dir: path };
  if (info !== undefined || IMAGE_FILE.test(path))
    return { dir: dirname(path), fileName: basename(path) };
  return { dir: path };
}

/** Resolves `reference`, then verifies and saves the image; returns where. */
export async function commandDownload(
  client: SispClient,
  output: Output,
  reference: string,
  where: (owner: string) => Promise<DownloadTarget>,
  options: CommandOptions & { replace?: boolean } = {},
): Promise<DownloadResult<string>> {
  const image = await resolveImage(client, reference);
  const target = await where(image.owner);
  const bar = progressBar(output, 'downloading', options.live);
  try {
    const sink = new FileSink(target.dir, {
      replace: options.replace === true,
      ...(target.fileName === undefined ? {} : { fileName: target.fileName }),
    });
    const result = await downloadImage(client, expected(image), sink, {
      onProgress: (done, total) => {
        bar.update(done, total);
      },
      ...(options.signal === undefined ? {} : { signal: options.signal }),
    });
    bar.stop();
    output.out.write(
      options.json === true
        ? jsonLine({
            path: result.result,
            owner: result.manifest.owner,
            name: result.manifest.name,
            image: toHex(image.image),
            type: result.manifest.type,
            size: image.size,
            ownerFingerprint: result.ownerFingerprint,
          })
        : `${result.result}\n`,
    );
    return result;
  } finally {
    bar.stop();
  }
}

/** The listed image, which the signed manifest must then confirm. */
export function expected(image: Listed): { image: Uint8Array; owner: string; name: string } {
  return { image: image.image, owner: image.owner, name: image.name };
}

/** The PEM alone on stdout (so `sisp cert bob > bob.pem` is a certificate); the fingerprint on stderr. */
export async function commandCert(
  client: SispClient,
  output: Output,
  username: string | undefined,
  options: CommandOptions = {},
): Promise<void> {
  const name = username === undefined ? client.username : normalizeUsername(username);
  const peer = await client.peer(name);
  if (options.json === true) {
    output.out.write(
      jsonLine({
        username: name,
        fingerprint: peer.fingerprint,
        certificate: toPem(peer.certificate),
      }),
    );
    return;
  }
  output.out.write(toPem(peer.certificate));
  output.err.write(`fingerprint: ${peer.fingerprint}\n`);
}
