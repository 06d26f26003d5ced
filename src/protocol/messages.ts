/**
 * Every SISP/2 message: its type string and the schema of its body. The frame
 * layer (frame.ts) guarantees that a decoded message's body matches the schema of
 * its type, so handlers receive typed, validated values only.
 */
import { audienceField, imageNameField, MAX_RECIPIENTS, usernameField } from './fields.js';
import { ERROR_CODES, sispError, type ErrorCode } from './errors.js';
import { LINK_ID_LENGTH, linkPassphraseSchema, MAX_LINKS } from './link.js';
import {
  array,
  bool,
  bytes,
  oneOf,
  struct,
  text,
  uint,
  type Infer,
  type Schema,
} from './schema.js';

export const PROTOCOL_VERSION = 2;
export const SUPPORTED_VERSIONS: readonly number[] = [PROTOCOL_VERSION];

/** Largest data field of one post.chunk or download.chunk frame. */
export const MAX_CHUNK_DATA = 1 << 20;
/** Frame size limit: the largest chunk frame plus room for its header. */
export const DEFAULT_MAX_FRAME = MAX_CHUNK_DATA + 1024;
export const MAX_CERTIFICATE = 4096;
export const MAX_MANIFEST = 4096;
/** Most images in one list.result (the server may send fewer, to fit the frame limit). */
export const MAX_LIST_PAGE = 200;
/** An opaque position in a listing. */
export const MAX_CURSOR = 64;
export const MAX_EVENTS_PAGE = 200;
/** The largest sealed thumbnail (a 512 px WebP is far smaller). */
export const MAX_THUMBNAIL = 256 * 1024;
/** Thumbnails asked for at once (one gallery page). */
export const MAX_THUMBNAILS_PAGE = 100;
/** For the album kinds, an event's `image` field carries the album's id and `name` its name. */
export const EVENT_KINDS = [
  'new_image',
  'deleted',
  'withdrawn',
  'album_shared',
  'album_unshared',
] as const;
/** Members of one album, its owner included. */
export const MAX_ALBUM_MEMBERS = 200;
export const MAX_ALBUM_IMAGES = 10_000;
/** Albums one user may own. */
export const MAX_ALBUMS = 1000;
/** Albums in one albums.result (owned, then shared with the user, newest first). */
export const MAX_ALBUMS_LISTED = 2000;
/** Images added or removed in one request, and album items in one album.result. */
export const MAX_ALBUM_BATCH = 500;
/** A 32-byte key sealed under another (crypto/key-seal.ts): nonce, key, tag. */
export const SEALED_KEY_LENGTH = 12 + 32 + 16;
/** Key holders of one image, however many shares added them. */
export const MAX_GRANTS = 1000;
export { MAX_RECIPIENTS };
export const IMAGE_ID_LENGTH = 16;
export const NONCE_LENGTH = 32;
/**
 * Recipient name of the server's own wrapped copy of a public image's key. Not a
 * valid username (they start with a letter), so it cannot collide with one.
 */
export const SERVER_RECIPIENT = '@server';

export const CONTENT_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'] as const;
export type ContentType = (typeof CONTENT_TYPES)[number];

// On the wire only canonical names travel; clients normalise before sending.
const username = usernameField;
const imageName = imageNameField;
const imageId = bytes({ exact: IMAGE_ID_LENGTH });
const audience = audienceField;
const ed25519Key = bytes({ exact: 32 });
const x25519Key = bytes({ exact: 32 });
const signature = bytes({ exact: 64 });
const certificate = bytes({ min: 1, max: MAX_CERTIFICATE });
const fingerprint = bytes({ exact: 32 });
const errorCode: Schema<ErrorCode> = oneOf(Object.keys(ERROR_CODES) as ErrorCode[]);
/** HPKE-wrapped content key: enc (X25519 public key) and a sealed 32-byte key. */
const wrappedKey = struct({ enc: x25519Key, ct: bytes({ exact: 32 + 16 }) });
const recipient: Schema<string> = (value, path) =>
  value === SERVER_RECIPIENT ? SERVER_RECIPIENT : username(value, path);
