/**
 * `sisp list` as text and as JSON. Apart from the commands that move files, so that
 * listing loads none of what posting and downloading need (start-up, bench/README).
 */
import type { ListedImage } from '../core/catalogue.js';
import { toHex } from '../protocol/bytes.js';
import { jsonLine, quoteReference } from './output.js';

export function formatList(images: readonly ListedImage[]): string {
  if (images.length === 0) return 'no images yet\n';
  const rows = images.map((image) => [
    quoteReference(image.owner, image.name),
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

export function listJson(images: readonly ListedImage[]): string {
  return jsonLine({ images: listEntries(images) });
}

/** Each image as list --json shows it. */
export function listEntries(images: readonly ListedImage[]): Record<string, unknown>[] {
  return images.map((image) => ({
    owner: image.owner,
    name: image.name,
    image: toHex(image.image),
    type: image.contentType,
    size: image.size,
    created: new Date(image.created).toISOString(),
    audience: image.audience,
    ownerFingerprint: image.ownerFingerprint,
  }));
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}
