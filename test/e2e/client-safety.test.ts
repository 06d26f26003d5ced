/**
 * The CLI as a careful user would want it, against a real server: audiences that
 * say what they mean, downloads that never overwrite by surprise, a home others
 * cannot change, and a passphrase no other program inherits.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { IMAGES } from '../support/paths.js';
import {
  clientHome,
  registered,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

describe('the CLI, carefully', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  const image = join(IMAGES, 'hopper.png');
  before(async () => {
    server = await startServer();
    [alice, bob] = await registered(server, 'alice', 'bob');
  });
  after(async () => {
    await server.stop();
  });

  it('--to naming only yourself posts privately to you; an empty list is an error', async () => {
    const watcher = bob.spawn(['watch']);
    try {
      const mine = await alice.run(['post', 'mine', image, '--to', 'alice']);
      assert.equal(mine.code, 0, mine.stderr);
      assert.match(mine.stdout, /to only you/);
      for (const empty of ['', ',', ' , ']) {
        const refused = await alice.run(['post', 'nobody', image, '--to', empty]);
        assert.equal(refused.code, 1, `--to '${empty}' was accepted`);
        assert.match(refused.stderr, /^error: name at least one recipient/);
      }
      await alice.run(['post', 'everyone', image]);
      await watcher.waitFor((stdout) => stdout.includes('NEW_IMAGE everyone alice'));
      assert.ok(!watcher.stdout.includes('NEW_IMAGE mine'), 'bob was told of a private image');
      assert.doesNotMatch((await bob.run(['list'])).stdout, /alice\/mine/);
      assert.match((await alice.run(['list'])).stdout, /alice\/mine .* private: alice/);
    } finally {
      await watcher.stop();
    }
  });

  it('names that pass for others are refused: a Cyrillic е, a blank filler, styled letters, another case', async () => {
    for (const [name, why] of [
      ['sunsеt', /mix scripts/],
      ['\u3164', /invisible/],
      ['𝐬𝐮𝐧𝐬𝐞𝐭', /compatibility/],
    ] as const) {
      const posted = await alice.run(['post', name, image]);
      assert.equal(posted.code, 1, name);
      assert.match(posted.stderr, why);
    }
    const again = await alice.run(['post', 'EVERYONE', image]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already have an image named/);
  });

  it('a download never overwrites an existing file unless --force', async () => {
    const out = tempDir('out');
    const first = await bob.run(['download', 'alice/everyone', '--out', out]);
    assert.equal(first.code, 0, first.stderr);
    const path = first.stdout.trim();
    writeFileSync(path, 'my own file');
    const again = await bob.run(['download', 'alice/everyone', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /already exists; use --force/);
    assert.equal(readFileSync(path, 'utf8'), 'my own file');
    const forced = await bob.run(['download', 'alice/everyone', '--out', out, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(readFileSync(path), readFileSync(image));
  });

  it('a home others can write to is refused, with the command that fixes it', async () => {
    chmodSync(bob.dir, 0o770);
    try {
      const listed = await bob.run(['list']);
      assert.equal(listed.code, 1);
      assert.match(listed.stderr, /writable by others \(mode 770\); run: chmod go-w/);
    } finally {
      chmodSync(bob.dir, 0o700);
    }
    chmodSync(join(bob.dir, 'pins.json'), 0o666);
    try {
      assert.equal((await bob.run(['list'])).code, 1);
    } finally {
      chmodSync(join(bob.dir, 'pins.json'), 0o600);
    }
    assert.equal((await bob.run(['list'])).code, 0);
  });

  it('keys without a passphrase are stored with a warning; with one, no program sisp starts inherits it', async () => {
    const plain = clientHome(server);
    const registeredPlain = await plain.run(['register', 'carol']);
    assert.equal(registeredPlain.code, 0);
    assert.match(registeredPlain.stderr, /warning: the private keys are stored unencrypted/);

    const locked = clientHome(server);
    const env = { SISP_PASSPHRASE: 'correct horse battery staple' };
    const registeredLocked = await locked.run(['register', 'dave'], { env });
    assert.equal(registeredLocked.code, 0);
    assert.doesNotMatch(registeredLocked.stderr, /warning/);
    // A stand-in for the system's image viewer that records the environment it got.
    const bin = tempDir('bin');
    const seen = join(bin, 'env.txt');
    mkdirSync(bin, { recursive: true });
    writeFileSync(join(bin, 'xdg-open'), `#!/bin/sh\nenv > '${seen}'\n`, { mode: 0o755 });
    const shown = await locked.run(['display', 'alice/everyone', '--open'], {
      env: { ...env, PATH: `${bin}:${process.env.PATH ?? ''}` },
    });
    assert.equal(shown.code, 0, shown.stderr);
    for (let tries = 0; !existsSync(seen) && tries < 50; tries++)
      await new Promise((resolve) => setTimeout(resolve, 50));
    const viewerEnv = readFileSync(seen, 'utf8');
    assert.match(viewerEnv, /PATH=/, 'the viewer ran');
    assert.doesNotMatch(viewerEnv, /SISP_PASSPHRASE|correct horse/);
    // Without it (and no terminal to ask on) the locked keys are refused plainly.
    const without = await locked.run(['list']);
    assert.equal(without.code, 1);
    assert.match(without.stderr, /SISP_PASSPHRASE/);
  });
});

describe('the CLI against a hostile server', () => {
  it("alice/sunset served with mallory's image: download and display refuse it, and show nothing of it as alice's", async () => {
    const server = await startServer();
    const [alice, mallory, bob] = await registered(server, 'alice', 'mallory', 'bob');
    assert.equal((await alice.run(['post', 'sunset', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal((await mallory.run(['post', 'sunset', join(IMAGES, 'hopper.jpg')])).code, 0);
    // Bob meets alice while the server is honest: her key is pinned.
    assert.equal((await bob.run(['download', 'alice/sunset'])).code, 0);
    await server.stop();

    const hostile = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        join('test', 'support', 'hostile-serve.ts'),
        server.dataDir,
        'alice/sunset',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = '';
        hostile.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /sisp serving (\S+)/.exec(out);
          if (match?.[1] !== undefined) resolve(match[1]);
        });
        hostile.once('exit', (code) => {
          reject(new Error(`hostile server exited ${code}`));
        });
      });
      const at = ['--server', url, '--ca', server.caPath];
      const out = tempDir('hostile-out');
      const downloaded = await bob.run(['download', 'alice/sunset', '--out', out, ...at]);
      assert.equal(downloaded.code, 1);
      assert.match(downloaded.stderr, /failed verification \(the server sent a different image\)/);
      assert.deepEqual(readdirSync(out), [], 'nothing written');
      const shown = await bob.run(['display', 'alice/sunset', ...at]);
      assert.equal(shown.code, 1);
      assert.doesNotMatch(shown.stdout, /owner: alice/);
      // Mallory's own image is still hers, and shown as hers.
      const hers = await bob.run(['display', 'mallory/sunset', ...at]);
      assert.equal(hers.code, 0, hers.stderr);
      assert.match(hers.stdout, /owner: mallory/);
    } finally {
      hostile.kill('SIGTERM');
    }
  });
});