const recipientKey = struct({ recipient, enc: x25519Key, ct: bytes({ exact: 48 }) });
const albumId = bytes({ exact: IMAGE_ID_LENGTH });
const linkId = bytes({ exact: LINK_ID_LENGTH });
const sealedKey = bytes({ exact: SEALED_KEY_LENGTH });
/** A member's album key, wrapped to them, and the owner's signature over it. */
const albumMember = struct({
  member: username,
  enc: x25519Key,
  ct: bytes({ exact: 48 }),
  signature,
});
/** An image's content key sealed under the album key, and the owner's signature over it. */
const albumItem = struct({ image: imageId, key: sealedKey, signature });
/**
 * How an album member gets an image's key: their wrapped album key and its
 * membership signature, and the image's key sealed under the album key, signed.
 */
const albumDelivery = struct({
  album: albumId,
  name: imageName,
  key: wrappedKey,
  signature,
  item: sealedKey,
  itemSignature: signature,
});
const chunkData = bytes({ min: 1, max: MAX_CHUNK_DATA });
const credit = uint(1 << 30, 1);
/** A place in the durable event log. */
const position = uint();

/**
 * A reader's key to an image comes one way: wrapped to them (with the owner's
 * grant when it was shared after posting), or through an album they belong to.
 */
function exactlyOneKey<T extends { key?: unknown; grant?: unknown; album?: unknown }>(
  base: Schema<T>,
): Schema<T> {
  return (value, path) => {
    const body = base(value, path);
    if ((body.key === undefined) === (body.album === undefined) || (body.album && body.grant))
      throw sispError('E_BAD_REQUEST', `invalid ${path}: a key, or an album's, not both`);
    return body;
  };
}

/** A download names its image one way: by id, or by owner and name together. */
function exactlyOneReference<T extends { image?: Uint8Array; owner?: string; name?: string }>(
  base: Schema<T>,
): Schema<T> {
  return (value, path) => {
    const body = base(value, path);
    const byId = body.image !== undefined;
    const byName = body.owner !== undefined || body.name !== undefined;
    const fullName = body.owner !== undefined && body.name !== undefined;
    if (byId === byName || (byName && !fullName)) {
      throw sispError(
        'E_BAD_REQUEST',
        `invalid ${path}: name the image by id, or by owner and name`,
      );
    }
    return body;
  };
}

