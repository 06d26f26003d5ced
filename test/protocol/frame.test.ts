import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeStrict, encodeDeterministic } from '../../src/protocol/cbor.js';
import { chunkFrameHeader, decodeFrame, encodeFrame } from '../../src/protocol/frame.js';
import { MESSAGE_TYPES, type MessageType } from '../../src/protocol/messages.js';
import { numRuns } from '../properties.js';
import { heapUsed } from '../support/heap.js';
import { SAMPLES } from './samples.js';

function sampleFrame(type: MessageType, id = 7): Uint8Array {
  return encodeFrame(type, type === 'event.new_image' ? 0 : id, SAMPLES[type] as never);
}

describe('frames', () => {
  for (const type of MESSAGE_TYPES) {
    it(`${type} round-trips`, () => {
      const bytes = sampleFrame(type);
      const result = decodeFrame(bytes);
      if (!result.ok) assert.fail(result.error.message);
      assert.equal(result.message.type, type);
      assert.deepEqual(result.message.body, SAMPLES[type]);
      // Decoding then encoding gives the same bytes: one encoding per message.
      assert.deepEqual(
        encodeFrame(result.message.type, result.message.id, result.message.body as never),
        bytes,
      );
    });
  }

  it('every message type has a sample', () => {
    assert.deepEqual(Object.keys(SAMPLES).sort(), [...MESSAGE_TYPES].sort());
  });

  it('refuses an unknown type, a wrong version, a bad id, extra fields and wrong shapes with typed errors', () => {
    const cases: [unknown, string][] = [
      [[2, 'no.such', 1, {}], 'E_BAD_REQUEST'],
      [[3, 'list', 1, {}], 'E_VERSION'],
      [[1, 'list', 1, {}], 'E_VERSION'],
      [[2, 'list', -1, {}], 'E_BAD_FRAME'],
      [[2, 'list', 2 ** 32, {}], 'E_BAD_FRAME'],
      [[2, 'list', 1, { extra: true }], 'E_BAD_REQUEST'],
      [[2, 'list', 1], 'E_BAD_FRAME'],
      [[2, 'list', 1, {}, 0], 'E_BAD_FRAME'],
      [{ v: 2 }, 'E_BAD_FRAME'],
      [[2, 'auth', 1, { username: 'Alice', signature: new Uint8Array(64) }], 'E_INVALID_NAME'],
      [
        [2, 'auth', 1, { username: 'a'.repeat(40), signature: new Uint8Array(64) }],
        'E_INVALID_NAME',
      ],
      [[2, 'auth', 1, { username: 7, signature: new Uint8Array(64) }], 'E_BAD_REQUEST'],
      [[2, 'auth', 1, { username: 'alice', signature: new Uint8Array(63) }], 'E_BAD_REQUEST'],
      [[2, 'post.chunk', 1, { data: new Uint8Array(0) }], 'E_BAD_REQUEST'],
      [[2, 'download', 1, { credit: 1, owner: 'alice', name: '../x' }], 'E_INVALID_NAME'],
      [[2, 'download', 1, { credit: 1, owner: 'alice', name: '.hidden' }], 'E_INVALID_NAME'],
      // A download names its image one way only: by id, or by owner and name.
      [
        [2, 'download', 1, { credit: 1, image: new Uint8Array(16), owner: 'alice', name: 'x' }],
        'E_BAD_REQUEST',
      ],
      [[2, 'download', 1, { credit: 1, owner: 'alice' }], 'E_BAD_REQUEST'],
      [[2, 'download', 1, { credit: 1, name: 'x' }], 'E_BAD_REQUEST'],
      [[2, 'download', 1, { credit: 1 }], 'E_BAD_REQUEST'],
      [[2, 'credit', 1, { bytes: 0 }], 'E_BAD_REQUEST'],
      [[2, 'error', 0, { code: 'E_NOPE', message: 'x' }], 'E_BAD_REQUEST'],
    ];
    for (const [value, code] of cases) {
      const result = decodeFrame(encodeDeterministic(value));
      if (result.ok) assert.fail(`accepted a ${result.message.type} frame`);
      assert.equal(result.error.code, code);
    }
    // The request id is recovered when readable, so the error can answer it.
    const result = decodeFrame(encodeDeterministic([2, 'list', 41, { extra: 1 }]));
    assert.equal(result.ok ? -1 : result.id, 41);
  });

  it('refuses a frame whose map keys are not in canonical order (one encoding per frame)', () => {
    const canonical = encodeFrame('auth', 2, { username: 'alice', signature: new Uint8Array(64) });
    // The same map with its two keys swapped: a2, then "signature" before "username".
    const body = canonical.subarray(canonical.indexOf(0xa2) + 1);
    const usernameKey = body.subarray(0, 9 + 6); // 68 "username" 65 "alice"
    const signatureKey = body.subarray(usernameKey.length);
    const swapped = new Uint8Array(canonical.length);
    const head = canonical.subarray(0, canonical.indexOf(0xa2) + 1);
    swapped.set(head, 0);
    swapped.set(signatureKey, head.length);
    swapped.set(usernameKey, head.length + signatureKey.length);
    assert.equal(decodeFrame(canonical).ok, true);
    const result = decodeFrame(swapped);
    assert.equal(result.ok ? '' : result.error.code, 'E_BAD_FRAME');
  });

  it('refuses frames over the size limit before decoding', () => {
    const big = encodeFrame('post.chunk', 1, { data: new Uint8Array(1 << 20) });
    const result = decodeFrame(big, { maxFrame: 1 << 19, maxDepth: 8 });
    assert.equal(result.ok ? '' : result.error.code, 'E_TOO_LARGE');
  });
});

