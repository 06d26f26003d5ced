/** What is acknowledged stays; what is tampered with is refused; nothing leaks to disk. */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  cleanup,
  clientHome,
  IMAGES,
  startServer,
  tempDir,
  type ServerProcess,
} from './harness.js';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

describe('durability and tampering', () => {
  const servers: ServerProcess[] = [];
  const dirs: string[] = [];
  after(async () => {
    for (const server of servers) await server.stop('SIGKILL');
    cleanup(...dirs);
  });

  it('a bit flipped in the stored ciphertext is refused with no file written; no plaintext on the server', async () => {
    const server = await startServer();
    servers.push(server);
    const alice = clientHome(server);
    const bob = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    assert.equal((await bob.run(['register', 'bob'])).code, 0);
    const original = readFileSync(join(IMAGES, 'flower2.jpg'));
    assert.equal((await alice.run(['post', 'flower', join(IMAGES, 'flower2.jpg')])).code, 0);

    // The plaintext never appears in the data directory, not even in part.
    const probe = original.subarray(original.length >> 1, (original.length >> 1) + 48);
    for (const file of filesUnder(server.dataDir)) {
      assert.equal(readFileSync(file).includes(probe), false, `${file} holds plaintext`);
    }

    const blobs = filesUnder(join(server.dataDir, 'blobs'));
    assert.equal(blobs.length, 1);
    const blob = blobs[0] ?? '';
    const bytes = readFileSync(blob);
    for (const offset of [3, 40, 56 + 100, bytes.length >> 1, bytes.length - 1]) {
      const tampered = Buffer.from(bytes);
      tampered[offset] = (tampered[offset] ?? 0) ^ 0x10;
      writeFileSync(blob, tampered);
      const out = tempDir('out');
      dirs.push(out);
      const result = await bob.run(['download', 'alice/flower', '--out', out]);
      assert.equal(result.code, 1, `offset ${offset}`);
      assert.match(
        result.stderr,
        /^error: .*(failed verification|the image failed)/,
        result.stderr,
      );
      assert.deepEqual(readdirSync(out), [], `offset ${offset}: something was written`);
    }
    writeFileSync(blob, bytes);
    const restored = await bob.run(['download', 'alice/flower']);
    assert.equal(restored.code, 0, restored.stderr);
    assert.deepEqual(readFileSync(restored.stdout.trim()), original);
  });

  it('a restart, and a kill -9 right after an acknowledged post, keep users, images and permissions', async () => {
    const dataDir = tempDir('data');
    dirs.push(dataDir);
    let server = await startServer({ dataDir });
    servers.push(server);
    const homes = { alice: tempDir('home'), bob: tempDir('home'), carol: tempDir('home') };
    dirs.push(...Object.values(homes));
    const as = (name: keyof typeof homes) => clientHome(server, homes[name]);
    for (const name of ['alice', 'bob', 'carol'] as const)
      assert.equal((await as(name).run(['register', name])).code, 0);
    assert.equal(
      (await as('alice').run(['post', 'shared', join(IMAGES, 'hopper.png'), '--to', 'bob'])).code,
      0,
    );
    const caBefore = readFileSync(join(dataDir, 'ca.pem'), 'utf8');

    // Orderly restart.
    assert.equal(await server.stop('SIGTERM'), 0);
    server = await startServer({ dataDir });
    servers.push(server);
    assert.equal(
      readFileSync(join(dataDir, 'ca.pem'), 'utf8'),
      caBefore,
      'the CA survives restarts',
    );
    assert.equal((await as('bob').run(['download', 'alice/shared'])).code, 0);
    assert.equal((await as('carol').run(['download', 'alice/shared'])).code, 1);

    // kill -9 immediately after the post is acknowledged (the client has exited 0).
    const posted = await as('alice').run([
      'post',
      'durable',
      join(IMAGES, 'iss634.gif'),
      '--to',
      'carol',
    ]);
    assert.equal(posted.code, 0, posted.stderr);
    await server.stop('SIGKILL');
    server = await startServer({ dataDir });
    servers.push(server);
    const carolGets = await as('carol').run(['download', 'alice/durable']);
    assert.equal(carolGets.code, 0, carolGets.stderr);
    assert.deepEqual(
      readFileSync(carolGets.stdout.trim()),
      readFileSync(join(IMAGES, 'iss634.gif')),
    );
    assert.equal(
      (await as('bob').run(['download', 'alice/durable'])).code,
      1,
      'permissions survive too',
    );
    const listed = await as('bob').run(['list']);
    assert.match(listed.stdout, /alice\/shared/);
    // Existing users can still authenticate, and names stay taken.
    assert.match((await clientHome(server).run(['register', 'alice'])).stderr, /taken/);
  });

  it('an upload interrupted by the server stopping leaves nothing visible', async () => {
    const server = await startServer();
    servers.push(server);
    const alice = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    const big = join(tempDir('img'), 'big.jpg');
    dirs.push(join(big, '..'));
    writeFileSync(
      big,
      Buffer.concat([readFileSync(join(IMAGES, 'hopper.jpg')), randomBytes(256 * 1024 * 1024)]),
    );
    const upload = alice.run(['post', 'partial', big]);
    // Stop the server once the upload is under way: its temporary blob exists.
    const tmp = join(server.dataDir, 'tmp');
    for (let waited = 0; readdirSync(tmp).length === 0; waited += 20) {
      if (waited > 20_000) assert.fail('the upload never started');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.equal(await server.stop('SIGTERM'), 0, 'exits 0 with a transfer in flight');
    const result = await upload;
    assert.equal(result.code, 1);
    const restarted = await startServer({ dataDir: server.dataDir });
    servers.push(restarted);
    const list = await clientHome(restarted, alice.dir).run(['list']);
    assert.ok(!list.stdout.includes('partial'), list.stdout);
    assert.deepEqual(readdirSync(join(server.dataDir, 'tmp')), []);
    const blobs = existsSync(join(server.dataDir, 'blobs'))
      ? filesUnder(join(server.dataDir, 'blobs'))
      : [];
    assert.equal(blobs.length, 0);
    assert.ok(statSync(server.dataDir).isDirectory());
  });
});
