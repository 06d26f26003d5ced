/**
 * A full disk: the data directory on a small tmpfs made by the test. Posts past
 * what fits are refused with E_NO_SPACE ("out of storage space"), never an internal
 * error; the server stays up, keeps what it acknowledged, and leaves no temporary.
 * Needs the right to mount a tmpfs (root, as in CI); skipped, saying so, without it.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadSharp } from '../../src/cli/sharp.js';
import { registered, startServer, tempDir } from '../e2e/harness.js';

function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

/** A PNG of random pixels, stored uncompressed: ~3 MiB that no compression shrinks. */
async function noisyPng(path: string): Promise<void> {
  const sharp = await loadSharp();
  const side = 1024;
  await sharp(randomBytes(side * side * 3), { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toFile(path);
}

describe('a full disk', () => {
  it('E_NO_SPACE, never an internal error; the server stays up and keeps what it acknowledged', async (t) => {
    const mountpoint = tempDir('disk');
    if (!mountTmpfs(mountpoint, '24m')) {
      t.skip('cannot mount a tmpfs here (needs root)');
      return;
    }
    try {
      const image = join(tempDir('noise'), 'noise.png');
      await noisyPng(image);
      const dataDir = join(mountpoint, 'data');
      mkdirSync(dataDir);
      // No reserve, so the writes themselves meet the full disk.
      const server = await startServer({ dataDir, env: { SISP_MIN_FREE_BYTES: '1' } });
      try {
        const [alice] = await registered(server, 'alice');
        const kept: string[] = [];
        let refusal = '';
        for (let n = 0; n < 12 && refusal === ''; n++) {
          const posted = await alice.run(['post', `n${n}`, image]);
          if (posted.code === 0) kept.push(`alice/n${n}`);
          else refusal = posted.stderr;
        }
        t.diagnostic(`${kept.length} posts fitted; then: ${refusal.trim()}`);
        assert.ok(kept.length > 0, 'some posts fit');
        assert.match(refusal, /out of storage space/);
        assert.doesNotMatch(refusal, /unexpected|could not complete|internal/i);
        const listed = await alice.run(['list']);
        assert.equal(listed.code, 0, listed.stderr);
        for (const name of kept) assert.match(listed.stdout, new RegExp(name));
        assert.deepEqual(readdirSync(join(dataDir, 'tmp')), []);
      } finally {
        await server.stop();
      }
    } finally {
      execFileSync('umount', [mountpoint], { stdio: 'ignore' });
    }
  });
});
