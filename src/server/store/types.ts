/**
 * The Store port: users, images and key grants. SQLite implements it now (in a
 * worker thread, so no synchronous I/O runs on the event loop); PostgreSQL will
 * implement the same calls. Every method is one transaction. Every implementation
 * runs the same conformance suite (test/conformance/store.ts).
 */
import type { ImageEvent } from '../events/types.js';

export interface UserRecord {
  readonly username: string;
  readonly signingKey: Uint8Array;
  readonly encryptionKey: Uint8Array;
  readonly certificate: Uint8Array;
  readonly created: number;
}

export interface KeyGrant {
  readonly recipient: string;
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
  /** The owner's signature over the grant, for keys given after posting (share). */
  readonly grant?: Uint8Array;
}

/** A signed withdrawal of one recipient's access. */
export interface Withdrawal {
  readonly recipient: string;
  readonly withdrawn: number;
  readonly signature: Uint8Array;
}

export interface ImageRecord {
  readonly id: Uint8Array;
  readonly owner: string;
  readonly name: string;
  readonly contentType: string;
  readonly size: number;
  readonly ctLength: number;
  /** SHA-256 of the envelope, as the signed manifest says (clients check it). */
  readonly sha256: Uint8Array;
  /** The key of the blob holding the envelope. */
  readonly blob: string;
  readonly manifest: Uint8Array;
  readonly signature: Uint8Array;
  readonly audience: 'public' | 'private';
  readonly created: number;
  /** The sealed thumbnail, when the post carried one (stored beside, not in listings). */
  readonly thumbnail?: Uint8Array;
}

export type CreateUserResult = 'created' | 'same' | 'taken';

/** Where a page of a listing starts: after this (created, id). */
export interface ListCursor {
  readonly created: number;
  readonly id: Uint8Array;
}

export interface Usage {
  readonly images: number;
  /** Plaintext bytes of all the user's images. */
  readonly bytes: number;
}

/** What post.begin checks, read together: one round trip to the store per post. */
export interface PostCheck {
  /** The owner's image of that name (by its key), if any. */
  readonly existing: ImageRecord | undefined;
  /** Whether the proposed image id is taken (by anyone). */
  readonly idTaken: boolean;
  readonly usage: Usage;
}

export interface DeletedImage {
  readonly image: ImageRecord;
  /** Users who held a key grant (never the server's). */
  readonly recipients: readonly string[];
  /** The deletion, as written to the event log. */
  readonly event: ImageEvent;
}

export interface AlbumRecord {
  readonly id: Uint8Array;
  readonly owner: string;
  readonly name: string;
  readonly created: number;
}

/** A member's album key, wrapped to them, with the owner's signature over it. */
export interface AlbumMember {
  readonly member: string;
  readonly enc: Uint8Array;
  readonly ct: Uint8Array;
  readonly signature: Uint8Array;
}

/** An image's content key sealed under the album key, with the owner's signature. */
export interface AlbumItem {
  readonly image: Uint8Array;
  readonly key: Uint8Array;
  readonly signature: Uint8Array;
}

export interface AlbumSummary extends AlbumRecord {
  readonly images: number;
  readonly members: number;
}

/** How a member reads an image through an album: their membership and the image's item. */
export interface AlbumKey {
  readonly album: AlbumRecord;
  readonly member: AlbumMember;
  readonly item: AlbumItem;
}

/** What an album change did, and the events it wrote (to publish). */
export interface AlbumChange {
  readonly changed: number;
  readonly events: readonly ImageEvent[];
}

export interface LinkRecord {
  readonly id: Uint8Array;
  readonly owner: string;
  readonly image: Uint8Array;
  /** The content key sealed under the link key. */
  readonly key: Uint8Array;
  readonly created: number;
  readonly expires: number;
  readonly maxDownloads?: number;
  readonly downloads: number;
  readonly revoked: boolean;
  readonly passphrase?: {
    readonly salt: Uint8Array;
    readonly N: number;
    readonly r: number;
    readonly p: number;
  };
}

/** Whether a link may be downloaded now, and if not, why. */
export type LinkState = 'open' | 'missing' | 'expired' | 'used_up' | 'revoked';

