import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { describeFailure } from '../../src/cli/commands.js';
import { describeError, jsonError, quoteName, quoteReference } from '../../src/cli/output.js';
import { splitWords } from '../../src/cli/prompt-words.js';
import { didYouMean, editDistance, suggest } from '../../src/cli/suggest.js';
import { isUnsafe } from '../../src/cli/terminal.js';
import { isSispError, sispError } from '../../src/protocol/errors.js';

describe('describeFailure: the one line a failed command prints', () => {
  it('our errors by their message, file errors by path and code, anything else plainly', () => {
    assert.equal(describeFailure(sispError('E_NOT_FOUND', 'no such image')), 'no such image');
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.jpg'"), {
      code: 'ENOENT',
      path: '/x/y.jpg',
    });
    assert.equal(describeFailure(missing), '/x/y.jpg: no such file or directory (ENOENT)');
    const denied = Object.assign(new Error('EACCES'), { code: 'EACCES', path: '/ro/out' });
    assert.equal(describeFailure(denied), '/ro/out: permission denied (EACCES)');
    const full = Object.assign(new Error('ENOSPC'), { code: 'ENOSPC', path: '/d/x.png' });
    assert.equal(describeFailure(full), '/d/x.png: no space left on the device (ENOSPC)');
    assert.deepEqual(describeError(denied), {
      code: 'E_FILE',
      message: '/ro/out: permission denied (EACCES)',
      errno: 'EACCES',
      path: '/ro/out',
    });
    assert.deepEqual(JSON.parse(jsonError(sispError('E_NOT_FOUND', 'no such image'))), {
      version: 1,
      error: { code: 'E_NOT_FOUND', message: 'no such image' },
    });
    // A bug's text can carry internals (paths, keys in a dump): it never reaches the user.
    assert.equal(
      describeFailure(new TypeError('Cannot read properties of undefined (secret 0xdeadbeef)')),
      'unexpected failure',
    );
    assert.equal(describeFailure('thrown string'), 'unexpected failure');
  });
});

describe('text from elsewhere reaches the terminal as text, never as control', () => {
  it('escape sequences, bidi overrides and controls in a server message are made visible', () => {
    const hostile = sispError(
      'E_NOT_FOUND',
      'no \u001b[2J\u001b]0;pwned\u0007 such\u202e image\r\n',
    );
    const shown = describeFailure(hostile);
    for (const char of shown) assert.ok(!isUnsafe(char.codePointAt(0) ?? 0) && char !== '\n');
    assert.match(shown, /\\u\{1b\}\[2J/);
    assert.match(shown, /\\u\{202e\}/);
    assert.match(shown, /\\u\{d\}\\n$/);
  });
});

describe('names in text output: bare when plain, quoted when they would be ambiguous', () => {
  it('quotes spaces, quotes, shell characters and controls, and the prompt reads them back', () => {
    const table: [string, string][] = [
      ['sunset', 'sunset'],
      ['été-2024_v1.2', 'été-2024_v1.2'],
      ['bad name', '"bad name"'],
      ['say "hi"', '"say \\"hi\\""'],
      ['a\\b', '"a\\\\b"'],
      ['tab\there', '"tab\\there"'],
      ['$HOME', '"$HOME"'],
      ['', '""'],
      ['rtl\u202eevil', '"rtl\\u{202e}evil"'],
    ];
    for (const [name, shown] of table) {
      assert.equal(quoteName(name), shown, name);
      assert.deepEqual(splitWords(`DOWNLOAD ${quoteName(name)}`), ['DOWNLOAD', name], name);
    }
    assert.equal(quoteReference('alice', 'bad name'), '"alice/bad name"');
    assert.equal(quoteReference('alice', 'sunset'), 'alice/sunset');
  });

  it('splits prompt lines on whitespace, with single and double quotes, and refuses an open quote', () => {
    assert.deepEqual(splitWords('  post   a  b  '), ['post', 'a', 'b']);
    assert.deepEqual(splitWords(`POST_IMAGE 'beach day' "/tmp/my pics/b.png"`), [
      'POST_IMAGE',
      'beach day',
      '/tmp/my pics/b.png',
    ]);
    assert.deepEqual(splitWords('x""'), ['x']);
    assert.deepEqual(splitWords(''), []);
    assert.throws(
      () => splitWords('DOWNLOAD "open'),
      (e) => isSispError(e, 'E_BAD_REQUEST'),
    );
  });
});

describe('did you mean', () => {
  it('finds transpositions, slips and near misses, and stays quiet for strangers', () => {
    const commands = ['register', 'post', 'download', 'display', 'list', 'watch', 'cert', 'help'];
    assert.equal(editDistance('downlaod', 'download'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.deepEqual(suggest('downlaod', commands), ['download']);
    assert.deepEqual(suggest('lsit', commands), ['list']);
    assert.deepEqual(suggest('DISPLY', commands), ['display']);
    assert.deepEqual(suggest('xyzzy', commands), []);
    assert.equal(didYouMean('pots', commands), '\n(Did you mean post?)');
    assert.equal(didYouMean('zzzzzz', commands), '');
  });
});
