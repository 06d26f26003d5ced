/**
 * npm run bench:cluster (also run by npm run bench): small-image posts per second and
 * fan-out to watchers, on one node (SQLite and files, the default) and on two nodes
 * sharing PostgreSQL and an S3-compatible store (s3rver), in the same run. Clients
 * are the client SDK in this process; on the cluster, posters and watchers are split
 * over both nodes and every post goes through node A, so half the watchers are told
 * across nodes (LISTEN/NOTIFY).
 *
 * Environment: BENCH_RUNS (default 3), BENCH_SMALL_SECONDS (default 15),
 * BENCH_WATCHERS (default 1000), BENCH_SKIP containing "cluster" skips it.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Home } from '../src/client/home.js';
import { postFile } from '../src/cli/commands.js';
import { connect, login } from '../src/cli/context.js';
import type { SispClient } from '../src/core/client.js';
import { startCluster } from '../test/e2e/cluster-harness.js';
import { fanoutSpread } from './lib/fanout.js';
import { IMAGES, startSisp } from './lib/sisp.js';
import { formatFigure, percentile, sortedCopy, summarise } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SECONDS = Number(process.env.BENCH_SMALL_SECONDS ?? 15);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const POSTERS = 8;
const IMAGE = join(IMAGES, 'hopper.jpg');
const LIMITS = {
  SISP_RATE: '1000000',
  SISP_RATE_BURST: '1000000',
  SISP_MAX_CONNECTIONS: '10000',
  SISP_CONNECTIONS_PER_ADDRESS: '10000',
  SISP_LOG_LEVEL: 'warn',
};
const work = mkdtempSync(join(tmpdir(), 'sisp-bench-cluster-'));

interface Node {
  readonly url: string;
  readonly caPath: string;
}

async function users(nodes: readonly Node[], prefix: string, count: number): Promise<SispClient[]> {
  const out: SispClient[] = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, async (_, k) => {
      const index = start + k;
      const node = nodes[index % nodes.length] ?? nodes[0];
      if (node === undefined) throw new Error('no node');
      const home = join(work, prefix, String(index));
      const client = await connect({ home: new Home(home), server: node.url, caFile: node.caPath });
      await client.register(`${prefix}${index}`);
      client.close();
      return login({ home: new Home(home), server: node.url, caFile: node.caPath });
    });
    out.push(...(await Promise.all(batch)));
  }
  return out;
}

/** Posts per second by POSTERS clients posting one small image after another. */
async function smallPosts(posters: readonly SispClient[], tag: string): Promise<number> {
  let posted = 0;
  const deadline = performance.now() + SECONDS * 1000;
  const started = performance.now();
  await Promise.all(
    posters.map(async (poster, p) => {
      for (let i = 0; performance.now() < deadline; i++) {
        await postFile(poster, { name: `${tag}-${p}-${i}`, path: IMAGE });
        posted += 1;
      }
    }),
  );
  return posted / ((performance.now() - started) / 1000);
}

/** ack → last watcher told, per post: p50 and p99 over 30 posts. */
async function fanout(poster: SispClient, watchers: readonly SispClient[], tag: string) {
  const spreads: number[] = [];
  for (let post = 0; post < 30; post++) {
    const name = `${tag}-${post}`;
    spreads.push(await fanoutSpread(watchers, name, () => postFile(poster, { name, path: IMAGE })));
  }
  const sorted = sortedCopy(spreads);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

async function measure(label: string, nodes: readonly Node[]) {
  const posters = await users(nodes, `${label}p`, POSTERS);
  const rates: number[] = [];
  for (let run = 0; run < RUNS; run++)
    rates.push(await smallPosts(posters, `${label}-small-${run}`));
  const watchers = await users(nodes, `${label}w`, WATCHERS);
  const [poster] = posters;
  if (poster === undefined) throw new Error('no poster');
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const figure = await fanout(poster, watchers, `${label}-fan-${run}`);
    p50s.push(figure.p50);
    p99s.push(figure.p99);
  }
  for (const client of [...posters, ...watchers]) client.close();
  return { rate: summarise(rates), p50: summarise(p50s), p99: summarise(p99s) };
}

async function main(): Promise<void> {
  if ((process.env.BENCH_SKIP ?? '').split(',').includes('cluster')) return;
  console.log(
    `\nsisp cluster benchmark — ${RUNS} runs, median (min–max); ${POSTERS} posters, ${WATCHERS} watchers`,
  );
  const single = await startSisp(join(work, 'single'), LIMITS);
  let one;
  try {
    one = await measure('one', [single]);
  } finally {
    await single.stop();
  }
  const cluster = await startCluster('bench', LIMITS);
  let two;
  try {
    two = await measure('two', [cluster.nodeA, cluster.nodeB]);
  } finally {
    await cluster.stop();
  }
  const rows: [string, string][] = [
    ['small posts per second, one node (SQLite + files)', formatFigure(one.rate)],
    ['small posts per second, two nodes (PostgreSQL + S3)', formatFigure(two.rate)],
    [
      `ack → all ${WATCHERS} watchers told, p50 / p99 (ms), one node`,
      `${formatFigure(one.p50, 1)} / ${formatFigure(one.p99, 1)}`,
    ],
    [
      `ack → all ${WATCHERS} watchers told (half on the other node), p50 / p99 (ms), two nodes`,
      `${formatFigure(two.p50, 1)} / ${formatFigure(two.p99, 1)}`,
    ],
  ];
  for (const [label, value] of rows) console.log(`  ${label}: ${value}`);
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `cluster-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    JSON.stringify({ date: new Date().toISOString(), runs: RUNS, one, two, rows }, null, 2),
  );
  console.log(`\nresults: ${file}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
