/**
 * The real sisp for the benchmarks: the built server and client executables as
 * separate processes, and large test images made on disk beforehand.
 */
import { spawn } from 'node:child_process';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { watchPeakRss } from './proc.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SISP = join(root, 'dist', 'sisp.js');
export const IMAGES = join(root, 'test', 'fixtures', 'images');
const MiB = 1024 * 1024;

/** A JPEG header followed by random bytes: an image by content, of any size. */
export function makeImage(path: string, size: number): void {
  const header = readFileSync(join(IMAGES, 'hopper.jpg'));
  const fd = openSync(path, 'w');
  writeSync(fd, header);
  const block = randomBytes(4 * MiB);
  for (let written = header.length; written < size;) {
    const n = Math.min(block.length, size - written);
    writeSync(fd, block, 0, n);
    written += n;
  }
  // On disk before any timing starts: otherwise the kernel writes this input back
  // during the first transfers and they pay for it.
  fsyncSync(fd);
  closeSync(fd);
}

export interface Server {
  url: string;
  caPath: string;
  pid: number;
  stop(): Promise<void>;
}

/** A server for benchmarks: limits raised so the load, not a limit, is what is measured. */
export async function startSisp(
  dataDir: string,
  env: Record<string, string> = {},
  port = 0,
  /** Pins the server to this CPU (taskset); unpinned by default. */
  core?: number,
): Promise<Server> {
  // BENCH_SERVER_NODE_FLAGS="--cpu-prof --cpu-prof-dir=DIR": how the profiles in
  // bench/README were taken (Node refuses --cpu-prof in NODE_OPTIONS).
  const flags = (process.env.BENCH_SERVER_NODE_FLAGS ?? '').split(' ').filter((f) => f !== '');
  const serve = [...flags, SISP, 'serve', '--data', dataDir, '--port', String(port), '--quiet'];
  const child = spawn(
    core === undefined ? process.execPath : 'taskset',
    core === undefined ? serve : ['-c', String(core), process.execPath, ...serve],
    {
      env: {
        ...process.env,
        SISP_RATE: '1000000',
        SISP_RATE_BURST: '1000000',
        SISP_MAX_CONNECTIONS: '10000',
        SISP_CONNECTIONS_PER_ADDRESS: '100000',
        SISP_LOG_LEVEL: 'warn',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const url = await new Promise<string>((resolveUrl, reject) => {
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /sisp serving (wss:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolveUrl(match[1]);
    });
    child.once('exit', () => {
      reject(new Error(`server exited: ${output}`));
    });
  });
  return {
    url,
    caPath: join(dataDir, 'ca.pem'),
    pid: child.pid ?? 0,
    stop: () =>
      new Promise((resolveStop) => {
        child.once('exit', () => {
          resolveStop();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Runs the real client executable; returns wall seconds and the client's peak RSS. */
export function runClient(
  args: string[],
  /** Pins the client to this CPU (taskset); unpinned by default. */
  core?: number,
): Promise<{ seconds: number; rss: number }> {
  return new Promise((resolveRun, reject) => {
    const started = performance.now();
    const command = [SISP, ...args];
    const child =
      core === undefined
        ? spawn(process.execPath, command, { stdio: ['ignore', 'ignore', 'pipe'] })
        : spawn('taskset', ['-c', String(core), process.execPath, ...command], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const rss = watchPeakRss(child.pid ?? 0, 10);
    child.once('exit', (code) => {
      const peak = rss.stop();
      if (code !== 0) reject(new Error(`sisp ${args.join(' ')} failed: ${stderr}`));
      else resolveRun({ seconds: (performance.now() - started) / 1000, rss: peak });
    });
  });
}
