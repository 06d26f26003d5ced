/**
 * npm run bench:watchers (also run by npm run bench): connections at scale on one
 * server. Registers BENCH_WATCHERS users (default 10,000), signs each in once as a
 * watcher, and measures: registrations and authentications per second (64 at a time),
 * server RSS idle and with every watcher connected (bytes per idle connection),
 * fan-out from a post's acknowledgement to the last watcher told; then a reconnect
 * storm: the server is restarted under BENCH_STORM watchers (default 1,000), run in
 * BENCH_STORM_PROCESSES child processes (default 2; bench/storm-watchers.ts), that
 * reconnect by themselves (on `sisp watch`'s schedule) and catch up from their last
 * event; the figure is the time from the restart until every one has the post made
 * while it was down.
 *
 * The file-descriptor limits (this process and the server) are raised here with
 * prlimit, so the bench does not depend on the shell's ulimit.
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Home } from '../src/client/home.js';
import { postFile } from '../src/cli/commands.js';
import { connect, login, type CliContext } from '../src/cli/context.js';
import type { SispClient } from '../src/core/client.js';
import { fanoutSpread } from './lib/fanout.js';
import { cpuSeconds, currentRss, peakRss } from './lib/proc.js';
import { IMAGES, startSisp, type Server } from './lib/sisp.js';
import { formatFigure, percentile, sortedCopy, summarise } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 10_000);
const STORM = Math.min(Number(process.env.BENCH_STORM ?? 1000), WATCHERS);
/** Processes the storm's watchers run in (BENCH_STORM_PROCESSES, default 2). */
const STORM_PROCESSES = Math.max(1, Number(process.env.BENCH_STORM_PROCESSES ?? 2));
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const WIDTH = 64;
/** Posts whose fan-out is timed: 20 per run. */
const FANOUT_POSTS = 20 * RUNS;
const IMAGE = join(IMAGES, 'hopper.jpg');
const FDS = 65_536;
const work = mkdtempSync(join(tmpdir(), 'sisp-bench-watchers-'));
const results: Record<string, unknown> = { date: new Date().toISOString(), watchers: WATCHERS };
const MiB = 1024 * 1024;

function row(label: string, value: string, target = ''): void {
  console.log(`  ${label}: ${value}${target === '' ? '' : `   [${target}]`}`);
}

