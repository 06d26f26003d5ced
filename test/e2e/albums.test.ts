/**
 * Albums against real processes: create, add, share (to a user who registered after
 * the images were added), members' list, show, download and live events, remove,
 * unshare, and a server that forges album rows on disk (refused by the member's
 * client: every membership and item is signed by the owner).
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { fetchThumbnails } from '../../src/core/thumbnails.js';
import { listImages } from '../../src/core/catalogue.js';
import {
  clientHome,
  IMAGES,
  inProcessClient,
  registered,
  startServer,
  tempDir,
  type ClientHome,
  type ServerProcess,
} from './harness.js';

async function ok(home: ClientHome, args: string[]): Promise<string> {
  const result = await home.run(args);
  assert.equal(result.code, 0, `sisp ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
}

describe('albums', () => {
  let server: ServerProcess;
  let alice: ClientHome;
  let bob: ClientHome;
  let carol: ClientHome;

  before(async () => {
    server = await startServer();
    [alice, bob, carol] = await registered(server, 'alice', 'bob', 'carol');
    await ok(alice, ['post', 'beach', join(IMAGES, 'flower.jpg'), '--to', 'alice']);
    await ok(alice, ['post', 'hopper', join(IMAGES, 'hopper.png'), '--to', 'alice']);
    await ok(alice, ['album', 'create', 'holiday']);
    assert.equal(
      await ok(alice, ['album', 'add', 'holiday', 'beach', 'hopper']),
      'holiday: added 2 images\n',
    );
  });
  after(async () => {
    await server.stop();
  });

  it('a user who registers after the images were added sees them once the album is shared', async () => {
    const dave = clientHome(server);
    await ok(dave, ['register', 'dave']);
    assert.equal(await ok(dave, ['list']), 'no images yet\n');
    const watch = dave.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(
        await ok(alice, ['album', 'share', 'holiday', '--to', 'dave']),
        'holiday: shared with dave\n',
      );
      await watch.waitFor((out) => out.includes('ALBUM_SHARED holiday alice\n'));
      const listed = await ok(dave, ['list']);
      assert.match(listed, /alice\/beach/);
      assert.match(listed, /alice\/hopper/);
      const out = join(tempDir('album-dl'), 'beach.jpg');
      await ok(dave, ['download', 'alice/beach', '--out', out]);
      assert.deepEqual(readFileSync(out), readFileSync(join(IMAGES, 'flower.jpg')));
      // Added later: members are told at once.
      await ok(alice, ['post', 'later', join(IMAGES, 'hopper.png'), '--to', 'alice']);
      await ok(alice, ['album', 'add', 'holiday', 'later']);
      await watch.waitFor((out) => out.includes('NEW_IMAGE later alice\n'));
    } finally {
      await watch.stop();
    }
    const shown = JSON.parse(await ok(dave, ['album', 'show', 'alice/holiday', '--json'])) as {
      members: string[];
      images: { name: string }[];
    };
    assert.deepEqual(shown.members, ['alice', 'dave']);
    assert.deepEqual(shown.images.map((image) => image.name).sort(), ['beach', 'hopper', 'later']);
    assert.equal(await ok(dave, ['album', 'list']), 'alice/holiday  3 images  2 members\n');
  });

  it('members get thumbnails through the album; others see nothing of it', async () => {
    await ok(alice, ['album', 'share', 'holiday', '--to', 'bob']);
    const client = await inProcessClient(server, bob);
    try {
      const images = await listImages(client);
      const thumbnails = await fetchThumbnails(client, images);
      assert.equal(thumbnails.size, images.length);
      assert.ok(images.length >= 3);
    } finally {
      client.close();
    }
    assert.equal(await ok(carol, ['list']), 'no images yet\n');
    const refused = await carol.run(['album', 'show', 'alice/holiday']);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /E_NOT_FOUND|no such album/);
    const denied = await carol.run(['download', 'alice/beach']);
    assert.equal(denied.code, 1);
  });

  it('only the owner changes an album', async () => {
    await ok(bob, ['post', 'bobs', join(IMAGES, 'hopper.png')]);
    const add = await bob.run(['album', 'add', 'alice/holiday', 'bobs']);
    assert.equal(add.code, 1);
    assert.match(add.stderr, /only alice can add to holiday/);
    const share = await bob.run(['album', 'share', 'alice/holiday', '--to', 'carol']);
    assert.equal(share.code, 1);
    const foreign = await alice.run(['album', 'add', 'holiday', 'bob/bobs']);
    assert.equal(foreign.code, 1);
    assert.match(foreign.stderr, /only bob can put bob\/bobs in an album/);
  });

  it('remove and unshare take access back at once, and the member is told', async () => {
    const watch = bob.spawn(['watch']);
    try {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(
        await ok(alice, ['album', 'remove', 'holiday', 'hopper']),
        'holiday: removed 1 image\n',
      );
      await watch.waitFor((out) => out.includes('UNSHARED hopper alice\n'));
      assert.doesNotMatch(await ok(bob, ['list']), /alice\/hopper/);
      assert.equal((await bob.run(['download', 'alice/hopper'])).code, 1);
      assert.equal(
        await ok(alice, ['album', 'unshare', 'holiday', '--from', 'bob']),
        'holiday: taken back from bob\n',
      );
      await watch.waitFor((out) => out.includes('ALBUM_UNSHARED holiday alice\n'));
    } finally {
      await watch.stop();
    }
    assert.doesNotMatch(await ok(bob, ['list']), /alice\//);
    assert.equal((await bob.run(['download', 'alice/beach'])).code, 1);
    assert.equal((await bob.run(['album', 'show', 'alice/holiday'])).code, 1);
    assert.equal(
      await ok(alice, ['album', 'unshare', 'holiday', '--from', 'bob']),
      'holiday: nobody to take back\n',
    );
  });

  it('a server that forges album rows is caught by the member: items and members are signed', async () => {
    await ok(alice, ['album', 'create', 'work']);
    await ok(alice, ['post', 'report', join(IMAGES, 'hopper.png'), '--to', 'alice']);
    await ok(alice, ['album', 'add', 'work', 'report']);
    await ok(alice, ['album', 'share', 'work', '--to', 'carol']);
    await server.stop();
    const db = new Database(join(server.dataDir, 'sisp.db'));
    try {
      const ids = (name: string) =>
        db.prepare<[string], { id: Uint8Array }>('SELECT id FROM albums WHERE name = ?').get(name)
          ?.id;
      const work = ids('work');
      const holiday = ids('holiday');
      assert.ok(work !== undefined && holiday !== undefined);
      // The server moves holiday's beach into work (a real item, signed for another album).
      db.prepare(
        `INSERT INTO album_items (album, image, key, signature)
           SELECT ?, ai.image, ai.key, ai.signature FROM album_items ai
             JOIN images i ON i.id = ai.image WHERE ai.album = ? AND i.name = 'beach'`,
      ).run(work, holiday);
      // And makes carol a member of holiday with her membership of work.
      db.prepare(
        `INSERT INTO album_members (album, member, enc, ct, signature)
           SELECT ?, member, enc, ct, signature FROM album_members WHERE album = ? AND member = 'carol'`,
      ).run(holiday, work);
    } finally {
      db.close();
    }
    server = await startServer({ dataDir: server.dataDir });
    const moved = clientHome(server, carol.dir);
    const shown = await moved.run(['album', 'show', 'alice/work']);
    assert.equal(shown.code, 1);
    assert.match(shown.stderr, /was not put there by alice/);
    const download = await moved.run(['download', 'alice/beach']);
    assert.equal(download.code, 1);
    assert.match(download.stderr, /did not share it with you|E_TAMPERED/);
    const joined = await moved.run(['album', 'show', 'alice/holiday']);
    assert.equal(joined.code, 1);
    assert.match(joined.stderr, /alice did not add carol to holiday/);
  });
});
