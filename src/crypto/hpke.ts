/**
 * Content-key wrap with HPKE (RFC 9180) base mode: DHKEM(X25519, HKDF-SHA256),
 * HKDF-SHA256, AES-256-GCM, via @hpke/core. The info string binds the image id and
 * the recipient, so a wrapped key cannot be replayed to another image or person.
 */
import type { CipherSuite } from '@hpke/core';
import { checkBytes, equalBytes } from '../protocol/bytes.js';
import { encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import { SERVER_RECIPIENT } from '../protocol/messages.js';
import { importX25519Public } from './keys.js';
import { RecentKeys } from './recent-keys.js';
import { buf } from './webcrypto.js';

export { SERVER_RECIPIENT };

export const HPKE_ENC_SIZE = 32;
export const WRAPPED_KEY_SIZE = 32 + 16;

export interface WrappedKey {
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

/**
 * The single-shot part of @hpke/core's CipherSuite that sisp uses. @hpke/core (over
 * WebCrypto) is the portable implementation; node/hpke.ts implements the same on
 * Node's OpenSSL, several times faster, and is held to the same vectors.
 */
export type HpkeSuite = Pick<CipherSuite, 'seal' | 'open'>;

let suite: Promise<CipherSuite> | undefined;

/**
 * One suite for the process: it holds no per-message state, and making one is not
 * free. @hpke/core loads with it: a CLI with Node's suite (node/hpke.ts) never loads
 * it at all (start-up, bench/README).
 */
export function hpkeSuite(): Promise<CipherSuite> {
  suite ??= import('@hpke/core').then(
    ({ Aes256Gcm, CipherSuite, DhkemX25519HkdfSha256, HkdfSha256 }) =>
      new CipherSuite({
        kem: new DhkemX25519HkdfSha256(),
        kdf: new HkdfSha256(),
        aead: new Aes256Gcm(),
      }),
  );
  return suite;
}

/** @hpke/core, made on first use (browsers, and wherever no faster suite is given). */
export const WEB_HPKE: HpkeSuite = {
  seal: async (params, pt, aad) => (await hpkeSuite()).seal(params, pt, aad),
  open: async (params, ct, aad) => (await hpkeSuite()).open(params, ct, aad),
};

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

export interface WrapOptions {
  /** What the key is for: an image's content key (the default) or an album's key. */
  readonly label?: WrapLabel;
  /** The HPKE implementation: @hpke/core unless a faster one is given (node/hpke.ts). */
  readonly suite?: HpkeSuite;
}

// A post wraps to the same two or three keys every time.
const recipientKeys = new RecentKeys(importX25519Public);

export async function wrapContentKey(
  contentKey: Uint8Array,
  recipientPublicKey: Uint8Array,
  imageId: Uint8Array,
  recipient: string,
  /** ikmE, for test vectors only: the ephemeral key pair is DeriveKeyPair(ikmE), as in RFC 9180's vectors. */
  options: WrapOptions & { readonly ikmE?: Uint8Array } = {},
): Promise<WrappedKey> {
  checkBytes('contentKey', contentKey, 32);
  const publicKey = await recipientKeys.get(recipientPublicKey);
  const ekm = options.ikmE === undefined ? {} : { ekm: buf(options.ikmE).buffer };
  const params = {
    recipientPublicKey: publicKey,
    info: buf(wrapInfo(imageId, recipient, options.label)),
    ...ekm,
  };
  // A low-order recipient key would make the KEM secret public knowledge.
  const sealed = await (options.suite ?? WEB_HPKE)
    .seal(params, buf(contentKey))
    .catch((cause: unknown) => {
      throw sispError('E_BAD_KEY', 'cannot wrap to that key', { cause });
    });
  return { enc: new Uint8Array(sealed.enc), ct: new Uint8Array(sealed.ct) };
}

export async function unwrapContentKey(
  wrapped: WrappedKey,
  recipientPrivateKey: CryptoKey,
  imageId: Uint8Array,
  recipient: string,
  options: WrapOptions = {},
): Promise<Uint8Array> {
  if (!(wrapped.enc instanceof Uint8Array) || wrapped.enc.length !== HPKE_ENC_SIZE) {
    throw sispError('E_TAMPERED', 'wrapped key is malformed');
  }
  if (!(wrapped.ct instanceof Uint8Array) || wrapped.ct.length !== WRAPPED_KEY_SIZE) {
    throw sispError('E_TAMPERED', 'wrapped key is malformed');
  }
  const params = {
    recipientKey: recipientPrivateKey,
    enc: buf(wrapped.enc),
    info: buf(wrapInfo(imageId, recipient, options.label)),
  };
  try {
    const key = new Uint8Array(await (options.suite ?? WEB_HPKE).open(params, buf(wrapped.ct)));
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
  suite: HpkeSuite = WEB_HPKE,
): Promise<WrappedKey> {
  const contentKey = await unwrapContentKey(wrapped, serverPrivateKey, imageId, SERVER_RECIPIENT, {
    suite,
  });
  try {
    return await wrapContentKey(contentKey, toPublicKey, imageId, toRecipient, { suite });
  } finally {
    contentKey.fill(0);
  }
}
