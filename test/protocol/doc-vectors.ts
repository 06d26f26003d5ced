/**
 * The hex test vectors printed in docs/PROTOCOL.md, computed from the code. The
 * docs test checks the document against these byte for byte; `npm run vectors`
 * prints them for pasting when the protocol changes on purpose.
 */
import { ED25519_PKCS8_PREFIX } from '../../src/crypto/der.js';
import { EnvelopeEncryptor } from '../../src/crypto/envelope.js';
import { importPkcs8 } from '../../src/crypto/keys.js';
import {
  encodeManifest,
  envelopeContext,
  signManifest,
  type Manifest,
} from '../../src/crypto/manifest.js';
import {
  authPayload,
  registerPayload,
  signedBytes,
  signPayload,
} from '../../src/crypto/signatures.js';
import { wrapInfo } from '../../src/crypto/hpke.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/protocol/bytes.js';
import { chunkFrameHeader, encodeFrame } from '../../src/protocol/frame.js';

export const SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
export const IMAGE_ID = fromHex('000102030405060708090a0b0c0d0e0f');

export async function docVectors(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  out['frame-list'] = toHex(encodeFrame('list', 1, {}));
  out['frame-auth'] = toHex(
    encodeFrame('auth', 2, { username: 'alice', signature: new Uint8Array(64).fill(0x5a) }),
  );
  out['frame-event'] = toHex(
    encodeFrame('event.new_image', 0, { image: IMAGE_ID, name: 'sunset', owner: 'alice' }),
  );
  out['frame-chunk-header'] = toHex(chunkFrameHeader('post.chunk', 7, 1000));
  out['frame-error'] = toHex(
    encodeFrame('error', 3, { code: 'E_NOT_FOUND', message: 'Not found.' }),
  );

  const key = fromHex('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f');
  const salt = fromHex('a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7');
  const context = envelopeContext(IMAGE_ID);
  out['envelope-context'] = toHex(context);
  const encryptor = await EnvelopeEncryptor.create({ key, context, salt });
  const parts = [
    encryptor.header(),
    ...(await encryptor.update(utf8('NEW_IMAGE sunset alice'))),
    await encryptor.finish(),
  ];
  out['envelope'] = toHex(concatBytes(...parts));

  const manifest: Manifest = {
    v: 1,
    id: IMAGE_ID,
    owner: 'alice',
    name: 'sunset',
    type: 'image/png',
    size: 22,
    ctLength: 94,
    sha256: fromHex('00'.repeat(32)),
    created: 1764000000000,
    audience: ['bob'],
  };
  const encoded = encodeManifest(manifest);
  out['manifest'] = toHex(encoded);
  out['manifest-signed-bytes'] = toHex(signedBytes('manifest', encoded));
  const signingKey = await importPkcs8(concatBytes(ED25519_PKCS8_PREFIX, SEED), 'Ed25519');
  out['manifest-signature'] = toHex(await signManifest(signingKey, encoded));

  const nonce = new Uint8Array(32).fill(0x4e);
  const caFingerprint = new Uint8Array(32).fill(0xca);
  out['auth-signed-bytes'] = toHex(
    signedBytes('auth', authPayload({ username: 'alice', nonce, caFingerprint })),
  );
  out['register-signed-bytes'] = toHex(
    signedBytes(
      'register',
      registerPayload({
        username: 'alice',
        signingKey: new Uint8Array(32).fill(0x51),
        encryptionKey: new Uint8Array(32).fill(0xe1),
        nonce,
        caFingerprint,
      }),
    ),
  );
  out['auth-signature'] = toHex(
    await signPayload('auth', signingKey, authPayload({ username: 'alice', nonce, caFingerprint })),
  );
  out['wrap-info'] = toHex(wrapInfo(IMAGE_ID, 'bob'));
  return out;
}
