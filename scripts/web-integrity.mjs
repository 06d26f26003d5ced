#!/usr/bin/env node
// After `vite build`: adds Subresource Integrity (SHA-384) to every script and
// stylesheet dist/web/index.html loads, and refuses inline script (the CSP allows
// none). index.html then commits to every byte of code the app runs, so the app's
// digest is SHA-256 of index.html: `sisp serve` prints it and `sisp web verify`
// compares a running server's against it.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = join(import.meta.dirname, '..', 'dist', 'web');
const indexPath = join(dir, 'index.html');
let html = readFileSync(indexPath, 'utf8');

if (/<script(?![^>]*\bsrc=)[^>]*>/.test(html)) {
  console.error('web-integrity: dist/web/index.html has an inline script; the CSP forbids it');
  process.exit(1);
}

/** Adds integrity (and crossorigin) to a tag loading `url` from dist/web. */
function withIntegrity(tag, url) {
  if (!url.startsWith('/')) throw new Error(`web-integrity: not a local asset: ${url}`);
  const digest = createHash('sha384')
    .update(readFileSync(join(dir, url)))
    .digest('base64');
  let out = tag.replace(/\s+integrity="[^"]*"/, '');
  if (!/\bcrossorigin\b/.test(out)) out = out.replace(/\s*\/?>$/, ' crossorigin>');
  return out.replace(/\s*(\/?)>$/, ` integrity="sha384-${digest}"$1>`);
}

html = html.replace(/<script\b[^>]*\bsrc="([^"]+)"[^>]*>/g, (tag, url) => withIntegrity(tag, url));
html = html.replace(
  /<link\b[^>]*\brel="(?:stylesheet|modulepreload)"[^>]*\bhref="([^"]+)"[^>]*>/g,
  (tag, url) => withIntegrity(tag, url),
);
// Every script the build wrote must be one index.html loads with integrity: a chunk
// fetched later by import() would run code that the app's digest does not cover.
for (const file of readdirSync(join(dir, 'assets'))) {
  if (!/\.(m?js)$/.test(file)) continue;
  const tag = new RegExp(
    `<script\\b[^>]*src="/assets/${file.replace(/\./g, '\\.')}"[^>]*integrity=`,
  );
  if (!tag.test(html)) {
    console.error(
      `web-integrity: dist/web/assets/${file} is not loaded by index.html with integrity`,
    );
    process.exit(1);
  }
}
writeFileSync(indexPath, html);
const digest = createHash('sha256').update(html).digest('hex');
writeFileSync(join(dir, '..', 'web-digest.txt'), `${digest}\n`);
console.log(`browser app: dist/web (digest ${digest})`);
