/**
 * The browser app, served on the same origin as the WebSocket: the static files
 * `npm run build` made into dist/web (content-hashed assets, Subresource Integrity
 * in index.html), read once at start and served under a strict Content-Security-
 * Policy: no inline script, no eval, connections only to this origin, nothing from
 * anywhere else. The app's digest is SHA-256 of index.html (which commits to every
 * script and stylesheet through their integrity hashes).
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const APP_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** Files at the app's root besides index.html (from web/public), served by name. */
const ROOT_FILES = ['favicon.svg'];

export interface WebApp {
  /** SHA-256 of index.html, hex. */
  readonly digest: string;
  /** Answers `path` if it is the app's (index for "/" and link pages); false otherwise. */
  serve(path: string, response: ServerResponse): boolean;
}

/** dist/web beside the compiled server, or the build's when running from source. */
function appDirectory(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  return [join(here, '..', 'web'), join(here, '..', '..', 'dist', 'web')].find((dir) =>
    existsSync(join(dir, 'index.html')),
  );
}

export function loadWebApp(): WebApp | undefined {
  const dir = appDirectory();
  if (dir === undefined) return undefined;
  const index = readFileSync(join(dir, 'index.html'));
  const assets = new Map<string, Buffer>();
  for (const name of readdirSync(join(dir, 'assets'))) {
    assets.set(`/assets/${name}`, readFileSync(join(dir, 'assets', name)));
  }
  for (const name of ROOT_FILES) {
    if (existsSync(join(dir, name))) assets.set(`/${name}`, readFileSync(join(dir, name)));
  }
  const headers = {
    'content-security-policy': APP_CSP,
    'referrer-policy': 'no-referrer',
    'x-content-type-options': 'nosniff',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
  return {
    digest: createHash('sha256').update(index).digest('hex'),
    serve(path, response) {
      if (path === '/' || path === '/index.html' || /^\/l\/[A-Za-z0-9_-]{1,64}$/.test(path)) {
        response
          .writeHead(200, {
            ...headers,
            'content-type': TYPES['.html'],
            'cache-control': 'no-cache',
          })
          .end(index);
        return true;
      }
      const asset = assets.get(path);
      if (asset === undefined) return false;
      const type = TYPES[path.slice(path.lastIndexOf('.'))] ?? 'application/octet-stream';
      response
        .writeHead(200, {
          ...headers,
          'content-type': type,
          // Names under /assets carry their content hash: a changed file is a new name.
          'cache-control': path.startsWith('/assets/')
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        })
        .end(asset);
      return true;
    },
  };
}
