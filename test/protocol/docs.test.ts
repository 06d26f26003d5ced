/** docs/PROTOCOL.md must match the code: its hex vectors and its error table. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readTestText } from '../support/files.js';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { docVectors } from './doc-vectors.js';

const doc = await readTestText('docs/PROTOCOL.md');

describe('docs/PROTOCOL.md', () => {
  it('every hex vector matches the code byte for byte', async () => {
    const expected = await docVectors();
    const printed = new Map<string, string>();
    for (const match of doc.matchAll(/```hex vector=([\w-]+)\n([\s\S]*?)```/g)) {
      printed.set(match[1] ?? '', (match[2] ?? '').replace(/\s+/g, ''));
    }
    assert.deepEqual([...printed.keys()].sort(), Object.keys(expected).sort());
    for (const [name, hex] of Object.entries(expected)) assert.equal(printed.get(name), hex, name);
  });

  it('the error table lists exactly the codes in src/protocol/errors.ts', () => {
    const rows = [...doc.matchAll(/^\| `(E_[A-Z_]+)`\s*\| (.*?)\s*\|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(ERROR_CODES));
  });
});
