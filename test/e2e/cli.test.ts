/** Client behaviour users rely on: names, pinning of the server, limits, logs, reconnects. */
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loggedInPeer, RawPeer } from '../support/raw-peer.js';
import {
  clientHome,
  IMAGES,
  registered,
  startServer,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

describe('client behaviour', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  let carol: ClientHome;

  before(async () => {
    server = await startServer({
      env: { SISP_MAX_IMAGE: '100000', SISP_RATE: '20', SISP_RATE_BURST: '40' },
    });
    [alice, bob, carol] = await registered(server, 'alice', 'bob', 'carol');
  });
  after(async () => {
    await server.stop();
  });

  it('keys are stored with mode 0600 and the home remembers the server and CA', async () => {
    assert.equal(statSync(join(alice.dir, 'identity.key')).mode & 0o777, 0o600);
    const config = JSON.parse(readFileSync(join(alice.dir, 'config.json'), 'utf8')) as {
      server: string;
    };
    assert.equal(config.server, server.url);
    const { runSisp } = await import('./harness.js');
    const listed = await runSisp(['list', '--home', alice.dir]);
    assert.equal(listed.code, 0, listed.stderr);
  });

  it('a bare name resolves when unique, and otherwise lists the owner/name choices', async () => {
    assert.equal((await alice.run(['post', 'sun', join(IMAGES, 'hopper.png')])).code, 0);
    assert.equal((await bob.run(['download', 'sun'])).code, 0);
    assert.equal((await bob.run(['post', 'sun', join(IMAGES, 'hopper.jpg')])).code, 0);
    const ambiguous = await carol.run(['download', 'sun']);
    assert.equal(ambiguous.code, 1);
    assert.match(
      ambiguous.stderr,
      /^error: several images are named "sun": alice\/sun, bob\/sun\n$/,
    );
    const exact = await carol.run(['download', 'bob/sun']);
    assert.equal(exact.code, 0, exact.stderr);
    assert.ok(exact.stdout.trim().endsWith('sun.jpg'));
  });

  it('public images reach users who register later', async () => {
    const late = clientHome(server);
    assert.equal((await late.run(['register', 'latecomer'])).code, 0);
    const result = await late.run(['download', 'alice/sun']);
    assert.equal(result.code, 0, result.stderr);
    assert.deepEqual(readFileSync(result.stdout.trim()), readFileSync(join(IMAGES, 'hopper.png')));
  });

  it('an image over the server limit is refused as too large', async () => {
    const result = await alice.run(['post', 'huge', join(IMAGES, 'iss634.gif')]);
    assert.equal(result.code, 1);
    assert.match(
      result.stderr,
      /^error: the image is too large \(277517 bytes; this server accepts up to 100000\)/,
    );
  });

  it('a client with another CA refuses the server: certificate mismatch', async () => {
    const other = await startServer();
    try {
      const stranger = clientHome({ url: server.url, caPath: other.caPath });
      const result = await stranger.run(['register', 'stranger']);
      assert.equal(result.code, 1);
      assert.match(result.stderr, /^error: certificate mismatch/);
    } finally {
      await other.stop();
    }
  });

  it('too many requests are refused with a rate-limit error, for that user only', async () => {
    const peer = await loggedInPeer(server.url, server.caPath, carol.dir);
    for (let id = 10; id < 110; id++) peer.send('list', id, {});
    let limited = 0;
    for (let id = 10; id < 110; id++) {
      const reply = await peer.reply(id);
      if (reply.type === 'error' && reply.body.code === 'E_RATE_LIMITED') limited++;
    }
    assert.ok(limited > 0 && limited < 100, `${limited} of 100 limited`);
    peer.close();
    // Another user is unaffected.
    assert.equal((await bob.run(['list'])).code, 0);
  });

  it('server logs are JSON lines with the activity, and no secrets or image bytes', () => {
    const lines = readFileSync(join(server.dataDir, 'logs', 'sisp.log'), 'utf8')
      .trim()
      .split('\n');
    const events = new Set<string>();
    for (const line of lines) {
      const entry = JSON.parse(line) as { event?: string };
      if (entry.event !== undefined) events.add(entry.event);
      // Nothing long and opaque: keys, wrapped keys and image bytes would show as such.
      // Nothing long and opaque, and no serialised byte arrays: keys, wrapped keys and
      // image bytes would show up as one or the other.
      assert.ok(!/[A-Za-z0-9+/=]{60,}/.test(line), line);
      assert.ok(!/"\d+":\d+,"\d+":\d+/.test(line) && !line.includes('"type":"Buffer"'), line);
    }
    for (const event of [
      'start',
      'connect',
      'register',
      'auth',
      'post',
      'download',
      'notify',
      'disconnect',
    ]) {
      assert.ok(events.has(event), `no ${event} event`);
    }
  });
});

describe('connection limit', () => {
  it('connections past the limit are refused; those inside it keep working', async () => {
    const server = await startServer({ env: { SISP_MAX_CONNECTIONS: '2' } });
    try {
      const first = await RawPeer.connect(server.url, server.caPath);
      const second = await RawPeer.connect(server.url, server.caPath);
      await assert.rejects(RawPeer.connect(server.url, server.caPath), /503/);
      first.send('hello', 1, { versions: [2] });
      assert.equal((await first.reply(1)).type, 'welcome');
      second.close();
      first.close();
      await new Promise((resolve) => setTimeout(resolve, 300));
      const again = await RawPeer.connect(server.url, server.caPath);
      again.close();
    } finally {
      await server.stop();
    }
  });
});

describe('watch across a server restart', () => {
  it('reconnects by itself and keeps printing NEW_IMAGE lines', async () => {
    let server = await startServer();
    const port = new URL(server.url).port;
    const alice = clientHome(server);
    const bob = clientHome(server);
    assert.equal((await alice.run(['register', 'alice'])).code, 0);
    assert.equal((await bob.run(['register', 'bob'])).code, 0);
    const watch = bob.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1200));
      assert.equal((await alice.run(['post', 'before', join(IMAGES, 'hopper.png')])).code, 0);
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE before alice\n'));
      // Several restarts: each reconnect must leave nothing behind (no listener leak warning).
      for (let restart = 1; restart <= 4; restart++) {
        assert.equal(await server.stop(), 0);
        server = await startServer({ dataDir: server.dataDir, port: Number(port) });
        await watch.waitFor((_, stderr) => stderr.split('\nconnected\n').length > restart, 20_000);
      }
      assert.equal((await alice.run(['post', 'after', join(IMAGES, 'hopper.jpg')])).code, 0);
      await watch.waitFor((stdout) => stdout.includes('NEW_IMAGE after alice\n'));
      assert.equal(watch.stdout, 'NEW_IMAGE before alice\nNEW_IMAGE after alice\n');
      assert.doesNotMatch(watch.stderr, /Warning|Error/);
    } finally {
      await watch.stop();
      await server.stop();
    }
  });
});
