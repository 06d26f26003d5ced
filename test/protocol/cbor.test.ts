import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { decodeStrict, encodeDeterministic } from '../../src/protocol/cbor.js';
import { concatBytes, fromHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { numRuns } from '../properties.js';

const refused = (hex: string): void => {
  assert.throws(
    () => decodeStrict(fromHex(hex)),
    (e) => isSispError(e, 'E_BAD_FRAME'),
    hex,
  );
};

function bytewiseBefore(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < Math.min(a.length, b.length); i++)
    if (a[i] !== b[i]) return (a[i] ?? 0) < (b[i] ?? 0);
  return a.length < b.length;
}

describe('strict CBOR: one encoding per value', () => {
  it('map keys in deterministic order: by encoded bytes, so shorter text first', () => {
    // {"b": 1, "aa": 2}: "b" (61 62) sorts before "aa" (62 61 61).
    assert.deepEqual(decodeStrict(fromHex('a2616201626161 02'.replace(/ /g, ''))), { b: 1, aa: 2 });
    refused('a26261610261620' + '1');
    // Same length: plain byte order.
    assert.deepEqual(decodeStrict(fromHex('a2616101616202')), { a: 1, b: 2 });
    refused('a2616201616102');
    // A key equal to the one before it is not after it.
    refused('a2616101616102');
  });

  it('each map is ordered on its own; a nested map restarts the order', () => {
    // {"a": {"b": 1, "c": 2}, "b": {"a": 3}}
    assert.deepEqual(decodeStrict(fromHex('a26161a2616201616302616 2a1616103'.replace(/ /g, ''))), {
      a: { b: 1, c: 2 },
      b: { a: 3 },
    });
    // The inner map out of order.
    refused('a26161a261630261620161 62a1616103'.replace(/ /g, ''));
    // The outer map out of order, though each inner one is fine.
    refused('a26162a161610361 61a2616201616302'.replace(/ /g, ''));
  });

  it('the empty text string is text (cborg gives it no bytes to check)', () => {
    assert.equal(decodeStrict(fromHex('60')), '');
    assert.deepEqual(decodeStrict(fromHex('a2600161 6102'.replace(/ /g, ''))), { '': 1, a: 2 });
  });

  it('keys that are not text are refused: integers, byte strings, arrays', () => {
    refused('a10102'); // {1: 2}
    refused('a1416102'); // {h'61': 2}
    refused('a1816102'); // {["a"]: 2}
  });

  it('an array of maps: every map checked, nothing else in the array is a key', () => {
    assert.deepEqual(decodeStrict(fromHex('83a16161 01 6162 a1616202'.replace(/ /g, ''))), [
      { a: 1 },
      'b',
      { b: 2 },
    ]);
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
