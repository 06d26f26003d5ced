/**
 * Wycheproof vectors run through the code paths sisp itself uses: the envelope's
 * AEAD backends, the Ed25519 verify behind every signature, X25519 with its
 * low-order check, the HKDF code, and ECDSA P-256 verification the way
 * certificate checks do it (@peculiar/x509's DER-to-WebCrypto conversion, then
 * WebCrypto).
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import type { AeadFactory } from '../../src/crypto/aead.js';
import { hkdfExpand, hkdfExtract } from '../../src/crypto/hkdf.js';
import { importX25519PrivateRaw, verifyEd25519, x25519 } from '../../src/crypto/keys.js';
import { buf, subtle } from '../../src/crypto/webcrypto.js';
import { ecdsaDerToRaw, ecdsaRawToDer } from '../../src/crypto/der.js';
import { BACKENDS } from '../support/backends.js';
import { concatBytes, fromHex, toHex } from '../../src/protocol/bytes.js';
import { loadWycheproof, type WycheproofFile } from '../vectors.js';

type Result = 'valid' | 'invalid' | 'acceptable';

const [aesGcm, ed25519, x25519File, hkdf, ecdsa] = await Promise.all(
  [
    'aes_gcm_test.json',
    'ed25519_test.json',
    'x25519_test.json',
    'hkdf_sha256_test.json',
    'ecdsa_secp256r1_sha256_test.json',
  ].map((name) => loadWycheproof<unknown>(name)),
);

describe('Wycheproof AES-GCM (256-bit keys, 96-bit IVs, 128-bit tags)', () => {
  interface Group {
    keySize: number;
    ivSize: number;
    tagSize: number;
    tests: {
      tcId: number;
      key: string;
      iv: string;
      aad: string;
      msg: string;
      ct: string;
      tag: string;
      result: Result;
    }[];
  }
  const file = aesGcm as WycheproofFile<Group>;
  const groups = file.testGroups.filter(
    (g) => g.keySize === 256 && g.ivSize === 96 && g.tagSize === 128,
  );
  const backends: [string, AeadFactory][] = BACKENDS.map(({ name, crypto }) => [name, crypto.aead]);
  for (const [name, factory] of backends) {
    it(`${name}: every applicable case`, async () => {
      let count = 0;
      for (const group of groups) {
        for (const test of group.tests) {
          const aead = await factory(fromHex(test.key));
          const nonce = fromHex(test.iv);
          const sealed = concatBytes(fromHex(test.ct), fromHex(test.tag));
          const opened = await aead.open(nonce, sealed, fromHex(test.aad));
          if (test.result === 'valid') {
            assert.equal(opened === null ? null : toHex(opened), test.msg, `tcId ${test.tcId}`);
            assert.equal(
              toHex(await aead.seal(nonce, fromHex(test.msg), fromHex(test.aad))),
              test.ct + test.tag,
            );
          } else if (test.result === 'invalid') {
            assert.equal(opened, null, `tcId ${test.tcId} accepted`);
          }
          count++;
        }
      }
      assert.ok(count > 50, `only ${count} cases applied`);
    });
  }
});

describe('Wycheproof Ed25519', () => {
  interface Group {
    publicKey: { pk: string };
    tests: { tcId: number; msg: string; sig: string; result: Result }[];
  }
  const file = ed25519 as WycheproofFile<Group>;
  it(`all ${file.numberOfTests} cases`, async () => {
    let count = 0;
    for (const group of file.testGroups) {
      const pk = fromHex(group.publicKey.pk);
      for (const test of group.tests) {
        const ok = await verifyEd25519(pk, fromHex(test.sig), fromHex(test.msg));
        if (test.result === 'valid') assert.equal(ok, true, `tcId ${test.tcId}`);
        if (test.result === 'invalid') assert.equal(ok, false, `tcId ${test.tcId}`);
        count++;
      }
    }
    assert.equal(count, file.numberOfTests);
  });
});

describe('Wycheproof X25519', () => {
  interface Group {
    tests: {
      tcId: number;
      public: string;
      private: string;
      shared: string;
      result: Result;
      flags: string[];
    }[];
  }
  const file = x25519File as WycheproofFile<Group>;
  it(`all ${file.numberOfTests} cases; low-order points rejected`, async () => {
    let rejectedLowOrder = 0;
    for (const group of file.testGroups) {
      for (const test of group.tests) {
        const privateKey = await importX25519PrivateRaw(fromHex(test.private));
        let shared: string | null;
        try {
          shared = toHex(await x25519(privateKey, fromHex(test.public)));
        } catch {
          shared = null;
        }
        const zero = test.shared === '00'.repeat(32);
        if (zero) {
          assert.equal(shared, null, `tcId ${test.tcId}: all-zero secret accepted`);
          rejectedLowOrder++;
        } else if (test.result === 'valid') {
          assert.equal(shared, test.shared, `tcId ${test.tcId}`);
        } else if (test.result === 'acceptable' && shared !== null) {
          assert.equal(shared, test.shared, `tcId ${test.tcId}`);
        } else if (test.result === 'invalid') {
          assert.equal(shared, null, `tcId ${test.tcId}`);
        }
      }
    }
    assert.ok(rejectedLowOrder > 5);
  });
});

describe('Wycheproof HKDF-SHA-256', () => {
  interface Group {
    tests: {
      tcId: number;
      ikm: string;
      salt: string;
      info: string;
      size: number;
      okm: string;
      result: Result;
    }[];
  }
  const file = hkdf as WycheproofFile<Group>;
  it(`all ${file.numberOfTests} cases through hkdfExtract + hkdfExpand`, () => {
    for (const group of file.testGroups) {
      for (const test of group.tests) {
        let okm: string | null;
        try {
          const prk = hkdfExtract('SHA-256', fromHex(test.ikm), fromHex(test.salt));
          okm = toHex(hkdfExpand('SHA-256', prk, fromHex(test.info), test.size));
        } catch {
          okm = null;
        }
        if (test.result === 'valid') assert.equal(okm, test.okm, `tcId ${test.tcId}`);
        else assert.equal(okm, null, `tcId ${test.tcId}`);
      }
    }
  });
});

describe('Wycheproof ECDSA P-256 SHA-256 (DER signatures, as in certificates)', () => {
  interface Group {
    publicKeyDer: string;
    tests: { tcId: number; msg: string; sig: string; result: Result }[];
  }
  const file = ecdsa as WycheproofFile<Group>;
  const alg = { name: 'ECDSA', hash: 'SHA-256' };
  it(`all ${file.numberOfTests} cases`, async () => {
    for (const group of file.testGroups) {
      const key = await subtle().importKey(
        'spki',
        buf(fromHex(group.publicKeyDer)),
        { name: 'ECDSA', namedCurve: 'P-256' },
        false,
        ['verify'],
      );
      for (const test of group.tests) {
        let ok: boolean;
        try {
          ok = await subtle().verify(
            alg,
            key,
            buf(ecdsaDerToRaw(fromHex(test.sig))),
            buf(fromHex(test.msg)),
          );
        } catch {
          ok = false;
        }
        if (test.result === 'valid') assert.equal(ok, true, `tcId ${test.tcId}`);
        if (test.result === 'invalid') assert.equal(ok, false, `tcId ${test.tcId}`);
        // Issuing encodes WebCrypto's r || s back to DER: every valid signature's DER
        // is canonical, so the round trip must give back exactly its bytes.
        if (test.result === 'valid')
          assert.equal(toHex(ecdsaRawToDer(ecdsaDerToRaw(fromHex(test.sig)))), test.sig);
      }
    }
  });
});