/** Raises a process's open-file limit to its hard limit, at most FDS (util-linux prlimit). */
function raiseFileLimit(pid: number): void {
  try {
    const hard = Number(
      execFileSync('prlimit', [
        '--pid',
        String(pid),
        '--nofile',
        '--raw',
        '--noheadings',
        '--output=HARD',
      ])
        .toString()
        .trim(),
    );
    const limit = Number.isFinite(hard) ? Math.min(hard, FDS) : FDS;
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${limit}:${limit}`]);
    if (limit < WATCHERS + 100)
      console.log(`  (open files limited to ${limit}: too few for the run)`);
  } catch {
    console.log(`  (could not raise the file limit of ${pid}; large runs may fail with EMFILE)`);
  }
}

/** Runs `task`; also returns the server's and this process's CPU milliseconds per item. */
async function costed<T>(server: Server, items: number, task: () => Promise<T>) {
  const serverBefore = cpuSeconds(server.pid);
  const clientBefore = process.cpuUsage();
  const result = await task();
  const client = process.cpuUsage(clientBefore);
  return {
    result,
    serverMs: ((cpuSeconds(server.pid) - serverBefore) * 1000) / items,
    clientMs: (client.user + client.system) / 1000 / items,
  };
}

const SERVER_ENV = {
  SISP_MAX_CONNECTIONS: String(WATCHERS + 1000),
  SISP_CONNECTIONS_PER_ADDRESS: String(WATCHERS + 1000),
};

async function start(port = 0): Promise<Server> {
  const server = await startSisp(join(work, 'data'), SERVER_ENV, port);
  raiseFileLimit(server.pid);
  return server;
}

function context(server: Server, name: string): CliContext {
  return { home: new Home(join(work, 'users', name)), server: server.url, caFile: server.caPath };
}

/** Runs task(0..count-1), WIDTH at a time; the rate is over the whole run. */
async function widely<T>(count: number, task: (index: number) => Promise<T>) {
  const out: T[] = new Array<T>(count);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(WIDTH, count) }, async () => {
      for (let i = next++; i < count; i = next++) out[i] = await task(i);
    }),
  );
  return { out, rate: count / ((performance.now() - started) / 1000) };
}

async function fanout(watchers: SispClient[], poster: SispClient) {
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const spreads: number[] = [];
    for (let post = 0; post < FANOUT_POSTS / RUNS; post++) {
      const name = `fan-${run}-${post}`;
      spreads.push(
        await fanoutSpread(watchers, name, () => postFile(poster, { name, path: IMAGE })),
      );
    }
    const sorted = sortedCopy(spreads);
    p50s.push(percentile(sorted, 50));
    p99s.push(percentile(sorted, 99));
  }
  return { p50: summarise(p50s), p99: summarise(p99s) };
}

/** Forks the storm's watchers FIRST..FIRST+COUNT-1 (bench/storm-watchers.ts); resolves once all are signed in. */
async function stormWatchers(server: Server, first: number, count: number): Promise<ChildProcess> {
  const child = fork(
    join(here, 'storm-watchers.ts'),
    [server.url, server.caPath, join(work, 'users'), String(first), String(count)],
    { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  if (child.pid !== undefined) raiseFileLimit(child.pid);
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => {
      resolve();
    });
    child.once('exit', (code) => {
      reject(new Error(`storm watchers exited (${String(code)}) before signing in`));
    });
  });
  return child;
}

async function storm(server: Server, poster: string): Promise<{ seconds: number; server: Server }> {
  const per = Math.ceil(STORM / STORM_PROCESSES);
  const children = await Promise.all(
    Array.from({ length: STORM_PROCESSES }, (_, k) =>
      stormWatchers(server, k * per, Math.min(per, STORM - k * per)),
    ),
  );
  const port = Number(new URL(server.url).port);
  const started = performance.now();
  await server.stop();
  const restarted = await start(port);
  // Posted while the watchers are still reconnecting: each must catch up on it.
  const target = `storm-${Date.now()}`;
  const done = Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          child.on('message', (message) => {
            if (message === 'done') resolve();
          });
        }),
    ),
  );
  for (const child of children) child.send({ target });
  const posterClient = await login(context(restarted, poster));
  await postFile(posterClient, { name: target, path: IMAGE });
  posterClient.close();
  await done;
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(
    children.map(async (child) => {
      const exited = once(child, 'exit');
      child.send({ stop: true });
      await exited;
    }),
  );
  return { seconds, server: restarted };
}

async function main(): Promise<void> {
  console.log(`sisp watchers benchmark: ${WATCHERS} watchers, storm of ${STORM}; ${work}`);
  raiseFileLimit(process.pid);
  let server = await start();
  try {
    const { result: registered, ...registerCost } = await costed(server, WATCHERS, () =>
      widely(WATCHERS, async (i) => {
        const client = await connect(context(server, `watcher${i}`));
        await client.register(`watcher${i}`);
        client.close();
      }),
    );
    row(`registrations per second (${WIDTH} at a time)`, registered.rate.toFixed(0), '≥ 500');
    row(
      'CPU per registration, server / client (ms)',
      `${registerCost.serverMs.toFixed(2)} / ${registerCost.clientMs.toFixed(2)}`,
    );
    const poster = await connect(context(server, 'poster'));
    await poster.register('poster');
    await sleep(2000);
    const idle = currentRss(server.pid);
    const { result: logins, ...loginCost } = await costed(server, WATCHERS, () =>
      widely(WATCHERS, (i) => login(context(server, `watcher${i}`))),
    );
    row(`authentications per second (${WIDTH} at a time)`, logins.rate.toFixed(0), '≥ 2000');
    row(
      'CPU per authentication, server / client (ms)',
      `${loginCost.serverMs.toFixed(2)} / ${loginCost.clientMs.toFixed(2)}`,
    );
    await sleep(2000);
    const connected = currentRss(server.pid);
    const perConnection = (connected - idle) / WATCHERS;
    row(
      'server RSS idle / with every watcher (MiB)',
      `${(idle / MiB).toFixed(0)} / ${(connected / MiB).toFixed(0)}`,
      '< 600 MiB',
    );
    row('server RSS per idle connection (KiB)', (perConnection / 1024).toFixed(1));
    const { result: spread, ...fanoutCost } = await costed(server, FANOUT_POSTS * WATCHERS, () =>
      fanout(logins.out, poster),
    );
    row(
      `ack → all ${WATCHERS} watchers told, p50 / p99 (ms)`,
      `${formatFigure(spread.p50, 1)} / ${formatFigure(spread.p99, 1)}`,
      'p99 < 500 ms',
    );
    // Which side the spread waits on: both share the machine's two cores.
    row(
      'CPU per watcher told, server / clients (µs)',
      `${(fanoutCost.serverMs * 1000).toFixed(1)} / ${(fanoutCost.clientMs * 1000).toFixed(1)}`,
    );
    const peak = peakRss(server.pid);
    row('server peak RSS (MiB)', (peak / MiB).toFixed(0));
    for (const client of logins.out) client.close();
    poster.close();
    await sleep(1000);
    const stormRuns: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const result = await storm(server, 'poster');
      server = result.server;
      stormRuns.push(result.seconds);
    }
    const stormFigure = summarise(stormRuns);
    row(
      `reconnect storm: restart → all ${STORM} re-authenticated and caught up (s)`,
      formatFigure(stormFigure, 2),
      '< 10 s',
    );
    Object.assign(results, {
      registrationsPerSecond: registered.rate,
      registerCost,
      authenticationsPerSecond: logins.rate,
      loginCost,
      idleRss: idle,
      connectedRss: connected,
      bytesPerConnection: perConnection,
      fanout: spread,
      fanoutCost,
      peakRss: peak,
      storm: stormFigure,
    });
  } finally {
    await server.stop();
  }
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `watchers-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`results: ${file}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
