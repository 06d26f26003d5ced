/**
 * The Node-native HPKE suite (src/node/hpke.ts) against RFC 9180's vectors, Wycheproof's
 * low-order X25519 keys, and @hpke/core both ways on random inputs.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Aes128Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import fc from 'fast-check';
import {
  hpkeSuite,
  wrapContentKey,
  unwrapContentKey,
  type HpkeSuite,
} from '../../src/crypto/hpke.js';
import { importX25519PrivateRaw, importX25519Public } from '../../src/crypto/keys.js';
import { deriveX25519KeyPair, nodeHpke, NodeHpkeSuite } from '../../src/node/hpke.js';
import { fromHex, toHex } from '../../src/protocol/bytes.js';
import { CONTENT_KEY, IKM_E, IMAGE_ID, X25519_BOB } from '../protocol/doc-vectors.js';
import { numRuns } from '../properties.js';
import { readTestJson } from '../support/files.js';
import { readRfcHpkeVector } from '../support/hpke-vector.js';

const rfc = await readRfcHpkeVector();

interface WycheproofX25519 {
  testGroups: { tests: { public: string; flags: string[] }[] }[];
}
const wycheproof = await readTestJson<WycheproofX25519>('test/vectors/wycheproof/x25519_test.json');

const first = rfc.encryptions[0];
if (first === undefined) throw new Error('the RFC vector has no encryption');

/** @hpke/core with RFC 9180 A.1's AEAD; fresh, as its KDF keeps the suite id it was made with. */
function hpkeCoreAes128(): CipherSuite {
  return new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes128Gcm(),
  });
}

async function rawPublic(key: CryptoKey): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.exportKey('raw', key));
}

describe('Node-native HPKE: RFC 9180 vectors', () => {
  it('A.1.1: DeriveKeyPair(ikmE) gives the vector ephemeral key', () => {
    const pair = deriveX25519KeyPair(IKM_E);
    const der = pair.privateKey.export({ format: 'der', type: 'pkcs8' });
    assert.equal(toHex(new Uint8Array(der.subarray(-32))), rfc.skEm);
    assert.equal(toHex(new Uint8Array(pair.publicKey)), rfc.enc);
  });

  it('A.1.1: sealing with ikmE gives the exact enc and first ciphertext', async () => {
    const suite = new NodeHpkeSuite('aes-128-gcm');
    const sealed = await suite.seal(
      {
        recipientPublicKey: await importX25519Public(fromHex(rfc.pkRm)),
        info: fromHex(rfc.info),
        ekm: IKM_E,
      },
      fromHex(first.plaintext),
      fromHex(first.aad),
    );
    assert.equal(toHex(new Uint8Array(sealed.enc)), rfc.enc);
    assert.equal(toHex(new Uint8Array(sealed.ct)), first.ciphertext);
  });

  it('A.1.1: sealing with the vector key pair (skEm) gives the same', async () => {
    const suite = new NodeHpkeSuite('aes-128-gcm');
    const sealed = await suite.seal(
      {
        recipientPublicKey: await importX25519Public(fromHex(rfc.pkRm)),
        info: fromHex(rfc.info),
        ekm: {
          privateKey: await importX25519PrivateRaw(fromHex(rfc.skEm)),
          publicKey: await importX25519Public(fromHex(rfc.enc)),
        },
      },
      fromHex(first.plaintext),
      fromHex(first.aad),
    );
    assert.equal(toHex(new Uint8Array(sealed.ct)), first.ciphertext);
  });

  it('A.1.1: the recipient opens the first ciphertext, and refuses it under other aad or info', async () => {
    const suite = new NodeHpkeSuite('aes-128-gcm');
    const params = {
      recipientKey: await importX25519PrivateRaw(fromHex(rfc.skRm)),
      enc: fromHex(rfc.enc),
      info: fromHex(rfc.info),
    };
    const opened = await suite.open(params, fromHex(first.ciphertext), fromHex(first.aad));
    assert.equal(toHex(new Uint8Array(opened)), first.plaintext);
    await assert.rejects(suite.open(params, fromHex(first.ciphertext), fromHex('00')));
    await assert.rejects(
      suite.open({ ...params, info: fromHex('00') }, fromHex(first.ciphertext), fromHex(first.aad)),
    );
  });

  it("docs/PROTOCOL.md's wrap vector: the same bytes as @hpke/core, and it opens", async () => {
    const portable = await wrapContentKey(CONTENT_KEY, X25519_BOB.public, IMAGE_ID, 'bob', {
      ikmE: IKM_E,
    });
    const native = await wrapContentKey(CONTENT_KEY, X25519_BOB.public, IMAGE_ID, 'bob', {
      ikmE: IKM_E,
      suite: nodeHpke,
    });
    assert.deepEqual(native, portable);
    const bob = await importX25519PrivateRaw(X25519_BOB.private);
    const key = await unwrapContentKey(native, bob, IMAGE_ID, 'bob', { suite: nodeHpke });
    assert.deepEqual(key, CONTENT_KEY);
  });
});

