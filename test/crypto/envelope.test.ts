/** Envelope boundaries, streaming granularity and every kind of tampering. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { AeadFactory } from '../../src/crypto/aead.js';
import { webCryptoAes256Gcm } from '../../src/crypto/aead.js';
import {
  CHUNK_SIZE,
  EnvelopeDecryptor,
  EnvelopeEncryptor,
  generateContentKey,
  HEADER_SIZE,
  plaintextLength,
  SEALED_CHUNK_SIZE,
  sealedLength,
} from '../../src/crypto/envelope.js';
import {
  openStream,
  openTransform,
  sealStream,
  sealTransform,
} from '../../src/crypto/envelope-stream.js';
import { nobleSha256, sha256Digest } from '../../src/crypto/hash.js';
import { envelopeContext } from '../../src/crypto/manifest.js';
import { buf, randomBytes } from '../../src/crypto/webcrypto.js';
import { BACKENDS } from '../support/backends.js';
import { concatBytes, equalBytes } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { numRuns } from '../properties.js';

const context = envelopeContext(new Uint8Array(16).fill(7));
/** The fastest backend here: OpenSSL in Node, WebCrypto in a browser. */
const fastest = BACKENDS[BACKENDS.length - 1]?.crypto ?? assert.fail('no backend');
const fastAead = fastest.aead;

async function seal(
  plaintext: Uint8Array,
  key: Uint8Array,
  step = plaintext.length || 1,
  aead: AeadFactory = fastAead,
) {
  const encryptor = await EnvelopeEncryptor.create({ key, context, aead });
  const out = [encryptor.header()];
  for (let i = 0; i < plaintext.length; i += step)
    out.push(...(await encryptor.update(plaintext.subarray(i, i + step))));
  out.push(await encryptor.finish());
  return concatBytes(...out);
}

async function open(
  ciphertext: Uint8Array,
  key: Uint8Array,
  step = ciphertext.length || 1,
  aead: AeadFactory = fastAead,
  ctx = context,
) {
  const decryptor = new EnvelopeDecryptor({ key, context: ctx, aead });
  const out: Uint8Array[] = [];
  for (let i = 0; i < ciphertext.length; i += step)
    out.push(...(await decryptor.update(ciphertext.subarray(i, i + step))));
  out.push(...(await decryptor.finish()));
  return concatBytes(...out);
}

async function assertTampered(ciphertext: Uint8Array, key: Uint8Array, ctx = context) {
  await assert.rejects(open(ciphertext, key, undefined, fastAead, ctx), (e) =>
    isSispError(e, 'E_TAMPERED'),
  );
}

