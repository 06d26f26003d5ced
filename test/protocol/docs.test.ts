/** docs/PROTOCOL.md must match the code: its hex vectors and its error table. */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { readTestText } from '../support/files.js';
import { verifyUserCertificate } from '../../src/crypto/certificates.js';
import { fromHex } from '../../src/protocol/bytes.js';
import { ERROR_CODES } from '../../src/protocol/errors.js';
import { docTextVectors, docVectors, SIGNING_KEY, X25519_ALICE } from './doc-vectors.js';

const doc = await readTestText('docs/PROTOCOL.md');

describe('docs/PROTOCOL.md', () => {
  it('every hex vector matches the code byte for byte', async () => {
    const expected = await docVectors();
    const printed = new Map<string, string>();
    for (const match of doc.matchAll(/```hex vector=([\w-]+)\n([\s\S]*?)```/g)) {
      printed.set(match[1] ?? '', (match[2] ?? '').replace(/\s+/g, ''));
    }
    assert.deepEqual([...printed.keys()].sort(), Object.keys(expected).sort());
    for (const [name, hex] of Object.entries(expected))
      assert.equal(printed.get(name), hex, `${name} ${hex}`);
  });

  it('every text vector matches the code', async () => {
    const printed = new Map<string, string>();
    for (const match of doc.matchAll(/```text vector=([\w-]+)\n([\s\S]*?)```/g)) {
      printed.set(match[1] ?? '', (match[2] ?? '').trim());
    }
    assert.deepEqual(Object.fromEntries(printed), await docTextVectors());
  });

  it('the sample user certificate verifies against the sample CA and carries the documented keys', async () => {
    const sample = (name: string): Uint8Array => {
      const match = new RegExp(`\`\`\`hex sample=${name}\\n([\\s\\S]*?)\`\`\``).exec(doc);
      return fromHex((match?.[1] ?? '').replace(/\s+/g, ''));
    };
    const ca = sample('sample-ca');
    const user = sample('sample-user-certificate');
    const verified = await verifyUserCertificate(user, ca, {
      username: 'alice',
      now: new Date('2027-06-01T00:00:00Z'),
    });
    assert.deepEqual(verified.signingKey, SIGNING_KEY);
    assert.deepEqual(verified.encryptionKey, X25519_ALICE.public);
  });

  it('the error table lists exactly the codes in src/protocol/errors.ts', () => {
    const rows = [...doc.matchAll(/^\| `(E_[A-Z_]+)`\s*\| (.*?)\s*\|$/gm)].map((m) => [m[1], m[2]]);
    assert.deepEqual(rows, Object.entries(ERROR_CODES));
  });
});
