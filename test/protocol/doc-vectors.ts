/**
 * The hex test vectors printed in docs/PROTOCOL.md, computed from the code. The
 * docs test checks the document against these byte for byte; `npm run vectors`
 * prints them for pasting when the protocol changes on purpose.
 */
import {
  grantPayload,
  signGrant,
  signWithdrawal,
  withdrawalPayload,
} from '../../src/crypto/grants.js';
import { ED25519_PKCS8_PREFIX } from '../../src/crypto/der.js';
import {
  itemPayload,
  memberPayload,
  sealItemKey,
  signItem,
  signMember,
} from '../../src/crypto/albums.js';
import { linkKey, sealLinkKey } from '../../src/crypto/links.js';
import { formatLinkUrl } from '../../src/protocol/link.js';
import { thumbnailContext, thumbnailKey } from '../../src/crypto/thumbnail.js';
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
import { keyFingerprint, readableFingerprint } from '../../src/crypto/fingerprint.js';
import { wrapContentKey, wrapInfo } from '../../src/crypto/hpke.js';
import { concatBytes, fromHex, toHex, utf8 } from '../../src/protocol/bytes.js';
import { chunkFrameHeader, encodeFrame } from '../../src/protocol/frame.js';

export const SEED = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60');
/** RFC 8032 test 1: the public key of SEED. */
export const SIGNING_KEY = fromHex(
  'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
);
/** RFC 7748 section 6.1: Alice's X25519 key pair, and Bob's. */
export const X25519_ALICE = {
  private: fromHex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
  public: fromHex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a'),
};
export const X25519_BOB = {
  private: fromHex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'),
  public: fromHex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f'),
};
/** RFC 9180 A.1.1's ikmE: the ephemeral key pair of the wrap vector is DeriveKeyPair(ikmE). */
export const IKM_E = fromHex('7268600d403fce431561aef583ee1613527cff655c1343f29812e66706df3234');
export const CONTENT_KEY = fromHex(
  '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f',
);
export const IMAGE_ID = fromHex('000102030405060708090a0b0c0d0e0f');

export async function docVectors(): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  out['frame-list'] = toHex(encodeFrame('list', 1, {}));
  out['frame-auth'] = toHex(
    encodeFrame('auth', 2, { username: 'alice', signature: new Uint8Array(64).fill(0x5a) }),
  );
  out['frame-event'] = toHex(
    encodeFrame('event.new_image', 0, {
      image: IMAGE_ID,
      name: 'sunset',
      owner: 'alice',
      position: 42,
    }),
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
  const register = registerPayload({
    username: 'alice',
    signingKey: SIGNING_KEY,
    encryptionKey: X25519_ALICE.public,
    nonce,
    caFingerprint,
  });
  out['register-signed-bytes'] = toHex(signedBytes('register', register));
  out['register-proof'] = toHex(await signPayload('register', signingKey, register));
  out['key-fingerprint'] = toHex(await keyFingerprint(SIGNING_KEY, X25519_ALICE.public));
  out['auth-signature'] = toHex(
    await signPayload('auth', signingKey, authPayload({ username: 'alice', nonce, caFingerprint })),
  );
  out['wrap-info'] = toHex(wrapInfo(IMAGE_ID, 'bob'));
  const wrapped = await wrapContentKey(CONTENT_KEY, X25519_BOB.public, IMAGE_ID, 'bob', {
    ikmE: IKM_E,
  });
  out['wrap-enc'] = toHex(wrapped.enc);
  out['wrap-ct'] = toHex(wrapped.ct);
  const grant = { image: IMAGE_ID, owner: 'alice', recipient: 'bob', ...wrapped };
  out['grant-signed-bytes'] = toHex(signedBytes('grant', await grantPayload(grant)));
  out['grant-signature'] = toHex(await signGrant(signingKey, grant));
  const withdrawal = {
    image: IMAGE_ID,
    owner: 'alice',
    recipient: 'bob',
    withdrawn: 1_764_000_000_000,
  };
  out['withdraw-signed-bytes'] = toHex(signedBytes('withdraw', withdrawalPayload(withdrawal)));
  out['withdraw-signature'] = toHex(await signWithdrawal(signingKey, withdrawal));
  out['thumbnail-key'] = toHex(thumbnailKey(CONTENT_KEY));
  out['thumbnail-context'] = toHex(thumbnailContext(IMAGE_ID));
  Object.assign(out, await albumVectors(signingKey, wrapped));
  Object.assign(out, await linkVectors());
  return out;
}

const ALBUM_ID = new Uint8Array(16).fill(0xa1);
const ALBUM_KEY = new Uint8Array(32).fill(0x42);
const LINK_ID = new Uint8Array(16).fill(0x11);
const LINK_SECRET = new Uint8Array(32).fill(0x5e);

/** Section 4.8: the album key's wrap info, a membership and an item. */
async function albumVectors(
  signingKey: CryptoKey,
  wrapped: { enc: Uint8Array; ct: Uint8Array },
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  out['album-wrap-info'] = toHex(wrapInfo(ALBUM_ID, 'bob', 'sisp/2 album key wrap'));
  const member = { album: ALBUM_ID, name: 'holiday', owner: 'alice', member: 'bob', ...wrapped };
  out['album-member-signed-bytes'] = toHex(signedBytes('albumMember', await memberPayload(member)));
  out['album-member-signature'] = toHex(await signMember(signingKey, member));
  const key = await sealItemKey(
    ALBUM_KEY,
    ALBUM_ID,
    IMAGE_ID,
    CONTENT_KEY,
    new Uint8Array(12).fill(0x4c),
  );
  out['album-item-key'] = toHex(key);
  const item = { album: ALBUM_ID, owner: 'alice', image: IMAGE_ID, key };
  out['album-item-signed-bytes'] = toHex(signedBytes('albumItem', await itemPayload(item)));
  out['album-item-signature'] = toHex(await signItem(signingKey, item));
  return out;
}

/** Section 4.9: a link's passphrase-bound key and its sealed content key. */
async function linkVectors(): Promise<Record<string, string>> {
  const params = { salt: new Uint8Array(16).fill(0x5a), N: 1024, r: 8, p: 1 };
  const bound = await linkKey(LINK_SECRET, { text: 'correct horse', params });
  const binding = { link: LINK_ID, image: IMAGE_ID, caFingerprint: new Uint8Array(32).fill(0xca) };
  const nonce = new Uint8Array(12).fill(0x4c);
  return {
    'link-passphrase-key': toHex(bound),
    'link-sealed-key': toHex(await sealLinkKey(LINK_SECRET, binding, CONTENT_KEY, nonce)),
  };
}

/** Vectors the document prints as text rather than hex. */
export async function docTextVectors(): Promise<Record<string, string>> {
  return {
    'key-fingerprint-readable': readableFingerprint(
      await keyFingerprint(SIGNING_KEY, X25519_ALICE.public),
    ),
    'link-url': formatLinkUrl('https://photos.example:8443', LINK_ID, LINK_SECRET),
  };
}
