/**
 * The manifest: what an owner signs about an image. Deterministic CBOR, so the
 * signed bytes are the transmitted bytes; decoding re-encodes and compares, so no
 * second encoding of the same manifest is ever accepted.
 */
import { checkBytes } from '../protocol/bytes.js';
import { decodeStrict, encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import {
  CONTENT_TYPES,
  IMAGE_ID_LENGTH,
  MAX_MANIFEST,
  MAX_THUMBNAIL,
  type ContentType,
} from '../protocol/messages.js';
import { audienceField, imageNameField, usernameField } from '../protocol/fields.js';
import { bytes, literal, oneOf, struct, uint, type Schema } from '../protocol/schema.js';
import { concatBytes, utf8 } from '../protocol/bytes.js';
import { signPayload, verifyPayload } from './signatures.js';

export const MANIFEST_VERSION = 1;

/** 'public' (every registered user, and the server) or the named recipients. */
export type Audience = 'public' | readonly string[];

export interface Manifest {
  readonly v: typeof MANIFEST_VERSION;
  readonly id: Uint8Array;
  readonly owner: string;
  readonly name: string;
  readonly type: ContentType;
  /** Plaintext size in bytes. */
  readonly size: number;
  /** Ciphertext (envelope) length in bytes. */
  readonly ctLength: number;
  /** SHA-256 of the whole envelope, salt and commitment included. */
  readonly sha256: Uint8Array;
  /** Milliseconds since the Unix epoch. */
  readonly created: number;
  readonly audience: Audience;
  /** The sealed thumbnail, when the poster made one: its type, length and digest. */
  readonly thumbnail?: ThumbnailInfo;
}

export interface ThumbnailInfo {
  readonly type: 'image/webp';
  /** Length of the sealed thumbnail (its envelope). */
  readonly ctLength: number;
  /** SHA-256 of the sealed thumbnail. */
  readonly sha256: Uint8Array;
}

const audience: Schema<Audience> = audienceField;

const thumbnailSchema = struct({
  type: literal('image/webp'),
  ctLength: uint(MAX_THUMBNAIL, 1),
  sha256: bytes({ exact: 32 }),
});

const manifestSchema = struct(
  {
    v: literal(MANIFEST_VERSION),
    id: bytes({ exact: IMAGE_ID_LENGTH }),
    owner: usernameField,
    name: imageNameField,
    type: oneOf(CONTENT_TYPES),
    size: uint(),
    ctLength: uint(),
    sha256: bytes({ exact: 32 }),
    created: uint(),
    audience,
  },
  { thumbnail: thumbnailSchema },
);

/** Sorts and de-duplicates recipients into the canonical audience. */
export function canonicalAudience(recipients: readonly string[] | 'public'): Audience {
  if (recipients === 'public') return 'public';
  return [...new Set(recipients)].sort();
}

export function encodeManifest(manifest: Manifest): Uint8Array {
  const validated = manifestSchema({ ...manifest, audience: manifest.audience }, 'manifest');
  const encoded = encodeDeterministic(validated);
  if (encoded.length > MAX_MANIFEST) throw sispError('E_TOO_LARGE', 'manifest too large');
  return encoded;
}

export function decodeManifest(encoded: Uint8Array): Manifest {
  checkBytes('encoded', encoded);
  let manifest: Manifest;
  // One encoding per manifest: the strict decoder refuses every other encoding of the
  // same value as it reads (docs/PROTOCOL.md section 2), and the schema refuses unknown
  // fields and changes nothing, so there is nothing to re-encode and compare.
  try {
    const value = decodeStrict(encoded, { maxBytes: MAX_MANIFEST, maxDepth: 4 });
    manifest = manifestSchema(value, 'manifest');
  } catch (cause) {
    throw sispError('E_BAD_MANIFEST', 'the image manifest is malformed', { cause });
  }
  return manifest;
}

export async function signManifest(
  privateKey: CryptoKey,
  encoded: Uint8Array,
): Promise<Uint8Array> {
  return signPayload('manifest', privateKey, encoded);
}

export async function verifyManifest(
  ownerSigningKey: Uint8Array,
  signature: Uint8Array,
  encoded: Uint8Array,
): Promise<boolean> {
  return verifyPayload('manifest', ownerSigningKey, signature, encoded);
}

/** The envelope context for an image: binds its ciphertext to its id. */
export function envelopeContext(imageId: Uint8Array): Uint8Array {
  checkBytes('imageId', imageId, IMAGE_ID_LENGTH);
  return concatBytes(utf8('sisp/2 image\n'), imageId);
}
