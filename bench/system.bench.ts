/**
 * npm run bench — the real system on loopback: a real `sisp serve`, real `sisp`
 * client processes for bulk transfers, the client SDK for latency, fan-out and
 * small-image rates; and, in the same run, the references: 1 GiB over plain TLS 1.3
 * and over bare wss between two Node processes, and OpenSSH sftp (durable put, plain
 * get) against a throwaway sshd. Prints a table; writes bench/results/<time>.json.
 *
 * Environment: BENCH_RUNS (default 3), BENCH_SMALL_SECONDS (default 30),
 * BENCH_WATCHERS (default 1000), BENCH_POSTS (default 1000), BENCH_SKIP (comma list
 * of sections to skip: startup,bulk,refs,pinned,latency,fanout,small,gallery,albums),
 * BENCH_STARTUP_RUNS (default 15).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { Home } from '../src/client/home.js';
import { postFile as postImage } from '../src/cli/commands.js';
import { connect, login, type CliContext } from '../src/cli/context.js';
import { addToAlbum, createAlbum, shareAlbum } from '../src/core/albums.js';
import { listImages } from '../src/core/catalogue.js';
import type { SispClient } from '../src/core/client.js';
import { fetchThumbnails } from '../src/core/thumbnails.js';
import {
  generateP256KeyPair,
  createCertificateAuthority,
  issueServerCertificate,
  toPem,
} from '../src/crypto/certificates.js';
import { exportPkcs8 } from '../src/crypto/keys.js';
import { fanoutSpread } from './lib/fanout.js';
import { cpuSeconds, machineCpuDuring, peakRss, type MachineCpu } from './lib/proc.js';
import { startSshd } from './lib/sshd.js';
import { IMAGES, makeImage, runClient, SISP, startSisp, type Server } from './lib/sisp.js';
import { formatFigure, percentile, sortedCopy, summarise, type Figure } from './lib/stats.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SMALL_SECONDS = Number(process.env.BENCH_SMALL_SECONDS ?? 30);
const WATCHERS = Number(process.env.BENCH_WATCHERS ?? 1000);
const POSTS = Number(process.env.BENCH_POSTS ?? 1000);
const STARTUP_RUNS = Number(process.env.BENCH_STARTUP_RUNS ?? 15);
const SKIP = new Set((process.env.BENCH_SKIP ?? '').split(',').filter((s) => s !== ''));
const work = mkdtempSync(join(tmpdir(), 'sisp-bench-'));
const results: Record<string, unknown> = {
  date: new Date().toISOString(),
  node: process.version,
  runs: RUNS,
};
const table: [string, string, string][] = [];

function row(label: string, value: string, target = ''): void {
  table.push([label, value, target]);
  console.log(`  ${label}: ${value}${target === '' ? '' : `   [${target}]`}`);
}

const mbps = (bytes: number, seconds: number) => bytes / seconds / 1e6;
const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;

/**
 * Machine CPU seconds (user and kernel, both ends, every thread) per 1 GiB transfer:
 * on two shared cores this, more than any one thread, is what bounds throughput.
 */
const cpuPerGiB: Record<'sispPost' | 'sispDownload' | 'sftpPut' | 'sftpGet', MachineCpu[]> = {
  sispPost: [],
  sispDownload: [],
  sftpPut: [],
  sftpGet: [],
};

