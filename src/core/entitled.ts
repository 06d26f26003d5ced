/**
 * A reader's content key to an image, once they are sure its owner meant them to
 * read it: the image is public or theirs, the signed manifest names them, the owner
 * signed a grant of exactly this wrapped key to them, or the owner signed both their
 * membership of an album and the image's place in it. Downloads and thumbnails both
 * ask here, so the server cannot add a reader.
 */
import { openItemKey, unwrapAlbumKey, verifyItem, verifyMember } from '../crypto/albums.js';
import { verifyGrant } from '../crypto/grants.js';
import { unwrapContentKey, type HpkeSuite, type WrappedKey } from '../crypto/hpke.js';
import type { Audience } from '../crypto/manifest.js';
import type { MessageBody } from '../protocol/messages.js';

export type KeyDelivery = Pick<MessageBody<'download.begin'>, 'key' | 'grant' | 'album'>;
type AlbumDelivery = NonNullable<KeyDelivery['album']>;

interface Reader {
  readonly username: string;
  readonly encryptionKey: CryptoKey;
  readonly hpke: HpkeSuite;
}

interface Image {
  readonly id: Uint8Array;
  readonly owner: string;
  readonly audience: Audience;
}

async function isEntitled(
  me: string,
  image: Image,
  ownerSigningKey: Uint8Array,
  key: WrappedKey,
  grant: Uint8Array | undefined,
): Promise<boolean> {
  const { audience } = image;
  if (image.owner === me || audience === 'public' || audience.includes(me)) return true;
  if (grant === undefined) return false;
  return verifyGrant(ownerSigningKey, grant, {
    image: image.id,
    owner: image.owner,
    recipient: me,
    enc: key.enc,
    ct: key.ct,
  });
}

/** Whether the owner signed both our membership of the album and the image's place in it. */
async function isAlbumMember(
  me: string,
  image: Image,
  ownerSigningKey: Uint8Array,
  via: AlbumDelivery,
): Promise<boolean> {
  const member = { album: via.album, name: via.name, owner: image.owner, member: me, ...via.key };
  const item = { album: via.album, owner: image.owner, image: image.id, key: via.item };
  const [isMember, isItem] = await Promise.all([
    verifyMember(ownerSigningKey, via.signature, member),
    verifyItem(ownerSigningKey, via.itemSignature, item),
  ]);
  return isMember && isItem;
}

/**
 * The content key, or null when the owner did not share the image with the reader.
 * E_TAMPERED when a key the owner did sign does not open.
 */
export async function readerKey(
  reader: Reader,
  image: Image,
  ownerSigningKey: Uint8Array,
  delivery: KeyDelivery,
): Promise<Uint8Array | null> {
  const me = reader.username;
  if (delivery.key !== undefined) {
    if (!(await isEntitled(me, image, ownerSigningKey, delivery.key, delivery.grant))) return null;
    return unwrapContentKey(delivery.key, reader.encryptionKey, image.id, me, {
      suite: reader.hpke,
    });
  }
  const via = delivery.album;
  if (via === undefined || !(await isAlbumMember(me, image, ownerSigningKey, via))) return null;
  const albumKey = await unwrapAlbumKey(via.key, reader.encryptionKey, via.album, me, reader.hpke);
  try {
    return await openItemKey(albumKey, via.album, image.id, via.item);
  } finally {
    albumKey.fill(0);
  }
}
