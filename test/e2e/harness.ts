/**
 * End-to-end harness: the real `sisp` executable (dist/sisp.js, built by `npm run
 * build`) as a server process on a free port and as client processes, each client
 * with its own home directory.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Home } from '../../src/client/home.js';
import { NODE_CRYPTO } from '../../src/client/platform.js';
import { nodeConnector } from '../../src/client/ws-transport.js';
import { SispClient } from '../../src/core/client.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The executable under test: this build, or another one (SISP_TEST_BIN) to compare against. */
export const SISP = process.env.SISP_TEST_BIN ?? join(root, 'dist', 'sisp.js');
export const IMAGES = join(root, 'test', 'fixtures', 'images');

if (!existsSync(SISP)) throw new Error('dist/sisp.js is missing: run `npm run build` first');

const created: string[] = [];
// Every temporary directory goes when the test process ends, passed or failed.
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `sisp-${prefix}-`));
  created.push(dir);
  return dir;
}

export interface ServerProcess {
  readonly url: string;
  readonly dataDir: string;
  readonly caPath: string;
  readonly process: ChildProcess;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function startServer(
  options: { dataDir?: string; env?: Record<string, string>; port?: number } = {},
): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir('data');
  const child = spawn(
    process.execPath,
    [SISP, 'serve', '--data', dataDir, '--port', String(options.port ?? 0), '--quiet'],
    {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`server did not start: ${output}`));
    }, 20_000);
    const check = (): void => {
      const match = /sisp serving (wss:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolveUrl(match[1]);
      }
    };
    child.stdout.on('data', check);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${output}`));
    });
  });
  const exited = new Promise<number | null>((resolveExit) => {
    if (child.exitCode !== null) resolveExit(child.exitCode);
    child.once('exit', (code) => {
      resolveExit(code);
    });
  });
  return {
    url,
    dataDir,
    caPath: join(dataDir, 'ca.pem'),
    process: child,
    output: () => output,
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

export interface RunResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface ClientHome {
  readonly dir: string;
  run(
    args: string[],
    options?: { input?: string; env?: Record<string, string>; timeoutMs?: number },
  ): Promise<RunResult>;
  spawn(args: string[], options?: { env?: Record<string, string> }): LiveProcess;
}

export function clientHome(
  server: { url: string; caPath: string },
  dir = tempDir('home'),
): ClientHome {
  const base = ['--home', dir, '--server', server.url, '--ca', server.caPath];
  return {
    dir,
    run: (args, options = {}) => runSisp([...base, ...args], options),
    spawn: (args, options = {}) => new LiveProcess([...base, ...args], options.env ?? {}),
  };
}

export function runSisp(
  args: string[],
  options: { input?: string; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, [SISP, ...args], {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sisp ${args.join(' ')} timed out\n${stdout}\n${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolveRun({ code, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** A long-running client (watch), with a way to wait for output lines. */
export class LiveProcess {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  readonly #waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string>) {
    this.child = spawn(process.execPath, [SISP, ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stdout?.on('data', (chunk: Buffer) => {
      this.stdout += chunk.toString();
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.child.stderr?.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
      for (const wake of this.#waiters.splice(0)) wake();
    });
  }

  async waitFor(
    predicate: (stdout: string, stderr: string) => boolean,
    timeoutMs = 15_000,
  ): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.stdout, this.stderr)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting; stdout:\n${this.stdout}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, Math.min(left, 500));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolveWait();
        });
      });
    }
  }

  async stop(): Promise<number | null> {
    if (this.child.exitCode !== null) return this.child.exitCode;
    const exited = new Promise<number | null>((resolveExit) =>
      this.child.once('exit', resolveExit),
    );
    this.child.kill('SIGINT');
    return exited;
  }
}

export function cleanup(...dirs: string[]): void {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
}

/** Registers each user in a home of their own; fails the test if any registration fails. */
export async function registered<const Names extends readonly string[]>(
  server: { url: string; caPath: string },
  ...names: Names
): Promise<{ [K in keyof Names]: ClientHome }> {
  const homes: ClientHome[] = [];
  for (const name of names) {
    const home = clientHome(server);
    const result = await home.run(['register', name]);
    if (result.code !== 0) throw new Error(`register ${name} failed: ${result.stderr}`);
    homes.push(home);
  }
  // One home per name, in order: the mapped tuple type says exactly that.
  return homes as { [K in keyof Names]: ClientHome };
}

/** A real JPEG header followed by `extra` random bytes: an image by content, large by size. */
export function largeJpeg(extra: number): string {
  const path = join(tempDir('large'), 'large.jpg');
  writeFileSync(
    path,
    Buffer.concat([readFileSync(join(IMAGES, 'hopper.jpg')), randomBytes(extra)]),
  );
  return path;
}

const shellQuote = (word: string): string => `'${word.replaceAll("'", `'\\''`)}'`;

/**
 * The real executable on a pseudo-terminal (util-linux `script`), 100 columns by 30
 * rows, for what only a terminal shows: the prompt's line editing, Ctrl-C as a key,
 * progress bars and colour. Keys go in with send(); everything drawn comes out.
 */
export class TerminalProcess {
  readonly child: ChildProcess;
  output = '';
  readonly exited: Promise<number | null>;
  readonly #waiters: (() => void)[] = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    const command = `stty cols 100 rows 30; exec ${[process.execPath, SISP, ...args].map(shellQuote).join(' ')}`;
    this.child = spawn('script', ['-qfec', command, '/dev/null'], {
      env: { ...process.env, TERM: 'xterm-256color', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const take = (chunk: Buffer): void => {
      this.output += chunk.toString();
      for (const wake of this.#waiters.splice(0)) wake();
    };
    this.child.stdout?.on('data', take);
    this.child.stderr?.on('data', take);
    this.exited = new Promise((resolveExit) => this.child.once('exit', resolveExit));
  }

  send(keys: string): void {
    this.child.stdin?.write(keys);
  }

  /** Waits until the output (from `from` on) matches. */
  async waitFor(pattern: RegExp, from = 0, timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(withoutEscapes(this.output.slice(from)))) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `timed out waiting for ${pattern}; output:\n${JSON.stringify(this.output)}`,
        );
      await new Promise<void>((resolveWait) => {
        const timer = setTimeout(resolveWait, Math.min(left, 250));
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolveWait();
        });
      });
    }
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

/** Terminal output with cursor movements and colours taken out, to match text against. */
export function withoutEscapes(output: string): string {
  const escape = String.fromCharCode(27);
  return output.replace(new RegExp(`${escape}\\[[0-9;?]*[A-Za-z]`, 'g'), '');
}

/** The arguments that point a command at a server and a home. */
export function homeArgs(server: { url: string; caPath: string }, home: { dir: string }): string[] {
  return ['--home', home.dir, '--server', server.url, '--ca', server.caPath];
}

/** A client signed in with a CLI home, in this process (to act within a transfer, or replay keys). */
export function inProcessClient(
  server: { url: string; caPath: string },
  home: { dir: string },
): Promise<SispClient> {
  return SispClient.login({
    storage: new Home(home.dir),
    connector: nodeConnector,
    crypto: NODE_CRYPTO,
    server: server.url,
    caPem: readFileSync(server.caPath, 'utf8'),
  });
}