async function bulk(server: Server): Promise<void> {
  console.log('\n1. Bulk transfer (real client processes) and 2. memory');
  const alice = join(work, 'alice');
  const bob = join(work, 'bob');
  const common = ['--server', server.url, '--ca', server.caPath];
  await runClient(['register', 'alice', '--home', alice, ...common]);
  await runClient(['register', 'bob', '--home', bob, ...common]);
  const out: Record<string, unknown> = {};
  for (const size of [MiB, 64 * MiB, GiB]) {
    const image = join(work, `image-${size}.jpg`);
    makeImage(image, size);
    const up: number[] = [];
    const down: number[] = [];
    const clientRss: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const name = `bulk-${size}-${run}`;
      const { result: posted, cpu: postCpu } = await machineCpuDuring(() =>
        runClient(['post', name, image, '--home', alice]),
      );
      up.push(mbps(size, posted.seconds));
      const target = join(work, `down-${run}`);
      const { result: got, cpu: getCpu } = await machineCpuDuring(() =>
        runClient(['download', `alice/${name}`, '--out', target, '--home', bob]),
      );
      down.push(mbps(size, got.seconds));
      if (size === GiB) {
        cpuPerGiB.sispPost.push(postCpu);
        cpuPerGiB.sispDownload.push(getCpu);
      }
      clientRss.push(posted.rss, got.rss);
      rmSync(target, { recursive: true, force: true });
    }
    rmSync(image);
    const upload = summarise(up);
    const download = summarise(down);
    const serverPeak = peakRss(server.pid);
    row(`sisp post ${mib(size)} (MB/s)`, formatFigure(upload));
    row(`sisp download ${mib(size)} (MB/s)`, formatFigure(download));
    row(
      `peak RSS during ${mib(size)}: client / server (MiB)`,
      `${(Math.max(...clientRss) / MiB).toFixed(0)} / ${(serverPeak / MiB).toFixed(0)}`,
      size === GiB ? 'each < 150 MiB' : '',
    );
    out[String(size)] = {
      upload,
      download,
      clientPeakRss: Math.max(...clientRss),
      serverPeakRss: serverPeak,
    };
  }
  results.bulk = out;
}

/** Wall seconds of one process from spawn to exit; it must succeed. */
function timedRun(args: string[]): number {
  const started = performance.now();
  const run = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const seconds = (performance.now() - started) / 1000;
  if (run.status !== 0) throw new Error(`${args.join(' ')} failed: ${run.stderr.toString()}`);
  return seconds;
}

/**
 * CLI start-up beside `node -e 0`, interleaved round by round so that both see the same
 * machine: `sisp --help`, `sisp list` (TLS, sign-in, one listing of 20 images) and a
 * 6 KiB `sisp post` (also its image check, thumbnail, key wraps and durable commit).
 */
async function startup(server: Server): Promise<void> {
  console.log(`\n0. CLI start-up, ${STARTUP_RUNS} rounds, each command once a round`);
  const home = join(work, 'startup');
  await runClient([
    'register',
    'starter',
    '--home',
    home,
    '--server',
    server.url,
    '--ca',
    server.caPath,
  ]);
  const image = join(IMAGES, 'hopper.jpg');
  for (let i = 0; i < 20; i++) await runClient(['post', `s${i}`, image, '--home', home]);
  const times = {
    node: [] as number[],
    help: [] as number[],
    list: [] as number[],
    post: [] as number[],
  };
  for (let round = 0; round < STARTUP_RUNS; round++) {
    times.node.push(timedRun(['-e', '0']));
    times.help.push(timedRun([SISP, '--help']));
    times.list.push(timedRun([SISP, 'list', '--home', home]));
    times.post.push(timedRun([SISP, 'post', `p${round}`, image, '--home', home]));
  }
  const node = summarise(times.node);
  const figure = (label: string, values: number[], target: number) => {
    const summary = summarise(values);
    const ratio = summary.median / node.median;
    row(
      `${label} (s)`,
      `${formatFigure(summary, 3)}; ${ratio.toFixed(2)}x node -e 0`,
      `≤ ${target}x`,
    );
    return { ...summary, ratio };
  };
  row('node -e 0 (s)', formatFigure(node, 3));
  results.startup = {
    node,
    help: figure('sisp --help', times.help, 1.5),
    list: figure('sisp list, 20 images', times.list, 2.5),
    post: figure('sisp post, 6 KiB JPEG', times.post, 3),
  };
}

async function tlsMaterial(): Promise<string> {
  const dir = join(work, 'tls');
  mkdirSync(dir, { recursive: true });
  const ca = await createCertificateAuthority();
  const keys = await generateP256KeyPair();
  const cert = await issueServerCertificate(ca, {
    tlsPublicKey: keys.publicKey,
    encryptionKey: new Uint8Array(32).fill(9),
    hostnames: ['localhost'],
    ips: ['127.0.0.1'],
  });
  writeFileSync(join(dir, 'key.pem'), toPem(await exportPkcs8(keys.privateKey), 'PRIVATE KEY'));
  writeFileSync(join(dir, 'cert.pem'), toPem(cert));
  writeFileSync(join(dir, 'ca.pem'), toPem(ca.certificate));
  return dir;
}

