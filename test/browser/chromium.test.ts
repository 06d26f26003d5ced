/**
 * The isomorphic tests (test/crypto, test/protocol, test/core), the browser-only ones
 * (test/web) and the round trip (round-trip.ts), bundled for the browser and run inside real headless Chromium
 * (Debian's package, driven by playwright-core; never a downloaded browser),
 * against a real `sisp serve`. Each browser test is reported as a subtest here.
 */
import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join, normalize, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../support/chromium.js';
import { noNodeImports } from '../../scripts/bundle-core.mjs';
import { startServer, type ServerProcess } from '../e2e/harness.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

interface Result {
  readonly name: string;
  readonly ok: boolean;
  readonly error?: string;
  readonly ms: number;
}

/** Every isomorphic test file, and the round trip. */
function testModules(): string[] {
  const files = ['crypto', 'protocol', 'core', 'web'].flatMap((dir) =>
    readdirSync(join(root, 'test', dir))
      .filter((name) => name.endsWith('.test.ts'))
      .map((name) => `./test/${dir}/${name}`),
  );
  return [...files, './test/browser/round-trip.ts'];
}

/** The tests as one browser bundle: node:test and node:assert shimmed, Node-only helpers swapped. */
async function bundleTests(): Promise<string> {
  const swap = (from: string, to: string) => ({ from: join(root, from), to: join(root, to) });
  const swaps = [
    swap('test/support/backends.ts', 'test/support/backends.browser.ts'),
    swap('test/support/files.ts', 'test/support/files.browser.ts'),
  ];
  const result = await build({
    stdin: {
      contents: `${testModules()
        .map((file) => `import '${file}';`)
        .join('\n')}\nexport { run } from 'node:test';\n`,
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'browser-swaps',
        setup(pluginBuild) {
          pluginBuild.onResolve({ filter: /^node:(test|assert)$/ }, (args) => ({
            path: join(root, `test/browser/shim/${args.path.replace(':', '-')}.ts`),
          }));
          pluginBuild.onLoad({ filter: /\.ts$/ }, (args) => {
            const swapped = swaps.find((entry) => entry.from === args.path);
            if (swapped === undefined) return undefined;
            return {
              contents: readFileSync(swapped.to, 'utf8'),
              loader: 'ts',
              resolveDir: dirname(swapped.to),
            };
          });
        },
      },
      noNodeImports,
    ],
  });
  const [output] = result.outputFiles;
  if (output === undefined) throw new Error('esbuild produced nothing');
  return output.text;
}

interface TestPages {
  readonly origin: string;
  close(): Promise<void>;
}

/**
 * The test page, the bundle and test data, from a real HTTP server on 127.0.0.1: a
 * secure context (WebCrypto needs one) in the loopback address space, so Chromium's
 * local-network checks let it reach the sisp server, as a real page on the same
 * machine would.
 */
async function servePages(bundle: string): Promise<TestPages> {
  const http = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://127.0.0.1').pathname;
    const send = (status: number, type: string, body: string | Buffer): void => {
      response.writeHead(status, { 'content-type': type }).end(body);
    };
    if (path === '/') {
      send(
        200,
        'text/html',
        '<!doctype html><meta charset="utf-8"><title>sisp tests</title><script type="module" src="/tests.js"></script>',
      );
      return;
    }
    if (path === '/tests.js') {
      send(200, 'text/javascript', bundle);
      return;
    }
    // Test data only (test/ and docs/), and nothing outside the repository.
    const file = normalize(join(root, decodeURIComponent(path.slice('/repo/'.length))));
    const inside = relative(root, file);
    if (path.startsWith('/repo/') && /^(test|docs)\//.test(inside) && existsSync(file))
      send(200, 'application/octet-stream', readFileSync(file));
    else send(404, 'text/plain', 'not found');
  });
  await new Promise<void>((resolve) => {
    http.listen(0, '127.0.0.1', resolve);
  });
  const { port } = http.address() as AddressInfo;
  return {
    origin: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        http.close(() => {
          resolve();
        });
      }),
  };
}

describe('the isomorphic tests in headless Chromium', () => {
  let server: ServerProcess | undefined;
  let browser: Browser | undefined;
  let pages: TestPages | undefined;

  before(async () => {
    assert.ok(existsSync(CHROMIUM), `no Chromium at ${CHROMIUM}: apt-get install -y chromium`);
    pages = await servePages(await bundleTests());
    server = await startServer();
    const tls = readFileSync(join(server.dataDir, 'tls.pem'), 'utf8');
    // Trust the server's TLS key for this run only, as a pinned key, not a CA.
    browser = await launchChromium(tls);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
    await pages?.close();
  });

  it('every test passes in the page', async (t) => {
    if (browser === undefined || server === undefined || pages === undefined)
      assert.fail('the browser, the server and the pages start before the test');
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('pageerror', (error) => consoleErrors.push(error.message));
    const caPem = readFileSync(server.caPath, 'utf8');
    await page.addInitScript(
      (given) => {
        (globalThis as { SISP_TEST_SERVER?: unknown }).SISP_TEST_SERVER = given;
      },
      { url: server.url, caPem },
    );
    await page.goto(`${pages.origin}/`);
    const results = await page.evaluate(async (script) => {
      const module = (await import(script)) as { run: () => Promise<Result[]> };
      return module.run();
    }, '/tests.js');
    assert.deepEqual(consoleErrors, []);
    assert.ok(results.length > 150, `only ${results.length} tests ran in the page`);
    assert.ok(
      results.some((result) => result.name.includes('round trip')),
      'the round trip ran',
    );
    for (const result of results) {
      await t.test(result.name, () => {
        if (!result.ok) assert.fail(result.error ?? 'failed');
      });
    }
  });
});