describe('strict CBOR', () => {
  const refuse = (name: string, bytes: Uint8Array): void => {
    it(`refuses ${name}`, () => {
      const before = heapUsed();
      assert.throws(
        () => decodeStrict(bytes),
        (e) => (e as { code?: string }).code === 'E_BAD_FRAME',
      );
      const result = decodeFrame(bytes);
      assert.equal(result.ok, false);
      // "Little memory": nothing sized by the declared length was allocated.
      assert.ok(heapUsed() - before < 64 * 1024 * 1024);
    });
  };
  refuse('duplicate map keys', Uint8Array.of(0xa2, 0x61, 0x61, 0x01, 0x61, 0x61, 0x02));
  refuse('an indefinite-length array', Uint8Array.of(0x9f, 0x01, 0xff));
  refuse('an indefinite-length byte string', Uint8Array.of(0x5f, 0x41, 0x00, 0xff));
  refuse('an indefinite-length map', Uint8Array.of(0xbf, 0x61, 0x61, 0x01, 0xff));
  refuse('a non-shortest integer', Uint8Array.of(0x18, 0x01));
  refuse('a non-shortest length', Uint8Array.of(0x59, 0x00, 0x01, 0x00));
  refuse('trailing bytes', Uint8Array.of(0x01, 0x01));
  refuse('invalid UTF-8', Uint8Array.of(0x62, 0xc3, 0x28));
  refuse('an overlong UTF-8 encoding', Uint8Array.of(0x62, 0xc0, 0xaf));
  refuse('a UTF-16 surrogate in UTF-8', Uint8Array.of(0x63, 0xed, 0xa0, 0x80));
  refuse(
    'nesting 10,000 deep',
    Uint8Array.from({ length: 10_001 }, (_, i) => (i < 10_000 ? 0x81 : 0x01)),
  );
  refuse(
    'maps nesting 10,000 deep',
    Uint8Array.from({ length: 20_001 }, (_, i) => (i % 2 === 0 ? 0xa1 : 0x60)).subarray(0, 20_000),
  );
  refuse('a byte string declaring 2^63 bytes', Uint8Array.of(0x5b, 0x80, 0, 0, 0, 0, 0, 0, 0));
  refuse('an array declaring 2^63 items', Uint8Array.of(0x9b, 0x80, 0, 0, 0, 0, 0, 0, 0));
  refuse('an array declaring 2^32 items', Uint8Array.of(0x9b, 0, 0, 0, 1, 0, 0, 0, 0));
  refuse('a map declaring 2^53 entries', Uint8Array.of(0xbb, 0, 0x20, 0, 0, 0, 0, 0, 0));
  refuse('a text string declaring 4 GiB', Uint8Array.of(0x7a, 0xff, 0xff, 0xff, 0xff));
  refuse('a tag', Uint8Array.of(0xc1, 0x01));
  refuse('a float', Uint8Array.of(0xf9, 0x3c, 0x00));
  refuse('undefined', Uint8Array.of(0xf7));
  refuse('a lone break', Uint8Array.of(0xff));
  refuse('a 64-bit integer beyond 2^53', Uint8Array.of(0x1b, 0x00, 0x20, 0, 0, 0, 0, 0, 0));
  refuse('empty input', new Uint8Array(0));
  refuse('a truncated map', Uint8Array.of(0xa2, 0x61, 0x61));

  it('decoded byte strings are copies, never views into the input', () => {
    // A subclass, as Node's Buffer is: its subarray() would be a view of the same memory.
    class Subclass extends Uint8Array {}
    const input = new Subclass(encodeDeterministic({ d: new Uint8Array([1, 2, 3]) }));
    const value = decodeStrict(input) as { d: Uint8Array };
    input.fill(0);
    assert.deepEqual([...value.d], [1, 2, 3]);
    assert.equal(Object.getPrototypeOf(value.d), Uint8Array.prototype);
  });
});

