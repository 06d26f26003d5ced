/**
 * A hostile server, built from the real one with a hostile Store in front of the
 * real store: it tries to pass one user's image off as another's, in downloads and
 * in listings. The client must refuse, whatever the server says beside the signed
 * manifest.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { listImages } from '../../src/core/catalogue.js';
import type { SispClient } from '../../src/core/client.js';
import { downloadImage } from '../../src/core/download.js';
import { postImage } from '../../src/core/post.js';
import { shareImage } from '../../src/core/sharing.js';
import { memorySink } from '../../src/core/sink.js';
import { bytesSource } from '../../src/core/source.js';
import { equalBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import type { ImageRecord, Store } from '../../src/server/store/types.js';
import { login, registered, testServer, type TestServer } from './harness.js';
import { pngBytes } from './images.js';

/** What the hostile store does, switched by the test. */
const attack = { swapImage: false, swapListing: false, dropGrants: false };
let victim: ImageRecord | undefined;
let forged: ImageRecord | undefined;

/** Answers every question about alice/sunset with mallory's image (and her signature). */
function hostile(real: Store): Store {
  const swap = (record: ImageRecord | undefined): ImageRecord | undefined => {
    if (!attack.swapImage || record === undefined || victim === undefined || forged === undefined)
      return record;
    if (!equalBytes(record.id, victim.id)) return record;
    // Mallory's manifest and signature, but filed as alice's image.
    return { ...forged, id: victim.id, owner: victim.owner, name: victim.name };
  };
  return {
    ...real,
    getVisible: async (viewer, id) => swap(await real.getVisible(viewer, id)),
    // A key handed over without the owner's grant: as if the server added the reader.
    getKey: async (image, recipient) => {
      const key = await real.getKey(image, recipient);
      if (!attack.dropGrants || key === undefined) return key;
      return { recipient: key.recipient, enc: key.enc, ct: key.ct };
    },
    findVisible: async (viewer, owner, name) => swap(await real.findVisible(viewer, owner, name)),
    listVisible: async (viewer, after, limit) => {
      const rows = await real.listVisible(viewer, after, limit);
      if (!attack.swapListing) return rows;
      // Mallory's manifest, alice's signature: a listing entry that claims what it is not.
      return rows.map((row) =>
        victim !== undefined && forged !== undefined && equalBytes(row.id, forged.id)
          ? { ...row, signature: victim.signature }
          : row,
      );
    },
  };
}

const fails = (code: string) => (error: unknown) => isSispError(error) && error.code === code;

describe('against a hostile server', () => {
  let server: TestServer;
  let alice: SispClient;
  let mallory: SispClient;
  let bob: SispClient;
  before(async () => {
    server = await testServer({}, { wrapStore: hostile });
    alice = (await registered(server, 'alice')).client;
    mallory = (await registered(server, 'mallory')).client;
    const bobAccount = await registered(server, 'bob');
    await postImage(alice, { name: 'sunset', source: bytesSource(pngBytes(5000, 1)) });
    await postImage(mallory, { name: 'sunset', source: bytesSource(pngBytes(5000, 2)) });
    const raw = server.running.context.store;
    victim = await raw.findImage('alice', 'sunset');
    forged = await raw.findImage('mallory', 'sunset');
    // Bob has seen alice before: her key is pinned.
    bob = await login(server, bobAccount.storage);
    await bob.peer('alice');
  });
  after(async () => {
    for (const client of [alice, mallory, bob]) client.close();
    await server.stop();
  });

  it("downloading alice/sunset, bob gets mallory's image: refused, by name and by id", async () => {
    attack.swapImage = true;
    try {
      await assert.rejects(
        downloadImage(bob, { owner: 'alice', name: 'sunset' }, memorySink()),
        fails('E_TAMPERED'),
      );
      const id = victim?.id ?? assert.fail('posted');
      await assert.rejects(
        downloadImage(bob, { image: id, owner: 'alice', name: 'sunset' }, memorySink()),
        fails('E_TAMPERED'),
      );
    } finally {
      attack.swapImage = false;
    }
    // The control: the same download from the honest server works.
    const got = await downloadImage(bob, { owner: 'alice', name: 'sunset' }, memorySink());
    assert.equal(got.manifest.owner, 'alice');
  });

  it("a listing entry whose signature is not its owner's is refused (E_TAMPERED)", async () => {
    attack.swapListing = true;
    try {
      await assert.rejects(listImages(bob), fails('E_TAMPERED'));
    } finally {
      attack.swapListing = false;
    }
    const listed = await listImages(bob);
    const sunsets = listed.filter((image) => image.name === 'sunset').map((image) => image.owner);
    assert.deepEqual(sunsets.sort(), ['alice', 'mallory']);
  });
});

describe('grants: a reader the owner did not add is refused by their own client', () => {
  let server: TestServer;
  let alice: SispClient;
  let carol: SispClient;
  before(async () => {
    server = await testServer({}, { wrapStore: hostile });
    alice = (await registered(server, 'alice')).client;
    carol = (await registered(server, 'carol')).client;
    await postImage(alice, {
      name: 'later',
      to: ['alice'],
      source: bytesSource(pngBytes(4000, 3)),
    });
    await shareImage(alice, 'later', ['carol']);
  });
  after(async () => {
    for (const client of [alice, carol]) client.close();
    await server.stop();
  });

  it("a key served without the owner's signed grant is E_TAMPERED; with it, the image opens", async () => {
    attack.dropGrants = true;
    try {
      await assert.rejects(
        downloadImage(carol, { owner: 'alice', name: 'later' }, memorySink()),
        (error) =>
          fails('E_TAMPERED')(error) && /did not share it with you/.test((error as Error).message),
      );
    } finally {
      attack.dropGrants = false;
    }
    const got = await downloadImage(carol, { owner: 'alice', name: 'later' }, memorySink());
    assert.equal(got.manifest.owner, 'alice');
    assert.deepEqual(got.manifest.audience, ['alice'], 'the manifest never named carol');
  });

  it('the server refuses a grant or withdrawal not signed by the owner', async () => {
    const image = (await listImages(alice)).find((entry) => entry.name === 'later');
    assert.ok(image !== undefined);
    const forged = new Uint8Array(64).fill(7);
    await assert.rejects(
      alice.connection.request('share', {
        image: image.image,
        grants: [
          {
            recipient: 'carol',
            enc: new Uint8Array(32).fill(1),
            ct: new Uint8Array(48),
            signature: forged,
          },
        ],
      }),
      fails('E_FORBIDDEN'),
    );
    await assert.rejects(
      alice.connection.request('unshare', {
        image: image.image,
        recipient: 'carol',
        withdrawn: Date.now(),
        signature: forged,
      }),
      fails('E_FORBIDDEN'),
    );
    // carol still reads it: nothing changed.
    await downloadImage(carol, { owner: 'alice', name: 'later' }, memorySink());
  });
});