function startPeer(mode: 'tls' | 'wss', dir: string, bytes: number): Promise<number> {
  return new Promise((resolvePort) => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(here, 'ceiling-peer.ts'), mode, dir, String(bytes)],
      { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    child.stdout.once('data', (chunk: Buffer) => {
      resolvePort(Number(chunk.toString().trim()));
    });
  });
}

async function tlsCeiling(dir: string): Promise<number> {
  const port = await startPeer('tls', dir, GiB);
  const block = randomBytes(MiB);
  const started = performance.now();
  await new Promise<void>((done, reject) => {
    const socket = tlsConnect(
      { host: '127.0.0.1', port, ca: readFileSync(join(dir, 'ca.pem')), minVersion: 'TLSv1.3' },
      () => {
        let sent = 0;
        const pump = (): void => {
          while (sent < GiB) {
            sent += block.length;
            if (!socket.write(block)) {
              socket.once('drain', pump);
              return;
            }
          }
        };
        pump();
      },
    );
    socket.on('data', () => {
      done();
      socket.destroy();
    });
    socket.on('error', reject);
  });
  return mbps(GiB, (performance.now() - started) / 1000);
}

async function wssCeiling(dir: string): Promise<number> {
  const port = await startPeer('wss', dir, GiB);
  const block = randomBytes(MiB);
  const ws = new WebSocket(`wss://127.0.0.1:${port}/`, {
    ca: readFileSync(join(dir, 'ca.pem')),
    perMessageDeflate: false,
  });
  await new Promise<void>((done) =>
    ws.once('open', () => {
      done();
    }),
  );
  const started = performance.now();
  const finished = new Promise<void>((done) =>
    ws.once('message', () => {
      done();
    }),
  );
  for (let sent = 0; sent < GiB; sent += block.length) {
    // Keep a few MiB in flight, like a streaming sender with backpressure would.
    while (ws.bufferedAmount > 8 * MiB) await new Promise((r) => setImmediate(r));
    ws.send(block, { binary: true });
  }
  await finished;
  const rate = mbps(GiB, (performance.now() - started) / 1000);
  ws.close();
  return rate;
}

async function references(): Promise<void> {
  console.log('\n1b. References (1 GiB)');
  const dir = await tlsMaterial();
  const tls: number[] = [];
  const wss: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    tls.push(await tlsCeiling(dir));
    wss.push(await wssCeiling(dir));
  }
  const sshd = await startSshd();
  const image = join(work, 'sftp-source.bin');
  makeImage(image, GiB);
  const put: number[] = [];
  const get: number[] = [];
  try {
    for (let run = 0; run < RUNS; run++) {
      const remote = join(work, `sftp-remote-${run}.bin`);
      const putRun = await machineCpuDuring(() => sshd.sftp([`put -f ${image} ${remote}`]));
      put.push(mbps(GiB, putRun.result));
      cpuPerGiB.sftpPut.push(putRun.cpu);
      const getRun = await machineCpuDuring(() =>
        sshd.sftp([`get ${remote} ${join(work, 'sftp-local.bin')}`]),
      );
      get.push(mbps(GiB, getRun.result));
      cpuPerGiB.sftpGet.push(getRun.cpu);
      rmSync(remote, { force: true });
      rmSync(join(work, 'sftp-local.bin'), { force: true });
    }
  } finally {
    sshd.stop();
    rmSync(image, { force: true });
  }
  results.references = {
    tls: summarise(tls),
    wss: summarise(wss),
    sftpPut: summarise(put),
    sftpGet: summarise(get),
  };
  row('plain TLS 1.3 socket, 1 GiB (MB/s)', formatFigure(summarise(tls)));
  row('bare wss (ws + bufferutil), 1 GiB (MB/s)', formatFigure(summarise(wss)));
  row('sftp put -f (fsync), aes256-gcm, 1 GiB (MB/s)', formatFigure(summarise(put)));
  row('sftp get, aes256-gcm, 1 GiB (MB/s)', formatFigure(summarise(get)));
}

const SERVER_CORE = 0;
const CLIENT_CORE = 1;

