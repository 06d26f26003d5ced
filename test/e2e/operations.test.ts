/**
 * What an operator does and can get wrong: backup and restore as OPERATIONS.md
 * says, restoring without the keys, two servers on one directory, a directory made
 * with loose permissions, rotating logs, and floods of connections in the log.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { connect as netConnect } from 'node:net';
import { describe, it } from 'node:test';
import { IMAGES } from '../support/paths.js';
import { clientHome, registered, startServer, tempDir } from './harness.js';

const mode = (path: string): number => statSync(path).mode & 0o777;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('operations', () => {
  it('backup and restore as documented; a restore without the keys refuses to start, naming both CAs', async () => {
    const server = await startServer();
    const [alice, bob] = await registered(server, 'alice', 'bob');
    assert.equal((await alice.run(['post', 'kept', join(IMAGES, 'hopper.png')])).code, 0);
    // The documented backup: sqlite3's online backup of sisp.db, and blobs/; keys apart.
    const backup = tempDir('backup');
    execFileSync('sqlite3', [
      join(server.dataDir, 'sisp.db'),
      `.backup ${join(backup, 'sisp.db')}`,
    ]);
    cpSync(join(server.dataDir, 'blobs'), join(backup, 'blobs'), { recursive: true });
    const keys = tempDir('keys');
    for (const file of ['ca.pem', 'ca-key.pem', 'wrap-key.pem', 'tls-key.pem'])
      cpSync(join(server.dataDir, file), join(keys, file));
    await server.stop();

    // Restored without the keys: a new CA would be made, and every client would fail.
    const bare = tempDir('restore-bare');
    cpSync(backup, bare, { recursive: true });
    await assert.rejects(startServer({ dataDir: bare }), (error: Error) => {
      assert.match(
        error.message,
        /the database belongs to the CA with fingerprint [\d ]+, but this data directory's CA is [\d ]+: restore ca\.pem, ca-key\.pem/,
      );
      return true;
    });

    // Restored with them: the same server, as far as any client can tell.
    const full = tempDir('restore-full');
    cpSync(backup, full, { recursive: true });
    cpSync(keys, full, { recursive: true });
    const restored = await startServer({ dataDir: full, port: Number(new URL(server.url).port) });
    try {
      const got = await bob.run(['download', 'alice/kept']);
      assert.equal(got.code, 0, got.stderr);
      assert.deepEqual(readFileSync(got.stdout.trim()), readFileSync(join(IMAGES, 'hopper.png')));
    } finally {
      await restored.stop();
    }
  });

  it('a second server on a data directory in use refuses, naming the first', async () => {
    const first = await startServer();
    try {
      await assert.rejects(
        startServer({ dataDir: first.dataDir }),
        /another sisp serve \(pid \d+\) is using/,
      );
      // The first is unharmed.
      const home = clientHome(first);
      assert.equal((await home.run(['register', 'carol'])).code, 0);
    } finally {
      await first.stop();
    }
    // After it stopped, the directory is free again.
    const again = await startServer({ dataDir: first.dataDir });
    await again.stop();
  });

  it('a data directory made world-readable ends private, and so does every file in it', async () => {
    const dataDir = join(tempDir('loose'), 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    const server = await startServer({ dataDir });
    try {
      const [alice] = await registered(server, 'alice');
      assert.equal((await alice.run(['post', 'x', join(IMAGES, 'hopper.png')])).code, 0);
      assert.equal(mode(dataDir), 0o700);
      for (const file of ['sisp.db', 'ca-key.pem', 'wrap-key.pem', 'tls-key.pem'])
        assert.equal(mode(join(dataDir, file)) & 0o077, 0, `${file} is private`);
      assert.equal(mode(join(dataDir, 'ca.pem')), 0o644, 'the CA certificate is for handing out');
    } finally {
      await server.stop();
    }
  });

  it('logs reopen on SIGHUP (logrotate), and a flood of unauthenticated connections is summarised', async () => {
    const server = await startServer();
    const log = join(server.dataDir, 'logs', 'sisp.log');
    renameSync(log, `${log}.1`);
    server.process.kill('SIGHUP');
    for (let tries = 0; tries < 50; tries++) {
      try {
        statSync(log);
        break;
      } catch {
        await sleep(50);
      }
    }
    assert.match(readFileSync(log, 'utf8'), /logs\.reopened/);
    const port = Number(new URL(server.url).port);
    const sockets = Array.from({ length: 60 }, () => netConnect(port, '127.0.0.1'));
    for (const socket of sockets) socket.on('error', () => undefined);
    await sleep(500);
    for (const socket of sockets) socket.destroy();
    await server.stop();
    const lines = readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(lines.length < 20, `${lines.length} lines for 60 connections`);
    assert.ok(
      lines.some((line) => line.includes('"event":"refused"')),
      'the summary line',
    );
  });
});
