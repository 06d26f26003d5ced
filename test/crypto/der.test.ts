import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { derTlv, ecdsaDerToRaw, ecdsaRawToDer, readSingle } from '../../src/crypto/der.js';
import { toHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';
import { numRuns } from '../properties.js';

describe('ECDSA signatures between r || s and DER', () => {
  it('boundaries: zeros, leading zero bytes, the high bit, all ones', () => {
    const cases: [string, string][] = [
      // r = 1, s = 1: one octet each.
      ['00'.repeat(31) + '01' + '00'.repeat(31) + '01', '3006020101020101'],
      // The high bit set needs a sign octet.
      [
        '80' + '00'.repeat(31) + '7f' + 'ff'.repeat(31),
        `3045022100${'80' + '00'.repeat(31)}0220${'7f' + 'ff'.repeat(31)}`,
      ],
      // A zero half still encodes as one zero octet (DER's minimal zero).
      ['00'.repeat(32) + 'ff'.repeat(32), `3026020100022100${'ff'.repeat(32)}`],
    ];
    for (const [raw, der] of cases) {
      const bytes = Uint8Array.from(raw.match(/../g) ?? [], (h) => parseInt(h, 16));
      assert.equal(toHex(ecdsaRawToDer(bytes)), der);
    }
  });

  it('refuses an odd or empty raw signature', () => {
    for (const length of [0, 1, 63, 121])
      assert.throws(
        () => ecdsaRawToDer(new Uint8Array(length)),
        (e) => isSispError(e, 'E_CERTIFICATE'),
      );
  });

  it('round trip: every r || s comes back from its DER', () => {
    const half = fc.oneof(
      fc.uint8Array({ minLength: 32, maxLength: 32 }),
      // Leading zero octets, which DER drops and the raw form keeps.
      fc
        .tuple(fc.integer({ min: 1, max: 32 }), fc.uint8Array({ minLength: 32, maxLength: 32 }))
        .map(([zeros, bytes]) => bytes.fill(0, 0, zeros)),
    );
    fc.assert(
      fc.property(half, half, (r, s) => {
        const raw = new Uint8Array(64);
        raw.set(r, 0);
        raw.set(s, 32);
        assert.deepEqual(ecdsaDerToRaw(ecdsaRawToDer(raw)), raw);
      }),
      { numRuns: numRuns(200) },
    );
  });
});

describe('DER TLVs as written', () => {
  it('lengths at every form boundary: short, then one, two and three length octets', () => {
    const cases: [number, string][] = [
      [0, '0400'],
      [0x7f, '047f'],
      [0x80, '048180'],
      [0xff, '0481ff'],
      [0x100, '04820100'],
      [0xffff, '0482ffff'],
      [0x10000, '0483010000'],
    ];
    for (const [length, header] of cases) {
      const tlv = derTlv(0x04, new Uint8Array(length));
      assert.equal(toHex(tlv.subarray(0, header.length / 2)), header, `length ${length}`);
      // The strict reader takes it back whole: definite, minimal, nothing trailing.
      const read = readSingle(tlv);
      assert.equal(read.end - read.contentStart, length);
    }
  });

  it('the content is the parts in order', () => {
    assert.equal(
      toHex(derTlv(0x30, Uint8Array.of(1, 2), new Uint8Array(0), Uint8Array.of(3))),
      '3003010203',
    );
  });
});