/**
 * The two-machine-like figure: sisp's server (and sshd) on one core, the clients (and
 * sftp) on the other, 1 GiB each way, so each side's own cost sets its speed.
 */
async function pinned(): Promise<void> {
  console.log(`\n1c. Pinned: servers on CPU ${SERVER_CORE}, clients on CPU ${CLIENT_CORE} (1 GiB)`);
  const server = await startSisp(join(work, 'pinned-data'), {}, 0, SERVER_CORE);
  const image = join(work, 'pinned.jpg');
  makeImage(image, GiB);
  const up: number[] = [];
  const down: number[] = [];
  const put: number[] = [];
  const get: number[] = [];
  try {
    const common = ['--server', server.url, '--ca', server.caPath];
    const alice = join(work, 'pinned-alice');
    const bob = join(work, 'pinned-bob');
    await runClient(['register', 'alice', '--home', alice, ...common], CLIENT_CORE);
    await runClient(['register', 'bob', '--home', bob, ...common], CLIENT_CORE);
    for (let run = 0; run < RUNS; run++) {
      const name = `pinned-${run}`;
      up.push(
        mbps(GiB, (await runClient(['post', name, image, '--home', alice], CLIENT_CORE)).seconds),
      );
      const target = join(work, `pinned-down-${run}`);
      const got = await runClient(
        ['download', `alice/${name}`, '--out', target, '--home', bob],
        CLIENT_CORE,
      );
      down.push(mbps(GiB, got.seconds));
      rmSync(target, { recursive: true, force: true });
    }
  } finally {
    await server.stop();
  }
  const sshd = await startSshd({ server: SERVER_CORE, client: CLIENT_CORE });
  try {
    for (let run = 0; run < RUNS; run++) {
      const remote = join(work, `pinned-remote-${run}.bin`);
      put.push(mbps(GiB, sshd.sftp([`put -f ${image} ${remote}`])));
      get.push(mbps(GiB, sshd.sftp([`get ${remote} ${join(work, 'pinned-local.bin')}`])));
      rmSync(remote, { force: true });
      rmSync(join(work, 'pinned-local.bin'), { force: true });
    }
  } finally {
    sshd.stop();
    rmSync(image, { force: true });
  }
  const figures = {
    post: summarise(up),
    download: summarise(down),
    sftpPut: summarise(put),
    sftpGet: summarise(get),
  };
  results.pinned = figures;
  row(
    'pinned sisp post / download, 1 GiB (MB/s)',
    `${formatFigure(figures.post)} / ${formatFigure(figures.download)}`,
  );
  row(
    'pinned sftp put -f / get, 1 GiB (MB/s)',
    `${formatFigure(figures.sftpPut)} / ${formatFigure(figures.sftpGet)}`,
  );
  row(
    'pinned sisp post / sftp put -f',
    (figures.post.median / figures.sftpPut.median).toFixed(2),
    '≥ 1.0',
  );
  row(
    'pinned sisp download / sftp get',
    (figures.download.median / figures.sftpGet.median).toFixed(2),
    '≥ 1.0',
  );
}

function clientOptions(server: Server, home: string): CliContext {
  return { home: new Home(home), server: server.url, caFile: server.caPath };
}

async function registerUser(server: Server, name: string): Promise<SispClient> {
  const client = await connect(clientOptions(server, join(work, 'users', name)));
  await client.register(name);
  return client;
}

