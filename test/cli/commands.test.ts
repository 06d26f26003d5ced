import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { describeFailure } from '../../src/cli/commands.js';
import { isUnsafe } from '../../src/cli/terminal.js';
import { sispError } from '../../src/protocol/errors.js';

describe('describeFailure: the one line a failed command prints', () => {
  it('our errors by their message, file errors by path and code, anything else plainly', () => {
    assert.equal(describeFailure(sispError('E_NOT_FOUND', 'no such image')), 'no such image');
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x/y.jpg'"), {
      code: 'ENOENT',
      path: '/x/y.jpg',
    });
    assert.equal(describeFailure(missing), 'cannot access /x/y.jpg (ENOENT)');
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
