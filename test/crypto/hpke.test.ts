import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readRfcHpkeVector } from '../support/hpke-vector.js';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import {
  rewrapContentKey,
  SERVER_RECIPIENT,
  unwrapContentKey,
  wrapContentKey,
  type WrappedKey,
} from '../../src/crypto/hpke.js';
import { generateIdentity, importX25519PrivateRaw, publicIdentity } from '../../src/crypto/keys.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { fromHex, toHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { CONTENT_KEY, IKM_E, IMAGE_ID, X25519_ALICE, X25519_BOB } from '../protocol/doc-vectors.js';

const vector = await readRfcHpkeVector();

const ab = (hex: string) => fromHex(hex).slice().buffer;

/**
 * sisp's KEM and KDF with the AEAD swapped for the one the RFC's vector uses. Fresh
 * instances: a CipherSuite initialises its KDF with its own suite id, so sharing
 * hpkeSuite()'s would change the key schedule of every later sisp wrap in the process.
 */
function rfcSuite(): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });
}

describe('HPKE (RFC 9180 base mode, X25519 / HKDF-SHA256 / AES-256-GCM)', () => {
  it('RFC 9180 A.1.1: the recipient opens every encryption in sequence', async () => {
    const suite = rfcSuite();
    const recipientKey = await importX25519PrivateRaw(fromHex(vector.skRm));
    const context = await suite.createRecipientContext({
      recipientKey,
      enc: ab(vector.enc),
      info: ab(vector.info),
    });
    for (const encryption of vector.encryptions) {
      const plaintext = await context.open(ab(encryption.ciphertext), ab(encryption.aad));
      assert.equal(toHex(new Uint8Array(plaintext)), encryption.plaintext);
    }
  });

  it('RFC 9180 A.1.1: the sender with the fixed ephemeral key produces the exact enc and ciphertexts', async () => {
    const suite = rfcSuite();
    const recipientPublicKey = await suite.kem.deserializePublicKey(ab(vector.pkRm));
    const skE = await importX25519PrivateRaw(fromHex(vector.skEm));
    const pkE = await suite.kem.deserializePublicKey(ab(vector.enc));
    const sender = await suite.createSenderContext({
      recipientPublicKey,
      info: ab(vector.info),
      ekm: { privateKey: skE, publicKey: pkE },
    });
    assert.equal(toHex(new Uint8Array(sender.enc)), vector.enc);
    for (const encryption of vector.encryptions) {
      const ciphertext = await sender.seal(ab(encryption.plaintext), ab(encryption.aad));
      assert.equal(toHex(new Uint8Array(ciphertext)), encryption.ciphertext);
    }
  });

  const imageId = randomBytes(16);

  it('the wrap vector of docs/PROTOCOL.md opens with the recipient key and no other', async () => {
    const wrapped = await wrapContentKey(CONTENT_KEY, X25519_BOB.public, IMAGE_ID, 'bob', {
      ikmE: IKM_E,
    });
    const bob = await importX25519PrivateRaw(X25519_BOB.private);
    assert.deepEqual(await unwrapContentKey(wrapped, bob, IMAGE_ID, 'bob'), CONTENT_KEY);
    const alice = await importX25519PrivateRaw(X25519_ALICE.private);
    await assert.rejects(unwrapContentKey(wrapped, alice, IMAGE_ID, 'bob'), (e) =>
      isSispError(e, 'E_TAMPERED'),
    );
  });

  it('wraps and unwraps a content key for a named recipient', async () => {
    const bob = await generateIdentity();
    const key = randomBytes(32);
    const wrapped = await wrapContentKey(
      key,
      (await publicIdentity(bob)).encryptionKey,
      imageId,
      'bob',
    );
    assert.equal(wrapped.enc.length, 32);
    assert.equal(wrapped.ct.length, 48);
    assert.deepEqual(
      await unwrapContentKey(wrapped, bob.encryption.privateKey, imageId, 'bob'),
      key,
    );
  });

  it('refuses a flipped bit, a wrong info (image or recipient), a wrong key and a malformed enc', async () => {
    const bob = await generateIdentity();
    const eve = await generateIdentity();
    const key = randomBytes(32);
    const wrapped = await wrapContentKey(
      key,
      (await publicIdentity(bob)).encryptionKey,
      imageId,
      'bob',
    );
    const tampered = async (
      candidate: WrappedKey,
      privateKey = bob.encryption.privateKey,
      id = imageId,
      who = 'bob',
    ) =>
      assert.rejects(unwrapContentKey(candidate, privateKey, id, who), (e) =>
        isSispError(e, 'E_TAMPERED'),
      );
    for (const index of [0, 17, 47]) {
      const ct = wrapped.ct.slice();
      ct[index] = (ct[index] ?? 0) ^ 0x01;
      await tampered({ enc: wrapped.enc, ct });
    }
    const enc = wrapped.enc.slice();
    enc[5] = (enc[5] ?? 0) ^ 0x80;
    await tampered({ enc, ct: wrapped.ct });
    await tampered(wrapped, bob.encryption.privateKey, randomBytes(16));
    await tampered(wrapped, bob.encryption.privateKey, imageId, 'carol');
    await tampered(wrapped, eve.encryption.privateKey);
    await tampered({ enc: wrapped.enc.subarray(0, 31), ct: wrapped.ct });
    await tampered({ enc: new Uint8Array(32), ct: wrapped.ct }); // low-order point
    await tampered({ enc: wrapped.enc, ct: wrapped.ct.subarray(0, 47) });
  });

  it('re-wraps from the server to a downloader without the key crossing in the clear', async () => {
    const server = await generateIdentity();
    const carol = await generateIdentity();
    const key = randomBytes(32);
    const toServer = await wrapContentKey(
      key,
      (await publicIdentity(server)).encryptionKey,
      imageId,
      SERVER_RECIPIENT,
    );
    const toCarol = await rewrapContentKey(
      toServer,
      server.encryption.privateKey,
      imageId,
      (await publicIdentity(carol)).encryptionKey,
      'carol',
    );
    assert.notDeepEqual(toCarol.ct, toServer.ct);
    assert.deepEqual(
      await unwrapContentKey(toCarol, carol.encryption.privateKey, imageId, 'carol'),
      key,
    );
    // The server's copy names the server: it cannot be handed to carol as-is.
    await assert.rejects(unwrapContentKey(toServer, carol.encryption.privateKey, imageId, 'carol'));
  });

  it('refuses to wrap to a low-order public key', async () => {
    await assert.rejects(wrapContentKey(randomBytes(32), new Uint8Array(32), imageId, 'bob'));
  });
});
