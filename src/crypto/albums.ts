/**
 * Albums, as Ente's collections: an album key, wrapped to each member with HPKE
 * (under its own label), and each image's content key sealed under the album key.
 * Sharing an album with one more person is one wrap, however many images it holds.
 * The owner signs each membership (album, its name, member, which wrapped key) and
 * each item (album, image, which sealed key), so the server cannot add a member or
 * an image undetected: a member's client checks both before using either.
 */
import { concatBytes } from '../protocol/bytes.js';
import { encodeDeterministic } from '../protocol/cbor.js';
import { sha256Digest } from './hash.js';
import { unwrapContentKey, wrapContentKey, type HpkeSuite, type WrappedKey } from './hpke.js';
import { openKey, sealContext, sealKey } from './key-seal.js';
import { signPayload, verifyPayload } from './signatures.js';
import { randomBytes } from './webcrypto.js';

const WRAP_LABEL = 'sisp/2 album key wrap';
const ITEM_LABEL = 'sisp/2 album item key';
const ITEM_CONTEXT = 'sisp/2 album item\n';

export interface MemberFields {
  readonly album: Uint8Array;
  readonly name: string;
  readonly owner: string;
  readonly member: string;
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
}

export interface ItemFields {
  readonly album: Uint8Array;
  readonly owner: string;
  readonly image: Uint8Array;
  /** The image's content key sealed under the album key. */
  readonly key: Uint8Array;
}

export function newAlbumKey(): Uint8Array {
  return randomBytes(32);
}

export function wrapAlbumKey(
  albumKey: Uint8Array,
  memberPublicKey: Uint8Array,
  album: Uint8Array,
  member: string,
  suite?: HpkeSuite,
): Promise<WrappedKey> {
  return wrapContentKey(albumKey, memberPublicKey, album, member, {
    label: WRAP_LABEL,
    ...(suite === undefined ? {} : { suite }),
  });
}

export function unwrapAlbumKey(
  wrapped: WrappedKey,
  memberPrivateKey: CryptoKey,
  album: Uint8Array,
  member: string,
  suite?: HpkeSuite,
): Promise<Uint8Array> {
  return unwrapContentKey(wrapped, memberPrivateKey, album, member, {
    label: WRAP_LABEL,
    ...(suite === undefined ? {} : { suite }),
  });
}

export function sealItemKey(
  albumKey: Uint8Array,
  album: Uint8Array,
  image: Uint8Array,
  contentKey: Uint8Array,
  /** Test vectors only. */
  nonce?: Uint8Array,
): Promise<Uint8Array> {
  return sealKey(albumKey, ITEM_LABEL, sealContext(ITEM_CONTEXT, album, image), contentKey, nonce);
}

export function openItemKey(
  albumKey: Uint8Array,
  album: Uint8Array,
  image: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  return openKey(albumKey, ITEM_LABEL, sealContext(ITEM_CONTEXT, album, image), sealed);
}

/** CBOR {v, album, name, owner, member, key: SHA-256(enc || ct)}. */
export async function memberPayload(fields: MemberFields): Promise<Uint8Array> {
  return encodeDeterministic({
    v: 1,
    album: fields.album,
    name: fields.name,
    owner: fields.owner,
    member: fields.member,
    key: await sha256Digest(concatBytes(fields.enc, fields.ct)),
  });
}

/** CBOR {v, album, owner, image, key: SHA-256(sealed key)}. */
export async function itemPayload(fields: ItemFields): Promise<Uint8Array> {
  return encodeDeterministic({
    v: 1,
    album: fields.album,
    owner: fields.owner,
    image: fields.image,
    key: await sha256Digest(fields.key),
  });
}

export async function signMember(privateKey: CryptoKey, fields: MemberFields): Promise<Uint8Array> {
  return signPayload('albumMember', privateKey, await memberPayload(fields));
}

export async function verifyMember(
  ownerSigningKey: Uint8Array,
  signature: Uint8Array,
  fields: MemberFields,
): Promise<boolean> {
  return verifyPayload('albumMember', ownerSigningKey, signature, await memberPayload(fields));
}

export async function signItem(privateKey: CryptoKey, fields: ItemFields): Promise<Uint8Array> {
  return signPayload('albumItem', privateKey, await itemPayload(fields));
}

export async function verifyItem(
  ownerSigningKey: Uint8Array,
  signature: Uint8Array,
  fields: ItemFields,
): Promise<boolean> {
  return verifyPayload('albumItem', ownerSigningKey, signature, await itemPayload(fields));
}