async function latency(server: Server): Promise<void> {
  console.log(`\n3. Latency: ${POSTS} posts of 100 KiB by one client while another watches`);
  const poster = await registerUser(server, 'latency-poster');
  const watcher = await registerUser(server, 'latency-watcher');
  const image = join(work, 'small-100k.jpg');
  makeImage(image, 100 * 1024);
  const seen = new Map<string, number>();
  const waiting = new Map<string, () => void>();
  watcher.connection.onEvent = (event) => {
    seen.set(event.body.name, performance.now());
    waiting.get(event.body.name)?.();
  };
  const figures = { ackP50: [] as number[], ackP99: [] as number[] };
  const notifyFigures = { p50: [] as number[], p99: [] as number[] };
  for (let run = 0; run < RUNS; run++) {
    const ack: number[] = [];
    const notify: number[] = [];
    for (let i = 0; i < POSTS; i++) {
      const name = `lat-${run}-${i}`;
      const notified = new Promise<void>((done) => waiting.set(name, done));
      const started = performance.now();
      await postImage(poster, { name, path: image });
      ack.push(performance.now() - started);
      await notified;
      notify.push((seen.get(name) ?? 0) - started);
      waiting.delete(name);
    }
    const a = sortedCopy(ack);
    const n = sortedCopy(notify);
    figures.ackP50.push(percentile(a, 50));
    figures.ackP99.push(percentile(a, 99));
    notifyFigures.p50.push(percentile(n, 50));
    notifyFigures.p99.push(percentile(n, 99));
  }
  poster.close();
  watcher.close();
  results.latency = {
    ackP50: summarise(figures.ackP50),
    ackP99: summarise(figures.ackP99),
    notifyP50: summarise(notifyFigures.p50),
    notifyP99: summarise(notifyFigures.p99),
  };
  row(
    'post → acknowledgement, p50 / p99 (ms)',
    `${formatFigure(summarise(figures.ackP50), 1)} / ${formatFigure(summarise(figures.ackP99), 1)}`,
  );
  row(
    'post → watcher has NEW_IMAGE, p50 / p99 (ms)',
    `${formatFigure(summarise(notifyFigures.p50), 1)} / ${formatFigure(summarise(notifyFigures.p99), 1)}`,
    'p99 < 50 ms',
  );
}

/** Runs `task` for 0..count-1, `width` at a time; also returns each batch's rate per second. */
async function inBatches<T>(
  count: number,
  width: number,
  task: (index: number) => Promise<T>,
): Promise<{ out: T[]; rates: number[] }> {
  const out: T[] = [];
  const rates: number[] = [];
  for (let start = 0; start < count; start += width) {
    const size = Math.min(width, count - start);
    const started = performance.now();
    out.push(...(await Promise.all(Array.from({ length: size }, (_, k) => task(start + k)))));
    rates.push(size / ((performance.now() - started) / 1000));
  }
  return { out, rates };
}

async function fanout(server: Server): Promise<void> {
  console.log(`\n4. Fan-out to ${WATCHERS} watchers, and 6. registration / authentication rates`);
  const registered = await inBatches(WATCHERS, 16, (i) => registerUser(server, `fan${i}`));
  for (const client of registered.out) client.close();
  const logins = await inBatches(WATCHERS, 16, (i) =>
    login({ home: new Home(join(work, 'users', `fan${i}`)) }),
  );
  const watchers = logins.out;
  const registrations = summarise(registered.rates);
  const authentications = summarise(logins.rates);
  row('registrations per second (batches of 16)', formatFigure(registrations));
  row('session authentications per second (batches of 16)', formatFigure(authentications));

  const poster = await registerUser(server, 'fan-poster');
  const image = join(IMAGES, 'hopper.jpg');
  const p50s: number[] = [];
  const p99s: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const spreads: number[] = [];
    for (let post = 0; post < 50; post++) {
      const name = `fan-${run}-${post}`;
      spreads.push(
        await fanoutSpread(watchers, name, () => postImage(poster, { name, path: image })),
      );
    }
    const sorted = sortedCopy(spreads);
    p50s.push(percentile(sorted, 50));
    p99s.push(percentile(sorted, 99));
  }
  const serverRss = peakRss(server.pid);
  results.fanout = {
    watchers: WATCHERS,
    p50: summarise(p50s),
    p99: summarise(p99s),
    serverPeakRss: serverRss,
    registrations,
    authentications,
  };
  row(
    `ack → all ${WATCHERS} watchers notified, p50 / p99 (ms)`,
    `${formatFigure(summarise(p50s), 1)} / ${formatFigure(summarise(p99s), 1)}`,
    'p99 < 250 ms',
  );
  row('server peak RSS with the watchers connected (MiB)', (serverRss / MiB).toFixed(0));
  for (const watcher of watchers) watcher.close();
  poster.close();
}