export interface StoreMethods {
  getUser(username: string): UserRecord | undefined;
  /** Inserts, or reports that the name exists with the same keys or other keys. */
  createUser(user: UserRecord): CreateUserResult;
  /**
   * Inserts an image and its key grants. With `replace`, an existing image of the
   * same owner and name is removed in the same transaction. Returns the replaced
   * image's blob key (for garbage collection), null if none, or 'exists'.
   */
  putImage(
    image: ImageRecord,
    keys: readonly KeyGrant[],
    replace: boolean,
  ): { replacedBlob: string | null; event: ImageEvent } | 'exists';
  getImage(id: Uint8Array): ImageRecord | undefined;
  findImage(owner: string, name: string): ImageRecord | undefined;
  /** findImage, whether `id` is taken, and usage, in one transaction. */
  checkPost(owner: string, name: string, id: Uint8Array): PostCheck;
  /**
   * The image if `viewer` may see it, else undefined: one query either way, so a
   * missing image and a forbidden one take the same path (and time).
   */
  getVisible(viewer: string, id: Uint8Array): ImageRecord | undefined;
  findVisible(viewer: string, owner: string, name: string): ImageRecord | undefined;
  /** Up to `limit` images `viewer` may see, in (created, id) order, after `after`. */
  listVisible(viewer: string, after: ListCursor | null, limit: number): ImageRecord[];
  /** How many images `owner` has, and their total plaintext size. */
  usage(owner: string): Usage;
  /**
   * Records `value` under `key` if nothing is recorded there yet, and returns what
   * is recorded (the given value, or the one recorded before).
   */
  claim(key: string, value: Uint8Array): Uint8Array;
  getKey(imageId: Uint8Array, recipient: string): KeyGrant | undefined;
  /**
   * Adds or replaces key grants; writes a new_image event for the users who had no
   * key before, and returns it (null when everyone had one).
   */
  addKeys(imageId: Uint8Array, keys: readonly KeyGrant[]): ImageEvent | null;
  /**
   * Deletes `owner`'s image `id` with its key grants, in one transaction. Returns who
   * held a grant (to tell them) and its record (with its blob's key), or undefined if there was no
   * such image of that owner.
   */
  deleteImage(owner: string, id: Uint8Array): DeletedImage | undefined;
  /** The users holding a key to the image (never the server), in order. */
  recipients(imageId: Uint8Array): string[];
  /**
   * Removes the recipient's key and records the signed withdrawal, in one
   * transaction. Returns whether they held a key.
   */
  withdraw(
    imageId: Uint8Array,
    withdrawal: Withdrawal,
  ): { held: boolean; event: ImageEvent | null };
  /**
   * The sealed thumbnails of those of `ids` that `viewer` may see and that have one,
   * in order, each with its image (whose key the reader is then given).
   */
  thumbnails(
    viewer: string,
    ids: readonly Uint8Array[],
  ): { image: ImageRecord; data: Uint8Array }[];
  /** Up to `limit` events `viewer` was told of, after position `after`, in order. */
  eventsSince(viewer: string, after: number, limit: number): ImageEvent[];
  /** The last event position written (0 when none). */
  eventHead(): number;
  /** Removes events written before `before` (ms since the epoch); returns how many. */
  pruneEvents(before: number): number;
  /** Whether an image's envelope is in the blob under `key`. */
  blobInUse(key: string): boolean;
  /** The key of every blob an image refers to. */
  allBlobs(): string[];
  /**
   * Creates an album with its owner as its first member; 'exists' if the owner has
   * one of that name, 'full' if they own `maxAlbums` already.
   */
  createAlbum(
    album: AlbumRecord,
    owner: AlbumMember,
    maxAlbums: number,
  ): 'created' | 'exists' | 'full';
  /** The album if `viewer` is a member (its owner always is). */
  findAlbum(viewer: string, owner: string, name: string): AlbumRecord | undefined;
  getAlbum(id: Uint8Array): AlbumRecord | undefined;
  albumMembers(id: Uint8Array): AlbumMember[];
  /** Up to `limit` items, in image id order, after `after`. */
  albumItems(id: Uint8Array, after: Uint8Array | null, limit: number): AlbumItem[];
  /** The albums `viewer` belongs to (owned first), newest first, up to `limit`. */
  listAlbums(viewer: string, limit: number): AlbumSummary[];
  /**
   * Adds (or re-seals) items; tells the members who could not see an image before
   * (new_image). 'full' if the album would hold more than `maxImages`.
   */
  addToAlbum(id: Uint8Array, items: readonly AlbumItem[], maxImages: number): AlbumChange | 'full';
  /** Removes images; members who can no longer see one are told (withdrawn). */
  removeFromAlbum(id: Uint8Array, images: readonly Uint8Array[]): AlbumChange;
  /**
   * Adds (or re-wraps) members; the new ones are told (album_shared). 'full' if the
   * album would have more than `maxMembers`.
   */
  shareAlbum(
    id: Uint8Array,
    members: readonly AlbumMember[],
    maxMembers: number,
  ): AlbumChange | 'full';
  /** Removes a member (never the owner); they are told (album_unshared). */
  unshareAlbum(id: Uint8Array, member: string): AlbumChange;
  /** `viewer`'s way to image `id` through an album, if they have one. */
  albumKey(viewer: string, image: Uint8Array): AlbumKey | undefined;
  /** Records a new link; 'full' if its owner has `maxLinks` already. */
  createLink(link: LinkRecord, maxLinks: number): 'created' | 'full';
  getLink(id: Uint8Array): LinkRecord | undefined;
  /** The owner's links, newest first, each with its image's name. */
  listLinks(owner: string): (LinkRecord & { readonly name: string })[];
  /** Revokes the owner's link; false if they have no such link. */
  revokeLink(owner: string, id: Uint8Array): boolean;
  /** Counts one download if the link is open at `now`, in one transaction; says why not otherwise. */
  consumeLink(id: Uint8Array, now: number): LinkState;
}

