import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { concatBytes, fromHex, toHex } from '../../src/protocol/bytes.js';
import type { AeadFactory } from '../../src/crypto/aead.js';
import {
  chunkNonce,
  CHUNK_SIZE,
  EnvelopeDecryptor,
  EnvelopeEncryptor,
  HEADER_SIZE,
  SEALED_CHUNK_SIZE,
} from '../../src/crypto/envelope.js';
import { openStream } from '../../src/crypto/envelope-stream.js';
import { buf, subtle } from '../../src/crypto/webcrypto.js';
import { BACKENDS } from '../support/backends.js';
import { inflate, loadWycheproof } from '../vectors.js';

interface Case {
  tcId: number;
  comment: string;
  key: string;
  ctx: string;
  ct: string;
  aeadKey?: string;
  baseNonce?: string;
  msgLength?: number;
  msgSha512?: string;
  result: 'valid' | 'invalid';
  flags: string[];
}

const file = await loadWycheproof<{ tests: Case[] }>(
  'c2sp_chunked_encryption_aes_256_gcm_test.json',
);
const cases = file.testGroups.flatMap((group) => group.tests);
const backends: [string, AeadFactory][] = BACKENDS.map(({ name, crypto }) => [name, crypto.aead]);
const fastest = BACKENDS[BACKENDS.length - 1]?.crypto.aead ?? assert.fail('no backend');

async function sha512(parts: Uint8Array[]): Promise<string> {
  return toHex(new Uint8Array(await subtle().digest('SHA-512', buf(concatBytes(...parts)))));
}

/** Feeds `ct` in pieces of `step` bytes; collects plaintext until the first error. */
async function decryptPieces(test: Case, aead: AeadFactory, step: number) {
  const ct = await inflate(fromHex(test.ct));
  const released: Uint8Array[] = [];
  let error: unknown;
  try {
    const decryptor = new EnvelopeDecryptor({
      key: fromHex(test.key),
      context: fromHex(test.ctx),
      aead,
    });
    for (let i = 0; i < ct.length; i += step) {
      released.push(...(await decryptor.update(ct.subarray(i, i + step))));
    }
    released.push(...(await decryptor.finish()));
  } catch (caught) {
    error = caught;
  }
  return { released, error, length: released.reduce((n, p) => n + p.length, 0) };
}

describe('C2SP chunked encryption (Wycheproof Cobblestone-256)', () => {
  it('has all 35 cases', () => {
    assert.equal(file.numberOfTests, 35);
    assert.equal(cases.length, 35);
  });

  for (const [backend, aead] of backends) {
    for (const test of cases) {
      it(`${backend} #${test.tcId} ${test.comment}`, async () => {
        // Whole, in odd-sized pieces, and across chunk boundaries.
        for (const step of [Number.MAX_SAFE_INTEGER, 7919, SEALED_CHUNK_SIZE, HEADER_SIZE + 1]) {
          const { error, length, released } = await decryptPieces(test, aead, step);
          if (test.result === 'valid') {
            assert.equal(error, undefined, `step ${step}`);
            assert.equal(length, test.msgLength);
            assert.equal(await sha512(released), test.msgSha512);
          } else {
            assert.ok(error, `step ${step}: invalid vector accepted`);
            assert.equal(
              (error as { code?: string }).code,
              test.flags.includes('InvalidKeySize') ? 'E_BAD_KEY' : 'E_TAMPERED',
            );
            // Never release bytes past the valid prefix.
            const prefix = test.flags.includes('PartialPlaintext') ? (test.msgLength ?? 0) : 0;
            assert.ok(length <= prefix, `released ${length} > prefix ${prefix}`);
            if (prefix > 0 && length === prefix)
              assert.equal(await sha512(released), test.msgSha512);
          }
        }
      });
    }
  }

  it('streaming iterator keeps failing after a failure (PartialPlaintext)', async () => {
    for (const test of cases.filter((c) => c.flags.includes('PartialPlaintext'))) {
      const ct = await inflate(fromHex(test.ct));
      const pieces = function* () {
        for (let i = 0; i < ct.length; i += 1000) yield ct.subarray(i, i + 1000);
      };
      const iterator = openStream(pieces(), { key: fromHex(test.key), context: fromHex(test.ctx) });
      let released = 0;
      let firstError: unknown;
      for (;;) {
        try {
          const step = await iterator.next();
          if (step.done === true) assert.fail(`#${test.tcId}: clean end on an invalid stream`);
          released += step.value.length;
        } catch (error) {
          firstError = error;
          break;
        }
      }
      assert.ok(released <= (test.msgLength ?? 0));
      for (let again = 0; again < 3; again++) {
        await assert.rejects(iterator.next(), (error) => error === firstError);
      }
    }
  });

  it('raw mode: derived key and nonce match, and re-encryption is byte-identical', async () => {
    for (const test of cases.filter((c) => c.result === 'valid')) {
      const ct = await inflate(fromHex(test.ct));
      const salt = ct.subarray(0, 24);
      // Re-encrypt the recovered message with the vector's salt: exact same bytes.
      const { released } = await decryptPieces(test, fastest, Number.MAX_SAFE_INTEGER);
      const encryptor = await EnvelopeEncryptor.create({
        key: fromHex(test.key),
        context: fromHex(test.ctx),
        salt,
        aead: fastest,
      });
      const out = [encryptor.header()];
      for (const part of released) out.push(...(await encryptor.update(part)));
      out.push(await encryptor.finish());
      assert.equal(await sha512(out), await sha512([ct]), `#${test.tcId}`);
      assert.ok(test.baseNonce);
      assert.equal(toHex(chunkNonce(fromHex(test.baseNonce), 0)), test.baseNonce);
    }
  });

  it('chunk size is 16 KiB', () => {
    assert.equal(CHUNK_SIZE, 16384);
  });
});
