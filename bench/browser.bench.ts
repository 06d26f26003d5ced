/**
 * The browser app's bulk transfers (npm run bench, after the system benchmark; or
 * npm run bench:browser alone): in Debian's headless Chromium, driven by
 * playwright-core, a person posts a 256 MiB image by file picker and another
 * downloads it verified, while the page's JavaScript heap is sampled through the
 * DevTools protocol; the CLI moves the same file in the same run for comparison.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_BROWSER_MIB (default 256),
 * CHROMIUM_PATH (default /usr/bin/chromium), BENCH_SKIP containing "browser" skips it.
 */
import {
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, launchChromium } from '../test/support/chromium.js';
import { makeImage, runClient, startSisp, type Server } from './lib/sisp.js';
import { formatFigure, summarise } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const MiB = 1024 * 1024;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SIZE = Number(process.env.BENCH_BROWSER_MIB ?? 256) * MiB;
const work = mkdtempSync(join(tmpdir(), 'sisp-bench-browser-'));
const mbps = (bytes: number, seconds: number): number => bytes / seconds / 1e6;

/**
 * Peak used JS heap while `work` runs, sampled every 50 ms in the page
 * (performance.memory, made precise by --enable-precise-memory-info).
 */
async function peakHeapDuring<T>(
  page: Page,
  work: () => Promise<T>,
): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let sampling = true;
  const sample = async (): Promise<void> => {
    while (sampling) {
      const used = await page.evaluate(
        () =>
          (performance as unknown as { memory: { usedJSHeapSize: number } }).memory.usedJSHeapSize,
      );
      peak = Math.max(peak, used);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };
  const sampler = sample();
  try {
    return { result: await work(), peak };
  } finally {
    sampling = false;
    await sampler;
  }
}

async function registerIn(browser: Browser, web: string, username: string): Promise<Page> {
  const page = await (await browser.newContext({ acceptDownloads: true })).newPage();
  await page.goto(`${web}/`);
  await page.getByLabel('Username').fill(username);
  await page.getByRole('button', { name: 'Register' }).click();
  await page.getByText(`Signed in as ${username}`).waitFor({ timeout: 30_000 });
  return page;
}

/** Posts `image` under `name` (the page names an image after its file). */
async function browserPost(page: Page, image: string, name: string): Promise<number> {
  const named = join(dirname(image), `${name}.jpg`);
  linkSync(image, named);
  await page.getByLabel('Images (or drop them here)').setInputFiles(named);
  const started = performance.now();
  await page.getByRole('button', { name: 'Post', exact: true }).click();
  await page.locator(`li[data-image="alice/${name}"]`).waitFor({ timeout: 600_000 });
  const seconds = (performance.now() - started) / 1000;
  unlinkSync(named);
  return seconds;
}

async function browserDownload(page: Page, name: string): Promise<number> {
  await page.locator(`li[data-image="alice/${name}"]`).waitFor({ timeout: 60_000 });
  const started = performance.now();
  const saving = page.waitForEvent('download', { timeout: 600_000 });
  await page.getByRole('button', { name: `Download alice/${name}`, exact: true }).click();
  const download = await saving;
  await download.path();
  const seconds = (performance.now() - started) / 1000;
  await download.delete();
  return seconds;
}

async function measure(server: Server, browser: Browser): Promise<Record<string, unknown>> {
  const web = server.url.replace(/^wss:/, 'https:').replace(/\/$/, '');
  const alice = await registerIn(browser, web, 'alice');
  const bob = await registerIn(browser, web, 'bob');
  const image = join(work, 'image.jpg');
  makeImage(image, SIZE);
  const cliHome = join(work, 'carol');
  await runClient([
    'register',
    'carol',
    '--home',
    cliHome,
    '--server',
    server.url,
    '--ca',
    server.caPath,
  ]);
  const figures = {
    post: [] as number[],
    download: [] as number[],
    cliPost: [] as number[],
    cliDownload: [] as number[],
  };
  const heaps = { post: [] as number[], download: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    const name = `big-${run}`;
    const posted = await peakHeapDuring(alice, () => browserPost(alice, image, name));
    figures.post.push(mbps(SIZE, posted.result));
    heaps.post.push(posted.peak);
    const got = await peakHeapDuring(bob, () => browserDownload(bob, name));
    figures.download.push(mbps(SIZE, got.result));
    heaps.download.push(got.peak);
    const cli = await runClient(['post', `cli-${run}`, image, '--home', cliHome]);
    figures.cliPost.push(mbps(SIZE, cli.seconds));
    const out = join(work, `out-${run}`);
    const cliGot = await runClient([
      'download',
      `carol/cli-${run}`,
      '--out',
      out,
      '--home',
      cliHome,
    ]);
    figures.cliDownload.push(mbps(SIZE, cliGot.seconds));
    rmSync(out, { recursive: true, force: true });
  }
  const size = `${SIZE / MiB} MiB`;
  const rows: [string, string][] = [
    [`browser post ${size} (MB/s)`, formatFigure(summarise(figures.post))],
    [`CLI post ${size}, same run (MB/s)`, formatFigure(summarise(figures.cliPost))],
    [`browser download ${size} (MB/s)`, formatFigure(summarise(figures.download))],
    [`CLI download ${size}, same run (MB/s)`, formatFigure(summarise(figures.cliDownload))],
    [
      'page JS heap peak, post / download (MiB)',
      `${(Math.max(...heaps.post) / MiB).toFixed(0)} / ${(Math.max(...heaps.download) / MiB).toFixed(0)}`,
    ],
  ];
  for (const [label, value] of rows) console.log(`  ${label}: ${value}`);
  return { size: SIZE, runs: RUNS, figures, heaps, rows };
}

async function main(): Promise<void> {
  if ((process.env.BENCH_SKIP ?? '').split(',').includes('browser')) return;
  console.log(`\nsisp browser benchmark — ${RUNS} runs, median (min–max); Chromium ${CHROMIUM}`);
  const server = await startSisp(join(work, 'data'));
  const tls = readFileSync(join(work, 'data', 'tls.pem'), 'utf8');
  const browser = await launchChromium(tls, ['--enable-precise-memory-info']);
  try {
    const results = await measure(server, browser);
    const dir = join(here, 'results');
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `browser-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), ...results }, null, 2));
    console.log(`\nresults: ${file}`);
  } finally {
    await browser.close();
    await server.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
