import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { decodeIdentityFile, encodeIdentityFile } from '../../src/crypto/identity-file.js';
import { generateIdentity } from '../../src/crypto/keys.js';
import { openKeystore, sealKeystore } from '../../src/crypto/keystore.js';
import { encodeDeterministic } from '../../src/protocol/cbor.js';

const FAST = { N: 2 ** 10, r: 8, p: 1 };
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const SERVER = 'wss://photos.example:8443/';

async function sealed(passphrase?: string): Promise<Uint8Array> {
  return sealKeystore('alice', await generateIdentity(), {
    ...(passphrase === undefined ? {} : { passphrase }),
    scrypt: FAST,
  });
}

describe('identity files', () => {
  it('round-trip: server, CA and the sealed keys, which open only with the passphrase', async () => {
    const keys = await sealed('correct horse');
    const file = decodeIdentityFile(encodeIdentityFile({ server: SERVER, ca: CA, keys }));
    assert.equal(file.username, 'alice');
    assert.equal(file.server, SERVER);
    assert.equal(file.ca, CA);
    assert.deepEqual(file.keys, keys);
    await assert.rejects(openKeystore(file.keys, 'wrong'), { code: 'E_PASSPHRASE' });
    await assert.rejects(openKeystore(file.keys), { code: 'E_PASSPHRASE' });
    assert.equal((await openKeystore(file.keys, 'correct horse')).username, 'alice');
  });

  it('refuses keys without a passphrase, both ways', async () => {
    const keys = await sealed();
    assert.throws(() => encodeIdentityFile({ server: SERVER, ca: CA, keys }), {
      code: 'E_PASSPHRASE',
    });
    const forged = encodeDeterministic({
      v: 1,
      kind: 'sisp identity',
      server: SERVER,
      ca: CA,
      keys,
    });
    assert.throws(() => decodeIdentityFile(forged), { code: 'E_PASSPHRASE' });
  });

  it('refuses what is not an identity file, damaged or not', async () => {
    const good = encodeIdentityFile({ server: SERVER, ca: CA, keys: await sealed('pw') });
    const cases: [string, Uint8Array][] = [
      ['empty', new Uint8Array(0)],
      ['truncated', good.subarray(0, good.length - 1)],
      ['trailing byte', new Uint8Array([...good, 0])],
      ['too large', new Uint8Array(17 * 1024)],
      ['another kind', encodeDeterministic({ v: 1, kind: 'something else' })],
      [
        'plain http server',
        encodeDeterministic({
          v: 1,
          kind: 'sisp identity',
          server: 'http://x/',
          ca: CA,
          keys: new Uint8Array(4),
        }),
      ],
      [
        'version 2',
        encodeDeterministic({
          v: 2,
          kind: 'sisp identity',
          server: SERVER,
          ca: CA,
          keys: new Uint8Array(4),
        }),
      ],
    ];
    for (const [why, bytes] of cases)
      assert.throws(() => decodeIdentityFile(bytes), { code: 'E_PASSPHRASE' }, why);
  });

  it('every single flipped bit is refused or fails to open', async () => {
    const keys = await sealed('pw');
    const good = encodeIdentityFile({ server: SERVER, ca: CA, keys });
    for (let index = 0; index < good.length; index += 7) {
      const bad = new Uint8Array(good);
      bad[index] = (bad[index] ?? 0) ^ 0x01;
      let file: ReturnType<typeof decodeIdentityFile>;
      try {
        file = decodeIdentityFile(bad);
      } catch (error) {
        assert.equal((error as { code?: string }).code, 'E_PASSPHRASE', `byte ${index}`);
        continue;
      }
      // A flip that still decodes is in the server, the CA text or the sealed keys.
      const changedKeys =
        file.keys.length !== keys.length || file.keys.some((byte, at) => byte !== keys[at]);
      if (changedKeys)
        await assert.rejects(
          openKeystore(file.keys, 'pw'),
          { code: 'E_PASSPHRASE' },
          `byte ${index}`,
        );
    }
  });
});
