/** The original system's behaviour, end to end, with real processes. */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { clientHome, IMAGES, startServer, type ClientHome, type ServerProcess } from './harness.js';

describe('the original scenario', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;

  before(async () => {
    server = await startServer();
    alice = clientHome(server);
    bob = clientHome(server);
  });
  after(async () => {
    assert.equal(await server.stop(), 0, 'server exits 0 on SIGTERM');
  });

  it('alice and bob register, bob watches, alice posts, bob is notified, downloads and displays', async () => {
    const registered = await alice.run(['register', 'alice']);
    assert.equal(registered.code, 0, registered.stderr);
    assert.match(registered.stdout, /registered alice/);
    assert.match(registered.stdout, /key fingerprint: (\d{5} ){7}\d{5}/);
    assert.equal((await bob.run(['register', 'bob'])).code, 0);

    const watch = bob.spawn(['watch']);
    try {
      // Let the watcher connect before the post.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const posted = await alice.run(['post', 'sunset', join(IMAGES, 'hopper.png')]);
      assert.equal(posted.code, 0, posted.stderr);
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE sunset alice\n'));
    } finally {
      await watch.stop();
    }

    const downloaded = await bob.run(['download', 'sunset']);
    assert.equal(downloaded.code, 0, downloaded.stderr);
    const path = downloaded.stdout.trim();
    // Under the owner's name, so carol/sunset could never land on the same file.
    assert.equal(path, join(bob.dir, 'downloads', 'alice', 'sunset.png'));
    assert.deepEqual(readFileSync(path), readFileSync(join(IMAGES, 'hopper.png')));

    const displayed = await bob.run(['display', 'alice/sunset']);
    assert.equal(displayed.code, 0, displayed.stderr);
    assert.match(
      displayed.stdout,
      /name: sunset\nowner: alice\ndimensions: 128x128\ntype: image\/png\nowner fingerprint: (\d{5} ){7}\d{5}\n/,
    );

    const listed = await bob.run(['list']);
    assert.match(listed.stdout, /alice\/sunset\s+image\/png\s+29\.9 KiB\s+\S+ \S+\s+public/);
  });

  it('the same through the interactive prompt with the original uppercase commands piped in', async () => {
    const carol = clientHome(server);
    const dave = clientHome(server);
    assert.equal((await dave.run(['register', 'dave'])).code, 0);
    const watch = dave.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const script = [
        'REGISTER carol',
        `POST_IMAGE flower ${join(IMAGES, 'flower.jpg')}`,
        'LIST',
        'DOWNLOAD flower',
        'DISPLAY flower',
        'HELP',
        'QUIT',
      ].join('\n');
      const session = await carol.run([], { input: `${script}\n`, timeoutMs: 10_000 });
      assert.equal(session.code, 0, session.stderr);
      assert.match(session.stdout, /registered carol/);
      assert.match(session.stdout, /posted carol\/flower \(image\/jpeg, 32764 bytes\) to everyone/);
      assert.match(session.stdout, /NEW_IMAGE flower carol/);
      assert.match(session.stdout, /carol\/flower\s+image\/jpeg/);
      assert.ok(session.stdout.includes(join(carol.dir, 'downloads', 'carol', 'flower.jpg')));
      assert.match(session.stdout, /dimensions: 480x360/);
      assert.match(session.stdout, /POST_IMAGE <name> <path>/);
      assert.deepEqual(
        readFileSync(join(carol.dir, 'downloads', 'carol', 'flower.jpg')),
        readFileSync(join(IMAGES, 'flower.jpg')),
      );
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE flower carol\n'));
    } finally {
      await watch.stop();
    }
    // Lowercase forms work too, and a bad command is an error line, not a crash.
    const lower = await dave.run([], { input: 'list\ndownload carol/flower\nfrobnicate\nquit\n' });
    assert.match(lower.stdout, /carol\/flower/);
    assert.match(lower.stderr, /^error: unknown command frobnicate/m);
    assert.equal(lower.code, 1);
  });

  it('every failure is one "error:" line and a non-zero exit', async () => {
    const cases: [string[], RegExp][] = [
      [['download', 'no-such-image'], /^error: no image named "no-such-image"/],
      [['post', 'x', join(IMAGES, 'broken.png')], /^error: .*is not an image/],
      [['post', 'x', join(IMAGES, 'missing.png')], /^error: no such file/],
      [
        ['post', 'sunset', join(IMAGES, 'hopper.jpg')],
        /^error: you already have an image named "sunset"; use --replace/,
      ],
      [['post', 'bad/name', join(IMAGES, 'hopper.jpg')], /^error: image names are/],
      [['cert', 'nobody'], /^error: no user named nobody/],
    ];
    for (const [args, pattern] of cases) {
      const result = await alice.run(args);
      assert.notEqual(result.code, 0, args.join(' '));
      assert.match(result.stderr, pattern, args.join(' '));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    const replaced = await alice.run(['post', 'sunset', join(IMAGES, 'hopper.jpg'), '--replace']);
    assert.equal(replaced.code, 0, replaced.stderr);
    const unreachable = await clientHome({ url: 'wss://127.0.0.1:9/', caPath: server.caPath }).run([
      'register',
      'erin',
    ]);
    assert.match(unreachable.stderr, /^error: cannot reach the server/);
  });
});