describe('frame properties', () => {
  const samples = MESSAGE_TYPES.map((type) => sampleFrame(type));

  it('decoding arbitrary bytes never throws', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), (bytes) => {
        const result = decodeFrame(bytes);
        assert.equal(typeof result.ok, 'boolean');
      }),
      { numRuns: numRuns(2000) },
    );
  });

  it('decoding mutated valid frames never throws, and anything accepted re-encodes to itself', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...samples),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        (frame, edits, cut) => {
          const mutated = frame.slice(
            0,
            cut === undefined ? frame.length : cut % (frame.length + 1),
          );
          for (const [at, byte] of edits)
            if (mutated.length > 0) mutated[at % mutated.length] = byte;
          const result = decodeFrame(mutated);
          if (result.ok) {
            assert.deepEqual(
              encodeFrame(result.message.type, result.message.id, result.message.body as never),
              mutated,
            );
          }
        },
      ),
      { numRuns: numRuns(3000) },
    );
  });

  it('encode/decode is the identity on generated list.result bodies', () => {
    const name = fc.stringMatching(/^[a-z][a-z0-9_-]{2,31}$/);
    const entry = fc
      .record({
        manifest: fc.uint8Array({ minLength: 1, maxLength: 300 }),
        signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
      })
      .map((value) => ({ ...value })); // fast-check records have null prototypes
    const owner = fc
      .record({ username: name, certificate: fc.uint8Array({ minLength: 1, maxLength: 300 }) })
      .map((value) => ({ ...value }));
    fc.assert(
      fc.property(
        fc.array(entry, { maxLength: 20 }),
        fc.array(owner, { maxLength: 5 }),
        fc.option(fc.uint8Array({ minLength: 1, maxLength: 64 }), { nil: undefined }),
        fc.nat({ max: 0xffff_ffff }),
        (images, certificates, next, id) => {
          const body =
            next === undefined ? { images, certificates } : { images, certificates, next };
          const bytes = encodeFrame('list.result', id, body);
          const result = decodeFrame(bytes);
          assert.ok(result.ok);
          assert.deepEqual(result.message.body, body);
          assert.equal(result.message.id, id);
        },
      ),
      { numRuns: numRuns(300) },
    );
  });
});

describe('chunk frame fast path', () => {
  it('chunkFrameHeader + data is byte for byte what encodeFrame produces, and decodes the same', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('post.chunk' as const, 'download.chunk' as const),
        fc.integer({ min: 1, max: 0xffff_ffff }),
        fc.uint8Array({ minLength: 1, maxLength: 70_000 }),
        (type, id, data) => {
          const bytes = new Uint8Array([...chunkFrameHeader(type, id, data.length), ...data]);
          assert.deepEqual(bytes, encodeFrame(type, id, { data }));
          const result = decodeFrame(bytes);
          if (!result.ok) assert.fail(result.error.message);
          assert.equal(result.message.type, type);
          assert.equal(result.message.id, id);
          assert.deepEqual(new Uint8Array(result.message.body.data), data);
        },
      ),
      { numRuns: numRuns(300) },
    );
  });

  it('non-canonical chunk frames are not taken by the fast path and are refused', () => {
    const data = new Uint8Array(30).fill(7);
    const canonical = encodeFrame('post.chunk', 5, { data });
    // id 5 encoded in two bytes (0x18 0x05) instead of one.
    const index = canonical.indexOf(0x05, 2);
    const longId = new Uint8Array([
      ...canonical.subarray(0, index),
      0x18,
      0x05,
      ...canonical.subarray(index + 1),
    ]);
    const result = decodeFrame(longId);
    assert.equal(result.ok ? 'accepted' : result.error.code, 'E_BAD_FRAME');
    // A trailing byte after the data.
    const trailing = decodeFrame(new Uint8Array([...canonical, 0]));
    assert.equal(trailing.ok ? 'accepted' : trailing.error.code, 'E_BAD_FRAME');
    // Empty data and oversized data are refused by the schema, not slipped through.
    const empty = decodeFrame(
      encodeDeterministic([2, 'post.chunk', 5, { data: new Uint8Array(0) }]),
    );
    assert.equal(empty.ok ? 'accepted' : empty.error.code, 'E_BAD_REQUEST');
    const big = decodeFrame(
      encodeDeterministic([2, 'post.chunk', 5, { data: new Uint8Array((1 << 20) + 1) }]),
      {
        maxFrame: 4 << 20,
        maxDepth: 8,
      },
    );
    assert.equal(big.ok ? 'accepted' : big.error.code, 'E_BAD_REQUEST');
  });
});