/** The Store methods that deal with albums (each SQL store keeps them in a file of their own). */
export type AlbumMethodName =
  | 'createAlbum'
  | 'findAlbum'
  | 'getAlbum'
  | 'albumMembers'
  | 'albumItems'
  | 'listAlbums'
  | 'addToAlbum'
  | 'removeFromAlbum'
  | 'shareAlbum'
  | 'unshareAlbum'
  | 'albumKey';

/** The Store methods that deal with links (each SQL store keeps them in a file of their own). */
export type LinkMethodName = 'createLink' | 'getLink' | 'listLinks' | 'revokeLink' | 'consumeLink';

/**
 * The method list, as one constant: the worker proxy is built from it, and
 * `satisfies` makes the compiler refuse a method missing here or named here but
 * not in StoreMethods.
 */
export const STORE_METHODS = {
  getUser: true,
  createUser: true,
  putImage: true,
  getImage: true,
  findImage: true,
  checkPost: true,
  getVisible: true,
  findVisible: true,
  listVisible: true,
  usage: true,
  claim: true,
  getKey: true,
  addKeys: true,
  deleteImage: true,
  recipients: true,
  withdraw: true,
  eventsSince: true,
  thumbnails: true,
  eventHead: true,
  pruneEvents: true,
  blobInUse: true,
  allBlobs: true,
  createAlbum: true,
  findAlbum: true,
  getAlbum: true,
  albumMembers: true,
  albumItems: true,
  listAlbums: true,
  addToAlbum: true,
  removeFromAlbum: true,
  shareAlbum: true,
  unshareAlbum: true,
  albumKey: true,
  createLink: true,
  getLink: true,
  listLinks: true,
  revokeLink: true,
  consumeLink: true,
} as const satisfies Record<keyof StoreMethods, true>;

export type StoreMethodName = keyof typeof STORE_METHODS;

export function isStoreMethod(name: unknown): name is StoreMethodName {
  return typeof name === 'string' && Object.hasOwn(STORE_METHODS, name);
}

export type Async<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<R> : never;
};

export interface Store extends Async<StoreMethods> {
  close(): Promise<void>;
}
