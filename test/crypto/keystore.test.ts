import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import {
  generateIdentity,
  publicIdentity,
  signEd25519,
  verifyEd25519,
} from '../../src/crypto/keys.js';
import { keystoreInfo, openKeystore, sealKeystore } from '../../src/crypto/keystore.js';
import { encodeDeterministic, decodeStrict } from '../../src/protocol/cbor.js';
import { toHex } from '../../src/protocol/bytes.js';
import { isSispError } from '../../src/protocol/errors.js';

const FAST = { N: 1024, r: 8, p: 1 };

describe('keystore', () => {
  it('plain file round trip keeps both key pairs working', async () => {
    const identity = await generateIdentity();
    const file = await sealKeystore('alice', identity);
    const opened = await openKeystore(file);
    assert.equal(opened.username, 'alice');
    const message = new Uint8Array([1, 2, 3]);
    const signature = await signEd25519(opened.identity.signing.privateKey, message);
    assert.equal(
      await verifyEd25519((await publicIdentity(identity)).signingKey, signature, message),
      true,
    );
    assert.deepEqual(await publicIdentity(opened.identity), await publicIdentity(identity));
    assert.equal(keystoreInfo(file).encrypted, false);
  });

  it('passphrase file: right passphrase opens, wrong or missing one is E_PASSPHRASE', async () => {
    const identity = await generateIdentity();
    const file = await sealKeystore('alice', identity, {
      passphrase: 'correct horse',
      scrypt: FAST,
    });
    assert.equal(keystoreInfo(file).encrypted, true);
    assert.deepEqual(
      await publicIdentity((await openKeystore(file, 'correct horse')).identity),
      await publicIdentity(identity),
    );
    await assert.rejects(openKeystore(file, 'wrong horse'), (e) => isSispError(e, 'E_PASSPHRASE'));
    await assert.rejects(openKeystore(file), (e) => isSispError(e, 'E_PASSPHRASE'));
  });

  it('the private keys are not in the sealed file', async () => {
    const identity = await generateIdentity();
    const file = await sealKeystore('alice', identity, { passphrase: 'pw', scrypt: FAST });
    const plain = await sealKeystore('alice', identity);
    const secret = (decodeStrict(plain) as { plain: Uint8Array }).plain;
    assert.equal(toHex(file).includes(toHex(secret.subarray(16, 48))), false);
  });

  it("a spliced public part (another user's keys or name) is refused", async () => {
    const alice = await generateIdentity();
    const bob = await publicIdentity(await generateIdentity());
    const file = decodeStrict(
      await sealKeystore('alice', alice, { passphrase: 'pw', scrypt: FAST }),
    ) as Record<string, unknown>;
    const swapped = encodeDeterministic({ ...file, signingKey: bob.signingKey });
    await assert.rejects(openKeystore(swapped, 'pw'), (e) => isSispError(e, 'E_PASSPHRASE'));
    const renamed = encodeDeterministic({ ...file, username: 'mallory' });
    await assert.rejects(openKeystore(renamed, 'pw'), (e) => isSispError(e, 'E_PASSPHRASE'));
    const plain = decodeStrict(await sealKeystore('alice', alice)) as Record<string, unknown>;
    for (const spliced of [{ signingKey: bob.signingKey }, { encryptionKey: bob.encryptionKey }])
      await assert.rejects(openKeystore(encodeDeterministic({ ...plain, ...spliced })), (e) =>
        isSispError(e, 'E_PASSPHRASE'),
      );
  });

  it('opens a private key in any PKCS#8 form, not only the plain one it writes', async () => {
    const identity = await generateIdentity();
    const pub = await publicIdentity(identity);
    const file = decodeStrict(await sealKeystore('alice', identity)) as Record<string, unknown>;
    const secret = decodeStrict(file.plain as Uint8Array) as Record<string, Uint8Array>;
    const signing = secret.signing ?? assert.fail();
    // The same key with an (empty) attributes field, as other tools may write it.
    const withAttributes = Uint8Array.from([0x30, 0x30, ...signing.subarray(2, 48), 0xa0, 0x00]);
    const reencoded = encodeDeterministic({
      ...file,
      plain: encodeDeterministic({ ...secret, signing: withAttributes }),
    });
    const opened = await openKeystore(reencoded);
    assert.deepEqual(await publicIdentity(opened.identity), pub);
    const message = Uint8Array.of(9);
    const signature = await signEd25519(opened.identity.signing.privateKey, message);
    assert.equal(await verifyEd25519(pub.signingKey, signature, message), true);
  });

  it('refuses garbage and memory-bomb scrypt parameters', async () => {
    await assert.rejects(openKeystore(new Uint8Array([1, 2, 3])), (e) =>
      isSispError(e, 'E_PASSPHRASE'),
    );
    const file = decodeStrict(
      await sealKeystore('alice', await generateIdentity(), { passphrase: 'pw', scrypt: FAST }),
    ) as {
      scrypt: Record<string, unknown>;
    };
    const bomb = encodeDeterministic({ ...file, scrypt: { ...file.scrypt, N: 2 ** 24, r: 64 } });
    await assert.rejects(openKeystore(bomb, 'pw'), (e) => isSispError(e, 'E_PASSPHRASE'));
  });
});
