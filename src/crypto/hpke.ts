/**
 * Content-key wrap with HPKE (RFC 9180) base mode: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM, via @hpke/core. The info string binds the image id and
 * the recipient, so a wrapped key cannot be replayed to another image or person.
 */
import { Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 } from '@hpke/core';
import { checkBytes, equalBytes } from '../protocol/bytes.js';
import { encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import { SERVER_RECIPIENT } from '../protocol/messages.js';
import { importX25519Public } from './keys.js';
import { buf } from './webcrypto.js';

export { SERVER_RECIPIENT };

export const HPKE_ENC_SIZE = 32;
export const WRAPPED_KEY_SIZE = 32 + 16;

export interface WrappedKey {
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

let suite: CipherSuite | undefined;

/** One suite for the process: it holds no per-message state, and making one is not free. */
export function hpkeSuite(): CipherSuite {
  suite ??= new CipherSuite({
    kem: new DhkemX25519HkdfSha256(),
    kdf: new HkdfSha256(),
    aead: new Aes256Gcm(),
  });
  return suite;
}

/** What a wrapped key is for: an image's content key, or an album's key. */
export type WrapLabel = 'sisp/2 key wrap' | 'sisp/2 album key wrap';

/**
 * info = CBOR {label, image, recipient}: deterministic, so both sides derive it
 * alike. `image` is the album's id under the album label; the labels differ, so an
 * album key never opens as an image's key or the reverse.
 */
export function wrapInfo(
  imageId: Uint8Array,
  recipient: string,
  label: WrapLabel = 'sisp/2 key wrap',
): Uint8Array {
  return encodeDeterministic({ label, image: imageId, recipient });
}

export async function wrapContentKey(
  contentKey: Uint8Array,
  recipientPublicKey: Uint8Array,
  imageId: Uint8Array,
  recipient: string,
  /**
   * label: what the key is for (an image's by default). ikmE, for test vectors only:
   * the ephemeral key pair is DeriveKeyPair(ikmE), as in RFC 9180's vectors.
   */
  options: { readonly ikmE?: Uint8Array; readonly label?: WrapLabel } = {},
): Promise<WrappedKey> {
  checkBytes('contentKey', contentKey, 32);
  const suite = hpkeSuite();
  const publicKey = await importX25519Public(recipientPublicKey);
  const ekm = options.ikmE === undefined ? {} : { ekm: buf(options.ikmE).buffer };
  // A low-order recipient key would make the KEM secret public knowledge.
  const sender = await suite
    .createSenderContext({
      recipientPublicKey: publicKey,
      info: buf(wrapInfo(imageId, recipient, options.label)),
      ...ekm,
    })
    .catch((cause: unknown) => {
      throw sispError('E_BAD_KEY', 'cannot wrap to that key', { cause });
    });
  const ct = new Uint8Array(await sender.seal(buf(contentKey)));
  return { enc: new Uint8Array(sender.enc), ct };
}

export async function unwrapContentKey(
  wrapped: WrappedKey,
  recipientPrivateKey: CryptoKey,
  imageId: Uint8Array,
  recipient: string,
  label: WrapLabel = 'sisp/2 key wrap',
): Promise<Uint8Array> {
  if (!(wrapped.enc instanceof Uint8Array) || wrapped.enc.length !== HPKE_ENC_SIZE) {
    throw sispError('E_TAMPERED', 'wrapped key is malformed');
  }
  if (!(wrapped.ct instanceof Uint8Array) || wrapped.ct.length !== WRAPPED_KEY_SIZE) {
    throw sispError('E_TAMPERED', 'wrapped key is malformed');
  }
  const suite = hpkeSuite();
  try {
    const context = await suite.createRecipientContext({
      recipientKey: recipientPrivateKey,
      enc: buf(wrapped.enc),
      info: buf(wrapInfo(imageId, recipient, label)),
    });
    const key = new Uint8Array(await context.open(buf(wrapped.ct)));
    if (key.length !== 32 || equalBytes(key, new Uint8Array(32)))
      throw new Error('bad content key');
    return key;
  } catch (cause) {
    throw sispError('E_TAMPERED', 'the wrapped content key could not be opened', { cause });
  }
}

/** The server's step for public images: open its own copy, seal one for the downloader. */
export async function rewrapContentKey(
  wrapped: WrappedKey,
  serverPrivateKey: CryptoKey,
  imageId: Uint8Array,
  toPublicKey: Uint8Array,
  toRecipient: string,
): Promise<WrappedKey> {
  const contentKey = await unwrapContentKey(wrapped, serverPrivateKey, imageId, SERVER_RECIPIENT);
  try {
    return await wrapContentKey(contentKey, toPublicKey, imageId, toRecipient);
  } finally {
    contentKey.fill(0);
  }
}
