import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { numRuns } from '../properties.js';
import { encodeReversedKeys } from '../support/cbor.js';
import { generateIdentity, publicIdentity, signEd25519 } from '../../src/crypto/keys.js';
import {
  canonicalAudience,
  decodeManifest,
  encodeManifest,
  signManifest,
  verifyManifest,
  type Manifest,
} from '../../src/crypto/manifest.js';
import {
  authPayload,
  registerPayload,
  signPayload,
  signedBytes,
  verifyPayload,
} from '../../src/crypto/signatures.js';
import { encodeDeterministic } from '../../src/protocol/cbor.js';
import { isSispError } from '../../src/protocol/errors.js';

const manifest: Manifest = {
  v: 1,
  id: new Uint8Array(16).fill(0xab),
  owner: 'alice',
  name: 'sunset',
  type: 'image/png',
  size: 30605,
  ctLength: 30605 + 56 + 32,
  sha256: new Uint8Array(32).fill(0x11),
  created: 1_764_000_000_000,
  audience: 'public',
};

describe('manifest', () => {
  it('round-trips through its deterministic encoding', () => {
    const encoded = encodeManifest(manifest);
    assert.deepEqual(decodeManifest(encoded), manifest);
    const named = { ...manifest, audience: canonicalAudience(['carol', 'bob', 'bob']) };
    assert.deepEqual(named.audience, ['bob', 'carol']);
    assert.deepEqual(decodeManifest(encodeManifest(named)), named);
  });

  it('refuses non-canonical encodings and malformed fields (E_BAD_MANIFEST)', () => {
    const bad = [
      { ...manifest, owner: 'Alice' },
      { ...manifest, name: '../etc/passwd' },
      { ...manifest, type: 'image/svg+xml' },
      { ...manifest, audience: ['carol', 'bob'] },
      { ...manifest, audience: [] },
      { ...manifest, v: 2 },
      { ...manifest, id: new Uint8Array(15) },
      { ...manifest, extra: 1 },
    ];
    for (const value of bad) {
      assert.throws(
        () => decodeManifest(encodeDeterministic(value)),
        (e) => isSispError(e, 'E_BAD_MANIFEST'),
      );
    }
    // A map whose keys are not in RFC 8949 order is refused even though its content is valid.
    const canonical = encodeManifest(manifest);
    const reordered = encodeReversedKeys(manifest);
    assert.notDeepEqual(reordered, canonical);
    assert.throws(
      () => decodeManifest(reordered),
      (e) => isSispError(e, 'E_BAD_MANIFEST'),
    );
    // Not CBOR at all, and trailing bytes after a valid manifest, are malformed too.
    for (const bytes of [Uint8Array.of(0xff), Uint8Array.of(...canonical, 0)]) {
      assert.throws(
        () => decodeManifest(bytes),
        (e) => isSispError(e, 'E_BAD_MANIFEST'),
      );
    }
  });

  it('accepts only the one encoding: whatever it accepts re-encodes to the same bytes', () => {
    const canonical = encodeManifest({ ...manifest, audience: ['bob', 'carol'] });
    const edit = fc.oneof(
      fc.record({ at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }), kind: fc.constant('set') }),
      fc.record({
        at: fc.nat(),
        byte: fc.integer({ min: 0, max: 255 }),
        kind: fc.constant('insert'),
      }),
      fc.record({ at: fc.nat(), byte: fc.constant(0), kind: fc.constant('delete') }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        const bytes = [...canonical];
        for (const { at, byte, kind } of edits) {
          const index = at % (bytes.length + 1);
          if (kind === 'set' && index < bytes.length) bytes[index] = byte;
          else if (kind === 'insert') bytes.splice(index, 0, byte);
          else bytes.splice(index, 1);
        }
        const mutated = Uint8Array.from(bytes);
        let decoded: Manifest;
        try {
          decoded = decodeManifest(mutated);
        } catch (error) {
          assert.ok(isSispError(error, 'E_BAD_MANIFEST'));
          return;
        }
        assert.deepEqual(encodeDeterministic(decoded), mutated);
      }),
      { numRuns: numRuns(2000) },
    );
  });

  it('signature verifies, and fails for any changed field or another signer', async () => {
    const alice = await generateIdentity();
    const mallory = await generateIdentity();
    const alicePublic = await publicIdentity(alice);
    const encoded = encodeManifest(manifest);
    const signature = await signManifest(alice.signing.privateKey, encoded);
    assert.equal(await verifyManifest(alicePublic.signingKey, signature, encoded), true);
    const changes: Partial<Manifest>[] = [
      { owner: 'bob' },
      { name: 'sunrise' },
      { type: 'image/jpeg' },
      { size: manifest.size + 1 },
      { ctLength: manifest.ctLength + 1 },
      { sha256: new Uint8Array(32).fill(0x12) },
      { created: manifest.created + 1 },
      { audience: ['bob'] },
      { id: new Uint8Array(16).fill(0xac) },
    ];
    for (const change of changes) {
      const changed = encodeManifest({ ...manifest, ...change });
      assert.equal(
        await verifyManifest(alicePublic.signingKey, signature, changed),
        false,
        JSON.stringify(Object.keys(change)),
      );
    }
    const forged = await signManifest(mallory.signing.privateKey, encoded);
    assert.equal(await verifyManifest(alicePublic.signingKey, forged, encoded), false);
  });

  it('signatures from one domain never verify in another', async () => {
    const alice = await generateIdentity();
    const pub = await publicIdentity(alice);
    const nonce = new Uint8Array(32).fill(1);
    const ca = new Uint8Array(32).fill(2);
    const auth = authPayload({ username: 'alice', nonce, caFingerprint: ca });
    const authSignature = await signPayload('auth', alice.signing.privateKey, auth);
    assert.equal(await verifyPayload('auth', pub.signingKey, authSignature, auth), true);
    // An auth-challenge signature presented as a manifest signature over the same bytes.
    assert.equal(await verifyManifest(pub.signingKey, authSignature, auth), false);
    assert.equal(await verifyPayload('register', pub.signingKey, authSignature, auth), false);
    // A raw signature over the manifest bytes without the prefix is refused too.
    const encoded = encodeManifest(manifest);
    const raw = await signEd25519(alice.signing.privateKey, encoded);
    assert.equal(await verifyManifest(pub.signingKey, raw, encoded), false);
    const reg = registerPayload({ username: 'alice', ...pub, nonce, caFingerprint: ca });
    const regSignature = await signPayload('register', alice.signing.privateKey, reg);
    assert.equal(await verifyPayload('auth', pub.signingKey, regSignature, reg), false);
    assert.notDeepEqual(
      signedBytes('auth', auth).subarray(0, 12),
      signedBytes('manifest', auth).subarray(0, 12),
    );
  });
});