describe('envelope sizes', () => {
  const sizes = [
    0,
    1,
    CHUNK_SIZE - 1,
    CHUNK_SIZE,
    CHUNK_SIZE + 1,
    2 * CHUNK_SIZE,
    10 * 1024 * 1024,
  ];
  for (const size of sizes) {
    it(`${size} bytes round trip, whole and in odd pieces; length formula holds`, async () => {
      const key = generateContentKey();
      const plaintext = randomBytes(size);
      const sealed = await seal(plaintext, key);
      assert.equal(sealed.length, sealedLength(size));
      assert.equal(plaintextLength(sealed.length), size);
      assert.ok(equalBytes(await open(sealed, key), plaintext));
      // Odd piece sizes on both sides, and the same bytes whatever the piece size (salt aside).
      const step = size > 1 << 20 ? 65_537 : 4097;
      assert.ok(equalBytes(await open(await seal(plaintext, key, step), key, step + 2), plaintext));
    });
  }

  for (const size of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1]) {
    it(`${size} bytes fed byte by byte to both sides (WebCrypto backend)`, async () => {
      const key = generateContentKey();
      const plaintext = randomBytes(size);
      const sealed = await seal(plaintext, key, 1, webCryptoAes256Gcm);
      assert.ok(equalBytes(await open(sealed, key, 1, webCryptoAes256Gcm), plaintext));
    });
  }

  it('10 MiB fed byte by byte to the encryptor gives the same envelope as fed whole', async () => {
    const key = generateContentKey();
    const salt = randomBytes(24);
    const plaintext = randomBytes(10 * 1024 * 1024);
    const digest = async (feed: (encryptor: EnvelopeEncryptor) => Promise<Uint8Array[]>) => {
      const encryptor = await EnvelopeEncryptor.create({ key, context, salt, aead: fastAead });
      const hash = fastest.sha256();
      hash.update(encryptor.header());
      for (const piece of await feed(encryptor)) hash.update(piece);
      hash.update(await encryptor.finish());
      return hash.digest();
    };
    const whole = await digest((encryptor) => encryptor.update(plaintext));
    const byteByByte = await digest(async (encryptor) => {
      const out: Uint8Array[] = [];
      for (let i = 0; i < plaintext.length; i++)
        out.push(...(await encryptor.update(plaintext.subarray(i, i + 1))));
      return out;
    });
    assert.deepEqual(byteByByte, whole);
  });

  it('10 MiB fed byte by byte to the decryptor releases the same bytes', async () => {
    const key = generateContentKey();
    const plaintext = randomBytes(10 * 1024 * 1024);
    const sealed = await seal(plaintext, key);
    const decryptor = new EnvelopeDecryptor({ key, context, aead: fastAead });
    const hashIn = await sha256Digest(plaintext);
    const hash = fastest.sha256();
    const one = new Uint8Array(1);
    for (let i = 0; i < sealed.length; i++) {
      one[0] = sealed[i] ?? 0;
      for (const piece of await decryptor.update(one)) hash.update(piece);
    }
    for (const piece of await decryptor.finish()) hash.update(piece);
    assert.deepEqual(hash.digest(), hashIn);
  });

  it('lengths that no plaintext maps to are recognised', () => {
    assert.equal(plaintextLength(HEADER_SIZE + 15), null);
    assert.equal(plaintextLength(HEADER_SIZE + SEALED_CHUNK_SIZE), null);
    assert.equal(plaintextLength(HEADER_SIZE + SEALED_CHUNK_SIZE + 15), null);
    assert.equal(plaintextLength(HEADER_SIZE + 16), 0);
  });
});

describe('envelope tampering', () => {
  const key = generateContentKey();
  const plaintext = randomBytes(3 * CHUNK_SIZE + 100);
  let sealed: Uint8Array;
  const chunk = (i: number) =>
    sealed.subarray(HEADER_SIZE + i * SEALED_CHUNK_SIZE, HEADER_SIZE + (i + 1) * SEALED_CHUNK_SIZE);
  const header = () => sealed.subarray(0, HEADER_SIZE);
  const last = () => sealed.subarray(HEADER_SIZE + 3 * SEALED_CHUNK_SIZE);

  it('setup', async () => {
    sealed = await seal(plaintext, key);
    assert.equal(sealed.length, HEADER_SIZE + 3 * SEALED_CHUNK_SIZE + 116);
  });

  it('any flipped bit, in salt, commitment, chunk bodies and tags, is refused', async () => {
    const positions = [
      0,
      23,
      24,
      55,
      HEADER_SIZE,
      HEADER_SIZE + CHUNK_SIZE + 3,
      HEADER_SIZE + SEALED_CHUNK_SIZE - 1,
    ];
    positions.push(
      HEADER_SIZE + SEALED_CHUNK_SIZE * 2 + 500,
      sealed.length - 17,
      sealed.length - 1,
    );
    for (const position of positions) {
      for (const bit of [0, 7]) {
        const bad = sealed.slice();
        bad[position] = (bad[position] ?? 0) ^ (1 << bit);
        await assertTampered(bad, key);
      }
    }
  });

  it('property: a random flipped bit anywhere is refused', async () => {
    const small = await seal(randomBytes(CHUNK_SIZE + 10), key);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: small.length * 8 - 1 }), async (bitIndex) => {
        const bad = small.slice();
        bad[bitIndex >> 3] = (bad[bitIndex >> 3] ?? 0) ^ (1 << (bitIndex & 7));
        await assertTampered(bad, key);
      }),
      { numRuns: numRuns(50) },
    );
  });

  it('dropped, swapped and duplicated chunks are refused', async () => {
    await assertTampered(concatBytes(header(), chunk(0), chunk(2), last()), key);
    await assertTampered(concatBytes(header(), chunk(1), chunk(0), chunk(2), last()), key);
    await assertTampered(concatBytes(header(), chunk(0), chunk(0), chunk(2), last()), key);
    await assertTampered(
      concatBytes(header(), chunk(0), chunk(1), chunk(2), chunk(2), last()),
      key,
    );
    await assertTampered(concatBytes(header(), chunk(0), chunk(1), chunk(2), last(), last()), key);
  });

  it('truncation at every chunk boundary and mid-chunk is refused', async () => {
    for (const cut of [
      0,
      10,
      HEADER_SIZE,
      HEADER_SIZE + 1,
      HEADER_SIZE + SEALED_CHUNK_SIZE,
      HEADER_SIZE + 2 * SEALED_CHUNK_SIZE,
    ]) {
      await assertTampered(sealed.subarray(0, cut), key);
    }
    await assertTampered(sealed.subarray(0, HEADER_SIZE + 3 * SEALED_CHUNK_SIZE), key);
    await assertTampered(sealed.subarray(0, HEADER_SIZE + 1000), key);
    await assertTampered(sealed.subarray(0, sealed.length - 1), key);
    await assertTampered(sealed.subarray(0, sealed.length - 16), key);
  });

  it('trailing bytes are refused', async () => {
    await assertTampered(concatBytes(sealed, new Uint8Array(1)), key);
    await assertTampered(concatBytes(sealed, randomBytes(SEALED_CHUNK_SIZE)), key);
  });

  it('a wrong key or another image id (context) is refused at the commitment', async () => {
    await assertTampered(sealed, generateContentKey());
    await assertTampered(sealed, key, envelopeContext(new Uint8Array(16).fill(8)));
  });

  it('a wrong-size key is E_BAD_KEY', () => {
    assert.throws(
      () => new EnvelopeDecryptor({ key: new Uint8Array(31), context }),
      (e) => isSispError(e, 'E_BAD_KEY'),
    );
  });
});

