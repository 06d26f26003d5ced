/** `sisp usage`: images and bytes stored, against the server's limits. */
import type { Usage } from '../core/manage.js';
import { formatSize } from './listing.js';
import { jsonLine } from './output.js';

function percent(used: number, allowed: number): string {
  return allowed === 0 ? '' : ` (${Math.round((used / allowed) * 100)}%)`;
}

export function formatUsage(used: Usage, json: boolean): string {
  if (json) return jsonLine({ ...used });
  return (
    `images: ${used.images} of ${used.maxImages}${percent(used.images, used.maxImages)}\n` +
    `storage: ${formatSize(used.bytes)} of ${formatSize(used.maxBytes)}${percent(used.bytes, used.maxBytes)}\n`
  );
}
