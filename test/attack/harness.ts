/**
 * The attack suite's tools: a real server process with small budgets (so attacks
 * reach them quickly), its memory sampled from /proc while an attack runs, and a
 * legitimate user whose post, list and download must keep working throughout.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { IMAGES } from '../support/paths.js';
import { registered, startServer, type ClientHome, type ServerProcess } from '../e2e/harness.js';

const MiB = 1024 * 1024;

/** Budgets small enough for an attack to reach in seconds, documented in the test. */
export const ATTACK_ENV = {
  SISP_OUTGOING_BUDGET: String(32 * MiB),
  SISP_CREDIT_BUDGET: String(32 * MiB),
  SISP_STALLED_READER_MS: '3000',
  SISP_STALLED_UPLOAD_MS: '3000',
  SISP_TLS_HANDSHAKE_TIMEOUT_MS: '2000',
};

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
  return Number(kib ?? 0) * 1024;
}

/** Samples a process's RSS every 50 ms until stopped; returns the peak. */
export function sampleRss(pid: number): { stop: () => number } {
  let peak = rssBytes(pid);
  const timer = setInterval(() => {
    try {
      peak = Math.max(peak, rssBytes(pid));
    } catch {
      // The process is gone.
    }
  }, 50);
  return {
    stop() {
      clearInterval(timer);
      return peak;
    },
  };
}

export interface Arena {
  readonly server: ServerProcess;
  readonly victim: ClientHome;
  readonly attacker: ClientHome;
  /** RSS of the server before any attack. */
  readonly baseline: number;
  /** The legitimate user posts, lists and downloads; each must succeed. */
  legitimateRound(tag: string): Promise<void>;
  stop(): Promise<void>;
}

export async function arena(env: Record<string, string> = {}): Promise<Arena> {
  const server = await startServer({ env: { ...ATTACK_ENV, ...env } });
  const [victim, attacker] = await registered(server, 'victim', 'attacker');
  const pid = server.process.pid ?? assert.fail('no server pid');
  const image = join(IMAGES, 'hopper.jpg');
  return {
    server,
    victim,
    attacker,
    baseline: rssBytes(pid),
    async legitimateRound(tag) {
      const posted = await victim.run(['post', tag, image]);
      assert.equal(posted.code, 0, `post during the attack: ${posted.stderr}`);
      const listed = await victim.run(['list']);
      assert.equal(listed.code, 0, `list during the attack: ${listed.stderr}`);
      assert.match(listed.stdout, new RegExp(`victim/${tag}`));
      const got = await victim.run(['download', `victim/${tag}`]);
      assert.equal(got.code, 0, `download during the attack: ${got.stderr}`);
    },
    async stop() {
      await server.stop();
    },
  };
}

export { MiB };
