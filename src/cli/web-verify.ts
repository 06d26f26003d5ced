/**
 * `sisp web verify URL`: is the browser app a server hands out the one this release
 * built? The app's digest is SHA-256 of its index.html, which commits to every
 * script and stylesheet through Subresource Integrity; `npm run build` wrote this
 * release's into dist/web-digest.txt. A server could still serve another page to
 * other people (docs/SECURITY.md, "Trust in the page"): this checks what it serves
 * you, now.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenerTrust } from '../client/tls-trust.js';
import { sispError } from '../protocol/errors.js';
import { readCaFile, type CliContext } from './context.js';
import { jsonLine, type Output } from './output.js';

const MAX_PAGE = 256 * 1024;
const TIMEOUT_MS = 30_000;

/** This release's digest: dist/web-digest.txt beside the compiled CLI (or the build's, from source). */
export function releaseDigest(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const file = [
    join(here, '..', 'web-digest.txt'),
    join(here, '..', '..', 'dist', 'web-digest.txt'),
  ].find((path) => existsSync(path));
  if (file === undefined)
    throw sispError('E_NOT_FOUND', 'this installation has no browser app build (npm run build)');
  return readFileSync(file, 'utf8').trim();
}

/** The page at `url`, bounded, over TLS trusting the sisp CA (if known) or the system's roots. */
function fetchPage(url: URL, caPem: string | undefined): Promise<{ body: Buffer; csp: string }> {
  return new Promise((resolve, reject) => {
    const request = get(
      url,
      { ...(caPem === undefined ? {} : { ca: listenerTrust(caPem) }), timeout: TIMEOUT_MS },
      (response) => {
        if (response.statusCode !== 200) {
          response.resume();
          reject(
            sispError(
              'E_NOT_FOUND',
              `${url.href} answered ${response.statusCode ?? '?'}, not the app`,
            ),
          );
          return;
        }
        const parts: Buffer[] = [];
        let length = 0;
        response.on('data', (chunk: Buffer) => {
          length += chunk.length;
          if (length > MAX_PAGE) {
            request.destroy();
            reject(sispError('E_TOO_LARGE', 'the page is larger than any sisp app page'));
          } else parts.push(chunk);
        });
        response.on('end', () => {
          const csp = response.headers['content-security-policy'];
          resolve({ body: Buffer.concat(parts), csp: typeof csp === 'string' ? csp : '' });
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(sispError('E_TIMEOUT', `${url.host} took too long`)),
    );
    request.on('error', (error: NodeJS.ErrnoException) => {
      if (error.name === 'SispError' || ('code' in error && String(error.code).startsWith('E_')))
        reject(error);
      else if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(error.code ?? ''))
        reject(sispError('E_CERTIFICATE', `the certificate of ${url.host} is not trusted`));
      else reject(sispError('E_UNAVAILABLE', `cannot reach ${url.host}`));
    });
  });
}

/** What a strict policy must say, and must not. */
function cspProblems(csp: string): string[] {
  const problems: string[] = [];
  if (csp === '') return ['no Content-Security-Policy header'];
  for (const needed of ["default-src 'none'", "script-src 'self'", "connect-src 'self'"])
    if (!csp.includes(needed)) problems.push(`the policy lacks ${needed}`);
  if (/unsafe-inline|unsafe-eval/.test(csp))
    problems.push('the policy allows inline script or eval');
  return problems;
}

export async function commandWebVerify(
  context: CliContext,
  output: Output,
  address: string,
  options: { json?: boolean },
): Promise<void> {
  let url: URL;
  try {
    url = new URL(address.replace(/^wss:/, 'https:'));
  } catch {
    throw sispError('E_BAD_REQUEST', `not a URL: ${address}`);
  }
  if (url.protocol !== 'https:')
    throw sispError('E_BAD_REQUEST', 'the app is served over https://');
  url = new URL('/', url);
  const expected = releaseDigest();
  const caPem = (await readCaFile(context)) ?? (await context.home.readCa());
  const page = await fetchPage(url, caPem);
  const served = createHash('sha256').update(page.body).digest('hex');
  const problems = cspProblems(page.csp);
  const matches = served === expected && problems.length === 0;
  if (options.json === true)
    output.out.write(jsonLine({ url: url.href, matches, served, expected, problems }));
  if (!matches) {
    throw sispError(
      'E_TAMPERED',
      served === expected
        ? `the app at ${url.href} is this release's, but ${problems.join('; ')}`
        : `the app at ${url.href} is NOT this release's: it serves ${served}, this release is ${expected}`,
    );
  }
  if (options.json !== true)
    output.out.write(
      `the browser app at ${url.href} is this release's (digest ${served}), under a strict CSP\n`,
    );
}
