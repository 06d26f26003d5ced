/**
 * Attacks against a real server process, each beside a legitimate user whose post,
 * list and download must keep succeeding, with the server's memory sampled against
 * its budget (docs/SECURITY.md lists them with their figures). Bounded to run in
 * `npm test`; `npm run attack` runs longer versions.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { connect as tlsConnect } from 'node:tls';
import { connect as netConnect, type Socket } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { encodeFrame } from '../../src/protocol/frame.js';
import type { Message } from '../../src/protocol/messages.js';
import { Home } from '../../src/client/home.js';
import { login } from '../../src/cli/context.js';
import { postImage } from '../../src/core/post.js';
import { bytesSource } from '../../src/core/source.js';
import { pngBytes } from '../inprocess/images.js';
import { loggedInPeer, RawPeer } from '../support/raw-peer.js';
import { arena, MiB, sampleRss, type Arena } from './harness.js';

/** What the server may hold beyond its idle size: the two 32 MiB budgets and slack. */
const MEMORY_BOUND = 128 * MiB;

const code = (message: Message): string =>
  message.type === 'error' ? message.body.code : message.type;

/** Runs `attack` while sampling the server's memory and doing legitimate rounds. */
async function during(
  t: TestContext,
  world: Arena,
  name: string,
  attack: () => Promise<void>,
): Promise<{ peak: number }> {
  const pid = world.server.process.pid ?? assert.fail('no pid');
  const sampler = sampleRss(pid);
  let legitimate = 0;
  let attacking = true;
  // Read through a call: the flag changes while the loop awaits, which narrowing cannot see.
  const isAttacking = (): boolean => attacking;
  const victim = (async () => {
    while (isAttacking()) await world.legitimateRound(`${name}-${legitimate++}`);
  })();
  try {
    await attack();
  } finally {
    attacking = false;
    await victim;
  }
  const peak = sampler.stop();
  t.diagnostic(
    `server RSS ${Math.round(world.baseline / MiB)} -> peak ${Math.round(peak / MiB)} MiB; legitimate rounds ${legitimate}`,
  );
  assert.ok(legitimate > 0, 'the legitimate user completed at least one round');
  assert.ok(
    peak - world.baseline < MEMORY_BOUND,
    `server grew by ${Math.round((peak - world.baseline) / MiB)} MiB (bound ${MEMORY_BOUND / MiB})`,
  );
  return { peak };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('attacks on a real server, beside a legitimate user', () => {
  let world: Arena;
  before(async () => {
    world = await arena();
  });
  after(async () => {
    await world.stop();
  });

  it('reply flood: a client that never reads and sends frames that each earn an error is cut off', async (t) => {
    await during(t, world, 'replyflood', async () => {
      const peer = await loggedInPeer(world.server.url, world.server.caPath, world.attacker.dir);
      peer.ws.pause();
      const credit = encodeFrame('credit', 7, { bytes: 1000 });
      const certGet = encodeFrame('cert.get', 8, { username: 'victim' });
      const until = Date.now() + 3000;
      while (Date.now() < until && peer.ws.readyState === peer.ws.OPEN) {
        for (let i = 0; i < 200; i++) peer.sendRaw(i % 2 === 0 ? credit : certGet);
        await sleep(5);
      }
      peer.ws.resume();
      try {
        assert.ok((await peer.closed(15_000)) >= 1000, 'the flooding connection was closed');
      } finally {
        peer.close();
      }
    });
  });

  it('unread downloads: many connections that ask for a large image and never read hold only the budget, then are closed', async (t) => {
    const owner = await login({
      home: new Home(world.victim.dir),
      server: world.server.url,
      caFile: world.server.caPath,
    });
    await postImage(owner, { name: 'unread-source', source: bytesSource(pngBytes(24 * MiB)) });
    owner.close();
    const peers: RawPeer[] = [];
    try {
      await during(t, world, 'unread', async () => {
        for (let i = 0; i < 16; i++) {
          const peer = await loggedInPeer(
            world.server.url,
            world.server.caPath,
            world.attacker.dir,
          );
          peers.push(peer);
          peer.ws.pause();
          // Four downloads a connection: more than the user's share of transfers (8).
          for (const id of [3, 5, 7, 9])
            peer.send('download', id, { credit: 8 * MiB, owner: 'victim', name: 'unread-source' });
        }
        await sleep(2000);
      });
    } finally {
      for (const peer of peers) peer.close();
    }
  });

  it('connection hog: one user gets at most its share of connections; others still get in', async () => {
    const peers: RawPeer[] = [];
    let refused = 0;
    try {
      for (let i = 0; i < 20; i++) {
        try {
          peers.push(await loggedInPeer(world.server.url, world.server.caPath, world.attacker.dir));
        } catch {
          refused++;
        }
      }
      assert.equal(peers.length, 16, 'connectionsPerUser (16) are let in');
      assert.equal(refused, 4);
      await world.legitimateRound('hog');
    } finally {
      for (const peer of peers) peer.close();
      // The server counts them out once their close arrives.
      await sleep(300);
    }
  });

  it('sockets that never finish TLS are counted from accept, capped per address, and dropped at the deadline', async () => {
    const sockets: Socket[] = [];
    const port = Number(new URL(world.server.url).port);
    for (let i = 0; i < 80; i++) sockets.push(netConnect(port, '127.0.0.1'));
    const closed = await Promise.all(
      sockets.map(
        (socket) =>
          new Promise<number>((resolve) => {
            const started = Date.now();
            socket.on('error', () => undefined);
            socket.once('close', () => {
              resolve(Date.now() - started);
            });
          }),
      ),
    );
    // 16 over the per-address cap (64) are dropped at once, the rest at the TLS deadline (2 s).
    assert.ok(closed.filter((ms) => ms < 1000).length >= 16, 'over the cap: dropped at once');
    assert.ok(Math.max(...closed) < 10_000, 'every socket was dropped');
    await world.legitimateRound('tls');
  });

  it('slowloris: TLS done, then the upgrade request a byte at a time, is cut off at the deadline', async () => {
    const socket = tlsConnect({
      host: '127.0.0.1',
      port: Number(new URL(world.server.url).port),
      ca: readFileSync(world.server.caPath),
    });
    socket.on('error', () => undefined);
    await new Promise<void>((resolve) =>
      socket.once('secureConnect', () => {
        resolve();
      }),
    );
    const started = Date.now();
    const request = 'GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n';
    let at = 0;
    const drip = setInterval(() => {
      if (at < request.length) socket.write(request[at++] ?? '');
    }, 200);
    const closed = new Promise<void>((resolve) =>
      socket.once('close', () => {
        resolve();
      }),
    );
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('the connection was still open after 10 s'));
      }, 10_000);
    });
    try {
      await Promise.race([closed, deadline]);
    } finally {
      clearTimeout(timer);
      clearInterval(drip);
    }
    const elapsed = Date.now() - started;
    assert.ok(elapsed < 8000, `held for ${elapsed} ms`);
    await world.legitimateRound('slowloris');
  });

  it('an upload that takes credit and sends nothing ends with E_TIMEOUT, leaving no temporary file', async () => {
    const peer = await loggedInPeer(world.server.url, world.server.caPath, world.attacker.dir);
    after(() => {
      peer.close();
    });
    peer.send('post.begin', 3, {
      image: randomBytes(16),
      name: 'never',
      contentType: 'image/png',
      size: 10 * MiB,
      audience: ['attacker'],
      keys: [{ recipient: 'attacker', enc: new Uint8Array(32).fill(9), ct: new Uint8Array(48) }],
      replace: false,
    });
    assert.equal((await peer.reply(3)).type, 'post.ready');
    const ended = await peer.next((message) => message.id === 3, 15_000);
    assert.equal(code(ended), 'E_TIMEOUT');
    assert.equal(peer.closeCode, undefined, 'the connection goes on');
    // The temporary file goes as the upload ends (just after the answer).
    const tmp = join(world.server.dataDir, 'tmp');
    for (let tries = 0; readdirSync(tmp).length > 0 && tries < 40; tries++) await sleep(50);
    assert.deepEqual(readdirSync(tmp), []);
    peer.close();
  });

  it('large frames of types the server never takes are refused from the header; repeated, the connection closes', async () => {
    const peer = await loggedInPeer(world.server.url, world.server.caPath, world.attacker.dir);
    after(() => {
      peer.close();
    });
    const serverOnly = encodeFrame('download.chunk', 5, { data: new Uint8Array(MiB) });
    peer.sendRaw(serverOnly);
    assert.equal(code(await peer.reply(5)), 'E_BAD_REQUEST');
    for (let i = 0; i < 40; i++) peer.sendRaw(serverOnly);
    assert.equal(await peer.closed(), 1008);
  });

  it('before authentication every frame is small: large ones are refused, and many close the connection', async (t) => {
    await during(t, world, 'preauth', async () => {
      const peers = await Promise.all(
        Array.from({ length: 8 }, () => RawPeer.connect(world.server.url, world.server.caPath)),
      );
      const big = encodeFrame('post.chunk', 4, { data: new Uint8Array(MiB) });
      try {
        for (const peer of peers) for (let i = 0; i < 40; i++) peer.sendRaw(big);
        for (const peer of peers) assert.equal(await peer.closed(), 1008);
      } finally {
        for (const peer of peers) peer.close();
      }
    });
  });
});