/** Runs `processes` small-worker processes of `perProcess` clients each, together. */
async function smallPhase(
  server: Server,
  mode: 'post' | 'download',
  tag: string,
  processes: number,
  perProcess: number,
) {
  const base = join(work, 'small');
  const image = join(IMAGES, 'hopper.jpg');
  const children = Array.from({ length: processes }, (_, p) => {
    const child = spawn(
      process.execPath,
      [
        // BENCH_WORKER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR": profiles of the clients.
        ...(process.env.BENCH_WORKER_NODE_FLAGS ?? '').split(' ').filter((f) => f !== ''),
        '--import',
        'tsx',
        join(here, 'small-worker.ts'),
        server.url,
        server.caPath,
        base,
        `small${p}-`,
        String(perProcess),
        mode,
        image,
        tag,
      ],
      { cwd: root, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    let output = '';
    const ready = new Promise<void>((resolveReady) => {
      child.stdout.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('ready')) resolveReady();
      });
    });
    const done = new Promise<number>((resolveDone) => {
      child.once('exit', () => {
        const match = /"done":(\d+)/.exec(output);
        resolveDone(Number(match?.[1] ?? 0));
      });
    });
    return { child, ready, done };
  });
  await Promise.all(children.map((c) => c.ready));
  const cpuBefore = cpuSeconds(server.pid);
  const started = performance.now();
  const deadline = Date.now() + SMALL_SECONDS * 1000;
  const { result: total, cpu: machine } = await machineCpuDuring(async () => {
    for (const c of children) c.child.stdin.end(`${deadline}\n`);
    return (await Promise.all(children.map((c) => c.done))).reduce((a, b) => a + b, 0);
  });
  const seconds = (performance.now() - started) / 1000;
  return {
    rate: total / seconds,
    cpu: ((cpuSeconds(server.pid) - cpuBefore) / seconds) * 100,
    machineCpu: ((machine.user + machine.system) / seconds) * 100,
    total,
  };
}

async function small(server: Server): Promise<void> {
  console.log(`\n5. Small images: 16 concurrent clients (4 processes x 4) for ${SMALL_SECONDS} s`);
  type Phase = Awaited<ReturnType<typeof smallPhase>>;
  const posts: Phase[] = [];
  const downloads: Phase[] = [];
  // Each run posts under its own names; downloads fetch what the first run posted.
  for (let run = 0; run < RUNS; run++)
    posts.push(await smallPhase(server, 'post', `r${run}`, 4, 4));
  for (let run = 0; run < RUNS; run++)
    downloads.push(await smallPhase(server, 'download', 'r0', 4, 4));
  const summary = (phases: Phase[]) => ({
    rate: summarise(phases.map((phase) => phase.rate)),
    serverCpu: summarise(phases.map((phase) => phase.cpu)),
    machineCpu: summarise(phases.map((phase) => phase.machineCpu)),
  });
  const postSummary = summary(posts);
  const downloadSummary = summary(downloads);
  results.small = { posts: postSummary, downloads: downloadSummary };
  const describe = (figures: typeof postSummary) =>
    `${formatFigure(figures.rate)} (server CPU ${figures.serverCpu.median.toFixed(0)}%, machine ${figures.machineCpu.median.toFixed(0)}% of 200%)`;
  row('small-image posts per second (durably acknowledged)', describe(postSummary), '≥ 500/s');
  row('small-image downloads per second', describe(downloadSummary));
}

/** A gallery page: 100 photos posted with their thumbnails, then listed and shown by a viewer. */
async function gallery(server: Server): Promise<void> {
  console.log('\n6. Gallery: a page of 100 thumbnails (listed, fetched, verified, opened)');
  const poster = await registerUser(server, 'gallery-poster');
  const viewer = await registerUser(server, 'gallery-viewer');
  const photo = join(here, '..', 'test', 'fixtures', 'images', 'flower.jpg');
  for (let i = 0; i < 100; i++) await postImage(poster, { name: `g${i}`, path: photo });
  const pages: number[] = [];
  let bytes = 0;
  for (let run = 0; run < Math.max(RUNS, 3); run++) {
    const started = performance.now();
    const listed = (await listImages(viewer)).filter((image) => image.owner === 'gallery-poster');
    const thumbnails = await fetchThumbnails(viewer, listed.slice(0, 100));
    pages.push(performance.now() - started);
    bytes = [...thumbnails.values()].reduce((sum, thumbnail) => sum + thumbnail.length, 0);
  }
  poster.close();
  viewer.close();
  results.gallery = { pageMs: summarise(pages), thumbnailBytes: bytes };
  row(
    'list + 100 thumbnails (ms per page)',
    `${formatFigure(summarise(pages), 0)}; ${Math.round(bytes / 1024)} KiB of thumbnails`,
  );
}

