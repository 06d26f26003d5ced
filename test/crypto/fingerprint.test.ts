import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { keyFingerprint, readableFingerprint } from '../../src/crypto/fingerprint.js';

describe('fingerprints', () => {
  it('are eight groups of five digits and change with either key', async () => {
    const a = new Uint8Array(32).fill(1);
    const b = new Uint8Array(32).fill(2);
    const text = readableFingerprint(await keyFingerprint(a, b));
    assert.match(text, /^(\d{5} ){7}\d{5}$/);
    assert.notEqual(readableFingerprint(await keyFingerprint(b, b)), text);
    assert.notEqual(readableFingerprint(await keyFingerprint(a, a)), text);
  });

  it('is a fixed function of the digest (vector)', () => {
    const digest = Uint8Array.from({ length: 32 }, (_, i) => i);
    // 0x00010203 = 66051, 0x04050607 = 67438087 -> 38087, ...
    assert.equal(readableFingerprint(digest).split(' ')[0], '66051');
    assert.equal(readableFingerprint(digest).split(' ')[1], '38087');
  });
});
