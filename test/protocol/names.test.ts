import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { isSispError } from '../../src/protocol/errors.js';
import {
  imageNameKey,
  isCanonicalImageName,
  normalizeImageName,
  normalizeUsername,
} from '../../src/protocol/names.js';

const refused = (name: string, why: RegExp): void => {
  assert.throws(
    () => normalizeImageName(name),
    (e: unknown) => isSispError(e, 'E_INVALID_NAME') && why.test(e.message),
    JSON.stringify(name),
  );
  assert.equal(isCanonicalImageName(name), false, JSON.stringify(name));
};

describe('image names (Unicode TS 39)', () => {
  it('accepts names in one script, and the mixes one language writes', () => {
    for (const name of [
      'sunset',
      'Sunset 2.jpg',
      'hello wörld',
      'Москва',
      'Ελλάδα',
      '日本の写真',
      '東京 Tokyo',
      '서울 사진',
      '北京 Beijing 2026',
    ]) {
      assert.equal(normalizeImageName(name), name);
      assert.equal(isCanonicalImageName(name), true, name);
    }
  });

  it('refuses look-alikes: scripts mixed (a Cyrillic е in a Latin word)', () => {
    refused('sunsеt', /mix scripts/);
    refused('раураl', /mix scripts/);
    refused('Ελλάδα athens', /mix scripts/);
  });

  it('refuses names that render blank or hide characters', () => {
    refused('\u3164', /invisible/);
    refused('a\u115f\u1160b', /invisible/);
    refused('a\u00adb', /./); // soft hyphen: default-ignorable
    refused('a\u200bb', /./);
  });

  it('refuses compatibility characters: styled letters, fullwidth, ligatures', () => {
    refused('𝐬𝐮𝐧𝐬𝐞𝐭', /compatibility/);
    refused('ＳＵＮ', /compatibility/);
    refused('ﬁle', /compatibility/);
  });

  it('keeps the rules it had: no dots first, no separators, no surrounding spaces, 64 at most', () => {
    refused('.hidden', /1 to 64/);
    refused('a/b', /1 to 64/);
    refused(' x', /1 to 64/);
    refused('x'.repeat(65), /1 to 64/);
    assert.equal(normalizeImageName('x'.repeat(64)).length, 64);
  });

  it('NFC on input; one key per name whatever its case', () => {
    assert.equal(normalizeImageName('cafe\u0301'), 'caf\u00e9');
    assert.equal(imageNameKey('Sunset'), imageNameKey('SUNSET'));
    assert.equal(imageNameKey('Straße'), imageNameKey('STRAßE'));
    assert.notEqual(imageNameKey('sunset'), imageNameKey('sunsets'));
  });
});

describe('usernames', () => {
  it('are ASCII, case-folded, 3 to 32 characters', () => {
    assert.equal(normalizeUsername('Alice'), 'alice');
    for (const bad of ['аlice', 'al', 'a'.repeat(33), '1abc', 'a b'])
      assert.throws(
        () => normalizeUsername(bad),
        (e: unknown) => isSispError(e, 'E_INVALID_NAME'),
      );
  });
});