/** An album of 1,000 images: filling it, then sharing it with one more user (one wrap). */
async function albums(server: Server): Promise<void> {
  console.log('\n7. Albums: 1,000 images added, then the album shared with one more user');
  const owner = await registerUser(server, 'album-owner');
  const photo = join(here, '..', 'test', 'fixtures', 'images', 'hopper.png');
  const names = Array.from({ length: 1000 }, (_, i) => `a${i}`);
  for (const name of names) await postImage(owner, { name, path: photo, to: ['album-owner'] });
  await createAlbum(owner, 'bench');
  const addStarted = performance.now();
  await addToAlbum(owner, 'bench', names);
  const addMs = performance.now() - addStarted;
  const shares: number[] = [];
  for (let run = 0; run < Math.max(RUNS, 3); run++) {
    const member = await registerUser(server, `album-member-${run}`);
    const started = performance.now();
    await shareAlbum(owner, 'bench', [member.username]);
    shares.push(performance.now() - started);
    member.close();
  }
  owner.close();
  results.albums = { addThousandMs: addMs, shareMs: summarise(shares) };
  row('album add of 1,000 images (ms)', addMs.toFixed(0));
  row('share an album of 1,000 with one more user (ms)', formatFigure(summarise(shares), 0));
}

/** Median machine CPU seconds per 1 GiB transfer, user / kernel, for sisp and sftp. */
function cpuReport(): void {
  const entries = Object.entries(cpuPerGiB).filter(([, runs]) => runs.length > 0);
  if (entries.length === 0) return;
  console.log('\nMachine CPU seconds per 1 GiB transfer (both ends, all threads; 2 cores)');
  const out: Record<string, { user: Figure; system: Figure }> = {};
  for (const [name, runs] of entries) {
    const user = summarise(runs.map((cpu) => cpu.user));
    const system = summarise(runs.map((cpu) => cpu.system));
    out[name] = { user, system };
    row(
      `CPU s per GiB, ${name}: user + kernel`,
      `${user.median.toFixed(1)} + ${system.median.toFixed(1)} = ${(user.median + system.median).toFixed(1)}`,
    );
  }
  results.cpuPerGiB = out;
}

async function main(): Promise<void> {
  console.log(
    `sisp system benchmark — ${RUNS} runs per figure, median (min–max); work dir ${work}`,
  );
  const server = await startSisp(join(work, 'data'));
  try {
    if (!SKIP.has('startup')) await startup(server);
    if (!SKIP.has('bulk')) await bulk(server);
    if (!SKIP.has('refs')) await references();
    if (!SKIP.has('pinned')) await pinned();
    if (!SKIP.has('latency')) await latency(server);
    if (!SKIP.has('fanout')) await fanout(server);
    if (!SKIP.has('small')) await small(server);
    if (!SKIP.has('gallery')) await gallery(server);
    if (!SKIP.has('albums')) await albums(server);
  } finally {
    await server.stop();
  }
  const bulkResults = results.bulk as
    Record<string, { upload: Figure; download: Figure }> | undefined;
  const refs = results.references as { wss: Figure; sftpPut: Figure; sftpGet: Figure } | undefined;
  const gib = bulkResults?.[String(GiB)];
  if (gib !== undefined && refs !== undefined) {
    console.log('\nRatios (1 GiB, same run)');
    row('sisp post / sftp put -f', (gib.upload.median / refs.sftpPut.median).toFixed(2), '≥ 1.0');
    row(
      'sisp download / sftp get',
      (gib.download.median / refs.sftpGet.median).toFixed(2),
      '≥ 1.0',
    );
    row('sisp post / bare wss', (gib.upload.median / refs.wss.median).toFixed(2), '≥ 0.4');
    row('sisp download / bare wss', (gib.download.median / refs.wss.median).toFixed(2), '≥ 0.4');
  }
  cpuReport();
  results.table = table;
  const dir = join(here, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(results, null, 2));
  console.log(`\nresults: ${file}`);
  rmSync(work, { recursive: true, force: true });
}

await main();