describe('envelope streams', () => {
  it('sealStream/openStream and the web TransformStreams agree', async () => {
    const key = generateContentKey();
    const plaintext = randomBytes(5 * CHUNK_SIZE + 3);
    const pieces = function* () {
      for (let i = 0; i < plaintext.length; i += 9999) yield plaintext.subarray(i, i + 9999);
    };
    const sealedParts: Uint8Array[] = [];
    for await (const part of sealStream(pieces(), { key, context })) sealedParts.push(part);
    const opened: Uint8Array[] = [];
    for await (const part of openStream(sealedParts, { key, context })) opened.push(part);
    assert.ok(equalBytes(concatBytes(...opened), plaintext));

    const roundTrip = new Blob([buf(plaintext)])
      .stream()
      .pipeThrough(sealTransform({ key, context }))
      .pipeThrough(openTransform({ key, context }));
    const collected = new Uint8Array(await new Response(roundTrip).arrayBuffer());
    assert.ok(equalBytes(collected, plaintext));
  });

  it('a web stream over a tampered envelope errors', async () => {
    const key = generateContentKey();
    const sealed = await seal(randomBytes(100), key);
    sealed[HEADER_SIZE + 3] = (sealed[HEADER_SIZE + 3] ?? 0) ^ 1;
    const stream = new Blob([buf(sealed)]).stream().pipeThrough(openTransform({ key, context }));
    await assert.rejects(new Response(stream).arrayBuffer());
  });

  it('property: any plaintext and any split round-trips', async () => {
    const key = generateContentKey();
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3 * CHUNK_SIZE }),
        fc.integer({ min: 1, max: 20_000 }),
        async (plaintext, step) => {
          const sealed = await seal(plaintext, key, step);
          assert.ok(equalBytes(await open(sealed, key, step), plaintext));
        },
      ),
      { numRuns: numRuns(40) },
    );
  });
});

describe('incremental SHA-256 for browsers', () => {
  it('nobleSha256 in pieces equals the one-shot digest', async () => {
    const data = randomBytes(100_000);
    const hasher = nobleSha256();
    for (let i = 0; i < data.length; i += 7777) hasher.update(data.subarray(i, i + 7777));
    assert.deepEqual(hasher.digest(), await sha256Digest(data));
  });
});