export const MESSAGE_SCHEMAS = {
  // Session setup.
  hello: struct({ versions: array(uint(255), { min: 1, max: 8 }) }, { agent: text({ max: 64 }) }),
  welcome: struct({
    version: uint(255),
    nonce: bytes({ exact: NONCE_LENGTH }),
    caFingerprint: fingerprint,
    /** Issued by the CA; carries the server's X25519 key for public images. */
    serverCertificate: certificate,
    maxFrame: uint(1 << 30),
    maxImage: uint(Number.MAX_SAFE_INTEGER),
  }),
  register: struct({
    username,
    signingKey: ed25519Key,
    encryptionKey: x25519Key,
    proof: signature,
  }),
  registered: struct({ username, certificate }),
  auth: struct({ username, signature }),
  authed: struct({ username, certificate }),

  // Upload: begin (what the image will be), chunks within the credit the server
  // grants, then end with the signed manifest, which commits to the envelope's digest.
  'post.begin': struct(
    {
      image: imageId,
      name: imageName,
      contentType: oneOf(CONTENT_TYPES),
      size: uint(),
      audience,
      keys: array(recipientKey, { min: 1, max: MAX_RECIPIENTS + 1 }),
      replace: bool(),
    },
    /** The sealed thumbnail, whose length and digest the manifest will carry. */
    { thumbnail: bytes({ min: 1, max: MAX_THUMBNAIL }) },
  ),
  'post.ready': struct({ credit }),
  'post.chunk': struct({ data: chunkData }),
  'post.end': struct({ manifest: bytes({ min: 1, max: MAX_MANIFEST }), signature }),
  'post.abort': struct({}),
  'post.done': struct({ image: imageId, created: uint() }),

  // Download: the server sends begin, then chunks within the client's credit, then end.
  /** By image id, or by owner and name (never both); `credit` is the first window the server may fill. */
  download: exactlyOneReference(
    struct({ credit }, { owner: username, name: imageName, image: imageId }),
  ),
  'download.begin': exactlyOneKey(
    struct(
      { manifest: bytes({ min: 1, max: MAX_MANIFEST }), signature, certificate },
      /** The owner's grant signature, when the key was shared after posting. */
      { key: wrappedKey, grant: signature, album: albumDelivery },
    ),
  ),
  'download.chunk': struct({ data: chunkData }),
  'download.end': struct({}),
  credit: struct({ bytes: credit }),

  /** A page of what the user may see: after `after` (a cursor from the last page), up to `limit`. */
  list: struct({}, { after: bytes({ min: 1, max: MAX_CURSOR }), limit: uint(MAX_LIST_PAGE, 1) }),
  /**
   * Each image as its owner signed it, the owners' certificates (each once), and
   * `next` when there is more. The server sizes a page to fit within maxFrame.
   */
  'list.result': struct(
    {
      images: array(struct({ manifest: bytes({ min: 1, max: MAX_MANIFEST }), signature }), {
        max: MAX_LIST_PAGE,
      }),
      certificates: array(struct({ username, certificate }), { max: MAX_LIST_PAGE }),
    },
    { next: bytes({ min: 1, max: MAX_CURSOR }) },
  ),
  /** The owner gives more users a key, each with a signed grant (docs/PROTOCOL.md 4.5). */
  share: struct({
    image: imageId,
    grants: array(
      struct({ recipient: username, enc: x25519Key, ct: bytes({ exact: 48 }), signature }),
      {
        min: 1,
        max: MAX_RECIPIENTS,
      },
    ),
  }),
  'share.done': struct({}),
  /** The owner takes one user's access back, signed. */
  unshare: struct({ image: imageId, recipient: username, withdrawn: uint(), signature }),
  'unshare.done': struct({ held: bool() }),
  /** Sealed thumbnails of images the user may see, with the key to open each. */
  thumbnails: struct({ images: array(imageId, { min: 1, max: MAX_THUMBNAILS_PAGE }) }),
  /**
   * As many as fit in one frame, in the order asked; the client asks again for the
   * rest. An image without a thumbnail, or that the user may not see, is left out.
   */
  'thumbnails.result': struct({
    thumbnails: array(
      exactlyOneKey(
        struct(
          { image: imageId, data: bytes({ min: 1, max: MAX_THUMBNAIL }) },
          { key: wrappedKey, grant: signature, album: albumDelivery },
        ),
      ),
      { max: MAX_THUMBNAILS_PAGE },
    ),
    /** How many of the images asked for this reply covers (answered or left out). */
    covered: uint(MAX_THUMBNAILS_PAGE),
  }),
  /** The requester's wrapped key to an image they may see (the owner's, to share it). */
  'key.get': struct({ image: imageId }),
  key: struct({ key: wrappedKey }),
  /** Who holds a key to the owner's image now. */
  grants: struct({ image: imageId }),
  'grants.result': struct({ recipients: array(username, { max: MAX_GRANTS }) }),
  /**
   * The user's events after `after` (a position from an event or an earlier reply),
   * up to `limit`; without `after`, none, only the current position to start from.
   */
  events: struct({}, { after: uint(), limit: uint(MAX_EVENTS_PAGE, 1) }),
  'events.result': struct({
    events: array(
      struct({
        kind: oneOf(EVENT_KINDS),
        image: imageId,
        name: imageName,
        owner: username,
        position,
      }),
      { max: MAX_EVENTS_PAGE },
    ),
    /** The last position this reply covers: ask again after it. */
    position,
    more: bool(),
  }),
  /** The owner deletes an image: gone from every list at once; downloads in progress end. */
  delete: struct({ image: imageId }),
  'delete.done': struct({}),
  /** What the user has stored, against what the server allows. */
  usage: struct({}),
  'usage.result': struct({
    images: uint(),
    bytes: uint(),
    maxImages: uint(),
    maxBytes: uint(),
  }),
  // Albums (docs/PROTOCOL.md 4.8): the owner creates one with their own membership,
  // adds and removes their images, and shares it; every membership and item signed.
  'album.create': struct({ album: albumId, name: imageName, key: wrappedKey, signature }),
  'album.add': struct({
    album: albumId,
    items: array(albumItem, { min: 1, max: MAX_ALBUM_BATCH }),
  }),
  'album.remove': struct({
    album: albumId,
    images: array(imageId, { min: 1, max: MAX_ALBUM_BATCH }),
  }),
  'album.share': struct({
    album: albumId,
    members: array(albumMember, { min: 1, max: MAX_RECIPIENTS }),
  }),
  'album.unshare': struct({ album: albumId, member: username }),
  /** How many images an add or remove changed, or members an unshare removed. */
  'album.done': struct({ changed: uint() }),
  /** The albums the user owns or belongs to. */
  albums: struct({}),
  'albums.result': struct({
    albums: array(
      struct({ album: albumId, name: imageName, owner: username, images: uint(), members: uint() }),
      { max: MAX_ALBUMS_LISTED },
    ),
  }),
  /** One album the user owns or belongs to: members and a page of items (after `after`). */
  'album.get': struct({ owner: username, name: imageName }, { after: imageId }),
  'album.result': struct(
    {
      album: albumId,
      name: imageName,
      owner: username,
      certificate,
      members: array(albumMember, { min: 1, max: MAX_ALBUM_MEMBERS }),
      items: array(albumItem, { max: MAX_ALBUM_BATCH }),
    },
    /** The last item of this page, when there are more. */
    { next: imageId },
  ),
  // Links (docs/PROTOCOL.md 4.9): the owner makes one for an image with its content
  // key sealed under the link key; opening it is plain HTTPS (/l/<id>/info, /blob).
  'link.create': struct(
    { link: linkId, image: imageId, key: sealedKey, expires: uint() },
    { maxDownloads: uint(1_000_000, 1), passphrase: linkPassphraseSchema },
  ),
  'link.revoke': struct({ link: linkId }),
  'link.done': struct({}),
  /** The requester's links, newest first. */
  links: struct({}),
  'links.result': struct({
    links: array(
      struct(
        {
          link: linkId,
          image: imageId,
          name: imageName,
          created: uint(),
          expires: uint(),
          downloads: uint(),
          revoked: bool(),
          passphrase: bool(),
        },
        { maxDownloads: uint() },
      ),
      { max: MAX_LINKS },
    ),
  }),
  'cert.get': struct({ username }),
  cert: struct({ username, certificate }),

  // Server push (request id 0).
  'event.new_image': struct({ image: imageId, name: imageName, owner: username, position }),
  'event.deleted': struct({ image: imageId, name: imageName, owner: username, position }),
  'event.unshared': struct({ image: imageId, name: imageName, owner: username, position }),
  'event.album_shared': struct({ album: albumId, name: imageName, owner: username, position }),
  'event.album_unshared': struct({ album: albumId, name: imageName, owner: username, position }),

  error: struct(
    { code: errorCode, message: text({ max: 512 }) },
    { supported: array(uint(255), { max: 8 }) },
  ),
} as const;

export type MessageType = keyof typeof MESSAGE_SCHEMAS;
export type MessageBody<T extends MessageType> = Infer<(typeof MESSAGE_SCHEMAS)[T]>;

/** A decoded, validated message: a discriminated union over `type`. */
export type Message = {
  [T in MessageType]: { readonly type: T; readonly id: number; readonly body: MessageBody<T> };
}[MessageType];

export const MESSAGE_TYPES = Object.keys(MESSAGE_SCHEMAS) as MessageType[];

export function isMessageType(value: unknown): value is MessageType {
  return typeof value === 'string' && Object.hasOwn(MESSAGE_SCHEMAS, value);
}
