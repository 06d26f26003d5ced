/**
 * The CLI as scripts and people use it (clig.dev): version and help, suggestions,
 * completion, --json shapes, quoted names, a closed pipe, exit statuses, downloads
 * that never collide or linger, and the key and trust commands.
 */
import { strict as assert } from 'node:assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import { exifOf, gpsOf } from '../../src/client/metadata.js';
import {
  clientHome,
  homeArgs,
  IMAGES,
  largeJpeg,
  registered,
  runSisp,
  SISP,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

const FINGERPRINT = /^(\d{5} ){7}\d{5}$/;
const version = (JSON.parse(readFileSync('package.json', 'utf8')) as { version: string }).version;

describe('help, version, suggestions and completion (no server needed)', () => {
  it('--version and -V print the version; help and help <command> work with status 0', async () => {
    for (const flag of ['--version', '-V']) {
      const shown = await runSisp([flag]);
      assert.equal(shown.code, 0, shown.stderr);
      assert.equal(shown.stdout, `${version}\n`);
    }
    const help = await runSisp(['help']);
    assert.equal(help.code, 0, help.stderr);
    for (const command of ['register', 'post', 'download', 'display', 'list', 'watch', 'cert'])
      assert.match(help.stdout, new RegExp(`\\n  ${command}\\b`));
    assert.match(help.stdout, /Examples:/);
    const post = await runSisp(['help', 'post']);
    assert.equal(post.code, 0, post.stderr);
    assert.match(post.stdout, /--to <users>/);
    assert.match(post.stdout, /Global Options:[\s\S]*--home <dir>/);
    assert.match(post.stdout, /Examples:\n {2}\$ sisp post sunset/);
    assert.equal((await runSisp(['post', '--help'])).stdout, post.stdout);
    const serve = await runSisp(['help', 'serve']);
    assert.equal(serve.code, 0, serve.stderr);
    assert.match(serve.stdout, /--data <dir>/);
  });

  it('a mistyped command or option gets a suggestion and status 2', async () => {
    const command = await runSisp(['downlaod', 'x']);
    assert.equal(command.code, 2);
    assert.match(command.stderr, /unknown command 'downlaod'\n\(Did you mean download\?\)/);
    const option = await runSisp(['--hme', 'x']);
    assert.equal(option.code, 2);
    assert.match(option.stderr, /unknown option '--hme'\n\(Did you mean --home\?\)/);
    const sub = await runSisp(['download', 'x', '--froce']);
    assert.equal(sub.code, 2);
    assert.match(sub.stderr, /unknown option '--froce'\n\(Did you mean --force\?\)/);
    const serve = await runSisp(['serve', '--prot', '1']);
    assert.equal(serve.code, 2);
    assert.match(serve.stderr, /unknown option '--prot'\n\(Did you mean --port\?\)/);
    // A database URL holds a password: help names the variable, never its value.
    const serveHelp = await runSisp(['serve', '--help'], {
      env: { SISP_DB: 'postgres://sisp:hunter2@db.internal/sisp' },
    });
    assert.equal(serveHelp.code, 0);
    assert.match(serveHelp.stdout, /Examples:\n {2}\$ sisp serve[\s\S]*Exit status:/);
    assert.doesNotMatch(serveHelp.stdout, /hunter2/);
    assert.equal((await runSisp(['serve', '--version'])).stdout, `${version}\n`);
    const nothing = await runSisp(['frobnicate']);
    assert.equal(nothing.code, 2);
    assert.doesNotMatch(nothing.stderr, /Did you mean/);
  });

  it('register without a server says what register needs', async () => {
    const home = tempDir('home');
    const result = await runSisp(['register', 'dave', '--home', home], {
      env: { SISP_SERVER: '', SISP_CA: '' },
    });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /register needs the server's address and CA certificate/);
    assert.match(result.stderr, /--server wss:\/\/HOST:PORT\/ --ca ca\.pem/);
  });

  it('bash completion completes commands, options and subcommands from the real tree', async () => {
    const script = (await runSisp(['completion', 'bash'])).stdout;
    const complete = (line: string): string[] => {
      const words = line.split(' ');
      const run = spawnSync(
        'bash',
        [
          '-c',
          `${script}\nCOMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _sisp; printf '%s\\n' "\${COMPREPLY[@]}"`,
        ],
        { encoding: 'utf8' },
      );
      assert.equal(run.status, 0, run.stderr);
      return run.stdout.split('\n').filter((word) => word !== '');
    };
    assert.deepEqual(complete('sisp dow'), ['download']);
    assert.deepEqual(complete('sisp --home /tmp/h di'), ['display']);
    assert.deepEqual(complete('sisp post x y --r'), ['--replace']);
    assert.deepEqual(complete('sisp pins a'), ['accept']);
    assert.ok(complete('sisp --').includes('--server'));
    const usage = await runSisp(['completion', 'tcsh']);
    assert.equal(usage.code, 1);
    assert.match(usage.stderr, /choose bash, zsh or fish/);
  });

  it('zsh and fish scripts are valid in those shells, and fish completes from them', async (t) => {
    for (const shell of ['zsh', 'fish']) {
      const file = join(tempDir('completion'), `sisp.${shell}`);
      writeFileSync(file, (await runSisp(['completion', shell])).stdout);
      const check = spawnSync(shell, ['-n', file], { encoding: 'utf8' });
      if (check.error !== undefined) {
        t.diagnostic(`${shell} is not installed: not checked`);
        continue;
      }
      assert.equal(check.status, 0, `${shell}: ${check.stderr}`);
      if (shell !== 'fish') continue;
      const complete = (line: string): string[] =>
        spawnSync('fish', ['-c', `source ${file}; complete -C '${line}'`], { encoding: 'utf8' })
          .stdout.split('\n')
          .map((entry) => entry.split('\t')[0] ?? '')
          .filter((entry) => entry !== '');
      assert.deepEqual(complete('sisp dow'), ['download']);
      assert.ok(complete('sisp download --').includes('--force'));
      assert.ok(complete('sisp pins ').includes('accept'));
    }
  });
});

describe('scripting and everyday use against a real server', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  let carol: ClientHome;

  before(async () => {
    server = await startServer();
    [alice, bob, carol] = await registered(server, 'alice', 'bob', 'carol');
  });
  after(async () => {
    await server.stop();
  });

  it('--json: post, list, download, cert, whoami and pins print documented, versioned shapes', async () => {
    const posted = await alice.run(['post', 'json-one', join(IMAGES, 'hopper.png'), '--json']);
    assert.equal(posted.code, 0, posted.stderr);
    const post = JSON.parse(posted.stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(post).sort(), [
      'audience',
      'created',
      'image',
      'name',
      'owner',
      'size',
      'type',
      'version',
    ]);
    assert.equal(post.version, 1);
    assert.equal(post.audience, 'public');
    assert.match(String(post.image), /^[0-9a-f]{32,}$/);

    const listed = JSON.parse((await bob.run(['list', '--json'])).stdout) as {
      version: number;
      images: Record<string, unknown>[];
    };
    assert.equal(listed.version, 1);
    const mine = listed.images.find((image) => image.name === 'json-one');
    assert.equal(mine?.owner, 'alice');
    assert.equal(mine.image, post.image);
    assert.match(String(mine.ownerFingerprint), FINGERPRINT);

    const out = tempDir('json-out');
    const downloaded = await bob.run(['download', 'alice/json-one', '--out', out, '--json']);
    const download = JSON.parse(downloaded.stdout) as Record<string, unknown>;
    assert.equal(download.path, join(out, 'json-one.png'));
    assert.equal(download.size, readFileSync(join(IMAGES, 'hopper.png')).length);

    const cert = JSON.parse((await bob.run(['cert', 'alice', '--json'])).stdout) as Record<
      string,
      string
    >;
    assert.match(cert.certificate ?? '', /^-----BEGIN CERTIFICATE-----/);
    const whoami = JSON.parse((await alice.run(['whoami', '--json'])).stdout) as Record<
      string,
      unknown
    >;
    assert.equal(whoami.username, 'alice');
    assert.equal(whoami.fingerprint, cert.fingerprint, 'whoami and cert agree on the key');
    const pins = JSON.parse((await bob.run(['pins', '--json'])).stdout) as {
      pins: { username: string; fingerprint: string }[];
    };
    assert.equal(pins.pins.find((pin) => pin.username === 'alice')?.fingerprint, cert.fingerprint);

    const failed = await bob.run(['download', 'alice/none', '--json']);
    assert.equal(failed.code, 1);
    assert.deepEqual(Object.keys(JSON.parse(failed.stderr) as object), ['version', 'error']);
    assert.equal(
      (JSON.parse(failed.stderr) as { error: { code: string } }).error.code,
      'E_NOT_FOUND',
    );
  });

  it('names with spaces are quoted in list and watch, and can be typed back', async () => {
    const watch = bob.spawn(['watch']);
    try {
      // Let the watcher connect before the post.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const posted = await alice.run(['post', 'bad name', join(IMAGES, 'hopper.png')]);
      assert.equal(posted.code, 0, posted.stderr);
      assert.match(posted.stdout, /posted "alice\/bad name"/);
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE "bad name" alice\n'));
    } finally {
      await watch.stop();
    }
    const listed = await bob.run(['list']);
    assert.match(listed.stdout, /^"alice\/bad name" {2}/m);
    const downloaded = await bob.run(['download', 'alice/bad name']);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    assert.equal(downloaded.stdout.trim(), join(bob.dir, 'downloads', 'alice', 'bad name.png'));
  });

  it('stdout closed early ends the command quietly with status 141', () => {
    const args = [SISP, ...homeArgs(server, bob), 'list'];
    const run = spawnSync(
      'bash',
      ['-c', '"$@" | true; echo "status ${PIPESTATUS[0]}"', 'pipe', process.execPath, ...args],
      { encoding: 'utf8' },
    );
    assert.match(run.stdout, /^status 141$/m);
    assert.equal(run.stderr, '', 'no stack trace, no message');
  });

  it("two owners' images of the same name land in different files; --out names a file or a folder", async () => {
    assert.equal((await alice.run(['post', 'sunset', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal((await carol.run(['post', 'sunset', join(IMAGES, 'flower.jpg')])).code, 0);
    const fromAlice = await bob.run(['download', 'alice/sunset']);
    const fromCarol = await bob.run(['download', 'carol/sunset']);
    assert.equal(fromAlice.stdout.trim(), join(bob.dir, 'downloads', 'alice', 'sunset.png'));
    assert.equal(fromCarol.stdout.trim(), join(bob.dir, 'downloads', 'carol', 'sunset.jpg'));

    const dir = tempDir('out');
    const file = join(dir, 'mine.png');
    const named = await bob.run(['download', 'alice/sunset', '--out', file]);
    assert.equal(named.stdout.trim(), file);
    const again = await bob.run(['download', 'alice/sunset', '--out', file]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /mine\.png already exists; use --force to replace it, or --out/);
    writeFileSync(file, 'not an image');
    const forced = await bob.run(['download', 'alice/sunset', '--out', file, '--force']);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(readFileSync(file), readFileSync(join(IMAGES, 'hopper.png')));

    // A path through a file: the error names the path and what is wrong with it.
    const through = join(file, 'sub') + '/';
    const bad = await bob.run(['download', 'alice/sunset', '--out', through]);
    assert.equal(bad.code, 1);
    assert.match(
      bad.stderr,
      new RegExp(`${file}/sub: a part of the path is not a directory \\(ENOTDIR\\)`),
    );
  });

  it('--to names every unknown user at once, and nothing is posted', async () => {
    const result = await alice.run([
      'post',
      'for-some',
      join(IMAGES, 'hopper.png'),
      '--to',
      'bob,mallory,zed',
    ]);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no users named mallory, zed; nothing was posted/);
    assert.doesNotMatch((await alice.run(['list'])).stdout, /for-some/);
  });

  it('Ctrl-C (SIGINT) during a download cancels it: status 130, no partial file left', async () => {
    assert.equal(
      (await alice.run(['post', 'large', largeJpeg(96 * 1024 * 1024)], { timeoutMs: 120_000 }))
        .code,
      0,
    );
    const out = tempDir('interrupted');
    const child = spawn(
      process.execPath,
      [SISP, ...homeArgs(server, bob), 'download', 'alice/large', '--out', out],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    const deadline = Date.now() + 60_000;
    while (!readdirSync(out).some((name) => name.endsWith('.partial')) && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 5));
    assert.ok(readdirSync(out).length > 0, 'the download started');
    child.kill('SIGINT');
    assert.equal(await exited, 130, stderr);
    assert.match(stderr, /cancelled/);
    assert.deepEqual(readdirSync(out), [], 'nothing left behind');
  });

  it('whoami shows the CA fingerprint the server printed; pins list who was pinned', async () => {
    const shown = await alice.run(['whoami']);
    assert.equal(shown.code, 0, shown.stderr);
    const ca = /CA fingerprint ((?:\d{5} ){7}\d{5})/.exec(server.output())?.[1];
    assert.ok(ca !== undefined);
    assert.match(shown.stdout, new RegExp(`^CA fingerprint: ${ca}$`, 'm'));
    assert.match(shown.stdout, /^username: alice$/m);
    assert.match(shown.stdout, new RegExp(`^server: ${server.url}$`, 'm'));
    const pins = await bob.run(['pins']);
    assert.match(pins.stdout, /^alice +(\d{5} ){7}\d{5} {2}since /m);
    const cert = await bob.run(['cert', 'alice']);
    assert.match(cert.stdout, /^-----BEGIN CERTIFICATE-----\n[\s\S]*-----END CERTIFICATE-----\n$/);
    assert.match(cert.stderr, /^fingerprint: (\d{5} ){7}\d{5}\n$/);
  });

  it("pins accept replaces a changed key only when the fingerprint typed is the new key's", async () => {
    // bob's pin for alice is made to hold carol's keys: to bob, alice's key has "changed".
    const pinsPath = join(bob.dir, 'pins.json');
    assert.equal((await bob.run(['cert', 'carol'])).code, 0);
    const pins = JSON.parse(readFileSync(pinsPath, 'utf8')) as Record<string, unknown>;
    pins.alice = pins.carol;
    writeFileSync(pinsPath, JSON.stringify(pins), { mode: 0o600 });
    const refused = await bob.run(['download', 'alice/sunset', '--force']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /key for alice has CHANGED[\s\S]*sisp pins accept alice/);

    const carolPrint = JSON.parse((await carol.run(['whoami', '--json'])).stdout) as {
      fingerprint: string;
    };
    const wrong = await bob.run(['pins', 'accept', 'alice', carolPrint.fingerprint]);
    assert.equal(wrong.code, 1);
    assert.match(
      wrong.stderr,
      /not that of the key the server presents for alice; nothing was changed/,
    );
    assert.equal(readFileSync(pinsPath, 'utf8'), JSON.stringify(pins), 'pins untouched');
    const malformed = await bob.run(['pins', 'accept', 'alice', '12345']);
    assert.match(malformed.stderr, /eight groups of five digits/);

    const alicePrint = JSON.parse((await alice.run(['whoami', '--json'])).stdout) as {
      fingerprint: string;
    };
    const accepted = await bob.run([
      'pins',
      'accept',
      'alice',
      alicePrint.fingerprint.replaceAll(' ', ''),
    ]);
    assert.equal(accepted.code, 0, accepted.stderr);
    assert.match(accepted.stdout, /alice: now pinned to [\d ]+ \(was [\d ]+\)/);
    assert.equal((await bob.run(['download', 'alice/sunset', '--force'])).code, 0);
  });

  it('passphrase adds, changes and removes the passphrase; locked keys name SISP_PASSPHRASE', async () => {
    const dave = clientHome(server);
    assert.equal((await dave.run(['register', 'dave'])).code, 0);
    const added = await dave.run(['passphrase'], { env: { SISP_NEW_PASSPHRASE: 'first secret' } });
    assert.equal(added.code, 0, added.stderr);
    const locked = await dave.run(['list']);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /set SISP_PASSPHRASE/);
    assert.equal((await dave.run(['list'], { env: { SISP_PASSPHRASE: 'first secret' } })).code, 0);
    const wrong = await dave.run(['passphrase', '--remove'], { env: { SISP_PASSPHRASE: 'guess' } });
    assert.equal(wrong.code, 1);
    assert.ok(!wrong.stderr.includes('guess') && !wrong.stdout.includes('guess'));
    const changed = await dave.run(['passphrase'], {
      env: { SISP_PASSPHRASE: 'first secret', SISP_NEW_PASSPHRASE: 'second secret' },
    });
    assert.equal(changed.code, 0, changed.stderr);
    assert.equal((await dave.run(['list'], { env: { SISP_PASSPHRASE: 'first secret' } })).code, 1);
    const removed = await dave.run(['passphrase', '--remove'], {
      env: { SISP_PASSPHRASE: 'second secret' },
    });
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stderr, /warning: anyone who can read the home folder/);
    assert.equal((await dave.run(['list'])).code, 0);
    assert.match((await dave.run(['whoami'])).stdout, /keys: not protected by a passphrase/);
    const noNew = await dave.run(['passphrase']);
    assert.equal(noNew.code, 1);
    assert.match(noNew.stderr, /SISP_NEW_PASSPHRASE/);
  });

  it('post says when a photo carries GPS; --strip-metadata removes it losslessly, SISP_STRIP_METADATA=1 by default', async () => {
    const path = join(IMAGES, 'exif_gps.jpg');
    const warned = await alice.run(['post', 'gps-kept', path]);
    assert.equal(warned.code, 0, warned.stderr);
    assert.match(
      warned.stderr,
      /exif_gps\.jpg carries GPS data, readable by everyone who can see it; --strip-metadata removes it/,
    );
    const kept = await bob.run(['download', 'alice/gps-kept', '--json']);
    assert.deepEqual(
      readFileSync((JSON.parse(kept.stdout) as { path: string }).path),
      readFileSync(path),
      'unchanged by default',
    );

    const stripped = await alice.run(['post', 'gps-gone', path, '--strip-metadata']);
    assert.equal(stripped.code, 0, stripped.stderr);
    assert.match(
      stripped.stderr,
      /stripped EXIF \(with GPS\) from .*exif_gps\.jpg; the pixels are unchanged/,
    );
    const got = await bob.run(['download', 'alice/gps-gone', '--json']);
    const bytes = new Uint8Array(readFileSync((JSON.parse(got.stdout) as { path: string }).path));
    assert.equal(await gpsOf(bytes), undefined);
    assert.equal(exifOf(bytes), undefined);
    const decode = async (data: Uint8Array) => (await sharp(data).raw().toBuffer()).toString('hex');
    assert.equal(await decode(bytes), await decode(new Uint8Array(readFileSync(path))));

    const byDefault = await alice.run(['post', 'gps-env', path], {
      env: { SISP_STRIP_METADATA: '1' },
    });
    assert.match(byDefault.stderr, /stripped EXIF/);
    const overridden = await alice.run(['post', 'gps-env-kept', path, '--keep-metadata'], {
      env: { SISP_STRIP_METADATA: '1' },
    });
    assert.match(overridden.stderr, /carries GPS data/);
  });

  it('watch --json prints one JSON line per event', async () => {
    const watch = bob.spawn(['watch', '--json']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal((await alice.run(['post', 'json-event', join(IMAGES, 'hopper.png')])).code, 0);
      await watch.waitFor((stdout) => stdout.includes('json-event'));
    } finally {
      await watch.stop();
    }
    // bob watched before in this home: first what happened since, then the new post; all JSON.
    const events = watch.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    const positions = events.map((entry) => Number(entry.position));
    assert.deepEqual(
      [...positions].sort((a, b) => a - b),
      positions,
      'in log order',
    );
    const event = events.at(-1) ?? {};
    assert.deepEqual(Object.keys(event), [
      'version',
      'event',
      'owner',
      'name',
      'image',
      'position',
    ]);
    assert.equal(event.event, 'NEW_IMAGE');
    assert.equal(event.name, 'json-event');
  });

  // --width drawing that many columns is checked on a terminal (terminal.test.ts).
  it('display --width out of range is a usage error; a missing folder in --out is made', async () => {
    const out = join(tempDir('nested'), 'a', 'b');
    assert.equal((await bob.run(['download', 'alice/sunset', '--out', `${out}/`])).code, 0);
    assert.ok(existsSync(join(out, 'sunset.png')));
    const bad = await bob.run(['display', 'alice/sunset', '--width', '0']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /a number of columns from 1 to 1000/);
    assert.equal((await bob.run(['display', 'alice/sunset', '--width', '1001'])).code, 2);
  });
});
