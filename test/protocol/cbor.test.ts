import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeStrict, encodeDeterministic } from '../../src/protocol/cbor.js';
import { concatBytes, fromHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { numRuns } from '../properties.js';

/** Hex with spaces between items, for reading. */
const bytes = (spaced: string): Uint8Array => fromHex(spaced.replace(/ /g, ''));
const decoded = (spaced: string): unknown => decodeStrict(bytes(spaced));
const refused = (spaced: string): void => {
  assert.throws(
    () => decoded(spaced),
    (e) => isSispError(e, 'E_BAD_FRAME'),
    spaced,
  );
};

function bytewiseBefore(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0);
  return a.length < b.length;
}

describe('strict CBOR: one encoding per value', () => {
  it('map keys in deterministic order: by encoded bytes, so shorter text first', () => {
    // {"b": 1, "aa": 2}: "b" (61 62) sorts before "aa" (62 61 61); each pair, swapped, is refused.
    assert.deepEqual(decoded('a2 6162 01 626161 02'), { b: 1, aa: 2 });
    refused('a2 626161 02 6162 01');
    // Same length: plain byte order.
    assert.deepEqual(decoded('a2 6161 01 6162 02'), { a: 1, b: 2 });
    refused('a2 6162 01 6161 02');
    // A key equal to the one before it is not after it.
    refused('a2 6161 01 6161 02');
  });

  it('each map is ordered on its own; a nested map restarts the order', () => {
    // {"a": {"b": 1, "c": 2}, "b": {"a": 3}}
    assert.deepEqual(decoded('a2 6161 a2 6162 01 6163 02 6162 a1 6161 03'), {
      a: { b: 1, c: 2 },
      b: { a: 3 },
    });
    // The inner map out of order.
    refused('a2 6161 a2 6163 02 6162 01 6162 a1 6161 03');
    // The outer map out of order, though each inner one is fine.
    refused('a2 6162 a1 6161 03 6161 a2 6162 01 6163 02');
  });

  it('the empty text string is text (cborg gives it no bytes to check)', () => {
    assert.equal(decoded('60'), '');
    assert.deepEqual(decoded('a2 60 01 6161 02'), { '': 1, a: 2 });
  });

  it('keys that are not text are refused: integers, byte strings, arrays', () => {
    refused('a1 01 02'); // {1: 2}
    refused('a1 4161 02'); // {h'61': 2}
    refused('a1 81 6161 02'); // {["a"]: 2}
  });

  it('an array of maps: every map checked, nothing else in the array is a key', () => {
    assert.deepEqual(decoded('83 a1 6161 01 6162 a1 6162 02'), [{ a: 1 }, 'b', { b: 2 }]);
  });

  it('what decodes re-encodes to the same bytes; any other key order is refused', () => {
    const text = (maxLength?: number) =>
      fc.string(maxLength === undefined ? { unit: 'grapheme' } : { unit: 'grapheme', maxLength });
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: 'small' },
        fc.integer(),
        text(),
        fc.boolean(),
        fc.uint8Array({ maxLength: 8 }),
        fc.array(tie('node'), { maxLength: 4 }),
        fc.dictionary(text(6), tie('node'), { maxKeys: 5 }),
      ),
    })).node;
    fc.assert(
      fc.property(fc.dictionary(text(6), value, { minKeys: 2, maxKeys: 6 }), (map) => {
        const canonical = encodeDeterministic(map);
        assert.deepEqual(encodeDeterministic(decodeStrict(canonical)), canonical);
        // The same entries, encoded in reverse of the deterministic order.
        const entries = Object.entries(map)
          .map(([key, item]) => [encodeDeterministic(key), encodeDeterministic(item)] as const)
          .sort(([x], [y]) => (bytewiseBefore(x, y) ? 1 : -1));
        const header = canonical.subarray(0, 1); // fewer than 24 entries: a one-byte header
        const reversed = concatBytes(header, ...entries.flat());
        assert.throws(
          () => decodeStrict(reversed),
          (e) => isSispError(e, 'E_BAD_FRAME'),
        );
      }),
      { numRuns: numRuns(200) },
    );
  });
});