describe('Node-native HPKE: refusals', () => {
  const lowOrder = [
    ...new Set(
      wycheproof.testGroups.flatMap((group) =>
        group.tests.filter((t) => t.flags.includes('ZeroSharedSecret')).map((t) => t.public),
      ),
    ),
  ];

  it(`refuses to seal to Wycheproof's ${String(lowOrder.length)} low-order public keys`, async () => {
    assert.ok(lowOrder.length > 10);
    for (const hex of lowOrder) {
      // WebCrypto takes them as keys; it is the DH that must refuse them.
      const recipientPublicKey = await importX25519Public(fromHex(hex));
      await assert.rejects(
        nodeHpke.seal({ recipientPublicKey }, new Uint8Array(32)),
        Error,
        `sealed to low-order key ${hex}`,
      );
    }
  });

  it('refuses to open under a low-order enc, a short enc or a short ciphertext', async () => {
    const bob = await importX25519PrivateRaw(X25519_BOB.private);
    const ct = new Uint8Array(48);
    for (const hex of lowOrder) {
      await assert.rejects(nodeHpke.open({ recipientKey: bob, enc: fromHex(hex) }, ct));
    }
    await assert.rejects(nodeHpke.open({ recipientKey: bob, enc: new Uint8Array(31) }, ct));
    const sealed = await nodeHpke.seal(
      { recipientPublicKey: await importX25519Public(X25519_BOB.public) },
      new Uint8Array(0),
    );
    await assert.rejects(nodeHpke.open({ recipientKey: bob, enc: sealed.enc }, new Uint8Array(15)));
    assert.equal(
      (await nodeHpke.open({ recipientKey: bob, enc: sealed.enc }, sealed.ct)).byteLength,
      0,
    );
  });

  it('refuses modes other than base, and keys of the wrong kind', async () => {
    const bob = await importX25519PrivateRaw(X25519_BOB.private);
    const bobPublic = await importX25519Public(X25519_BOB.public);
    const psk = { id: new Uint8Array(8).buffer, key: new Uint8Array(32).buffer };
    await assert.rejects(nodeHpke.seal({ recipientPublicKey: bobPublic, psk }, new Uint8Array(1)));
    await assert.rejects(nodeHpke.seal({ recipientPublicKey: bob }, new Uint8Array(1)));
    await assert.rejects(
      nodeHpke.open({ recipientKey: bobPublic, enc: new Uint8Array(32) }, new Uint8Array(48)),
    );
  });
});

/** Seals with one suite and opens with the other, on random keys, info, plaintext and aad. */
async function agree(sealer: HpkeSuite, opener: HpkeSuite, aes128 = false): Promise<void> {
  const input = fc.record({
    info: fc.uint8Array({ maxLength: 200 }),
    pt: fc.uint8Array({ maxLength: 300 }),
    aad: fc.option(fc.uint8Array({ maxLength: 64 }), { nil: undefined }),
  });
  await fc.assert(
    fc.asyncProperty(input, async ({ info, pt, aad }) => {
      const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, [
        'deriveBits',
      ])) as CryptoKeyPair;
      const sealed = await sealer.seal({ recipientPublicKey: pair.publicKey, info }, pt, aad);
      assert.equal(sealed.enc.byteLength, 32);
      assert.equal(sealed.ct.byteLength, pt.length + 16);
      const opened = await opener.open(
        { recipientKey: pair.privateKey, enc: sealed.enc, info },
        sealed.ct,
        aad,
      );
      assert.deepEqual(new Uint8Array(opened), pt);
    }),
    { numRuns: numRuns(aes128 ? 30 : 100) },
  );
}

describe('Node-native HPKE agrees with @hpke/core', () => {
  it('Node seals, @hpke/core opens (AES-256-GCM)', async () => agree(nodeHpke, await hpkeSuite()));
  it('@hpke/core seals, Node opens (AES-256-GCM)', async () => agree(await hpkeSuite(), nodeHpke));
  it('both ways with AES-128-GCM', async () => {
    await agree(new NodeHpkeSuite('aes-128-gcm'), hpkeCoreAes128(), true);
    await agree(hpkeCoreAes128(), new NodeHpkeSuite('aes-128-gcm'), true);
  });

  it('the same ephemeral ikm gives byte-identical enc and ciphertext', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ minLength: 32, maxLength: 64 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 100 }),
        async (ikm, info, pt) => {
          const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, [
            'deriveBits',
          ])) as CryptoKeyPair;
          const params = { recipientPublicKey: pair.publicKey, info, ekm: ikm.slice().buffer };
          const native = await nodeHpke.seal(params, pt);
          const portable = await (await hpkeSuite()).seal(params, pt);
          assert.deepEqual(new Uint8Array(native.enc), new Uint8Array(portable.enc));
          assert.deepEqual(new Uint8Array(native.ct), new Uint8Array(portable.ct));
        },
      ),
      { numRuns: numRuns(50) },
    );
  });

  it('opens with a private key from a PKCS#8 keystore import (non-extractable)', async () => {
    const pair = (await crypto.subtle.generateKey({ name: 'X25519' }, true, [
      'deriveBits',
    ])) as CryptoKeyPair;
    const pkcs8 = new Uint8Array(await crypto.subtle.exportKey('pkcs8', pair.privateKey));
    const stored = await crypto.subtle.importKey('pkcs8', pkcs8, { name: 'X25519' }, false, [
      'deriveBits',
    ]);
    const wrapped = await wrapContentKey(
      CONTENT_KEY,
      await rawPublic(pair.publicKey),
      IMAGE_ID,
      'bob',
      {
        suite: nodeHpke,
      },
    );
    assert.deepEqual(await unwrapContentKey(wrapped, stored, IMAGE_ID, 'bob'), CONTENT_KEY);
    assert.deepEqual(
      await unwrapContentKey(wrapped, stored, IMAGE_ID, 'bob', { suite: nodeHpke }),
      CONTENT_KEY,
    );
  });
});
