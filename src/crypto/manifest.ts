/**
 * The manifest: what an owner signs about an image. Deterministic CBOR, so the
 * signed bytes are the transmitted bytes; decoding re-encodes and compares, so no
 * second encoding of the same manifest is ever accepted.
 */
import { checkBytes, equalBytes } from '../protocol/bytes.js';
import { decodeStrict, encodeDeterministic } from '../protocol/cbor.js';
import { sispError } from '../protocol/errors.js';
import {
  CONTENT_TYPES,
  IMAGE_ID_LENGTH,
  MAX_MANIFEST,
  MAX_RECIPIENTS,
  type ContentType,
} from '../protocol/messages.js';
import { isCanonicalImageName, isCanonicalUsername } from '../protocol/names.js';
import {
  array,
  bytes,
  literal,
  oneOf,
  refine,
  struct,
  text,
  uint,
  type Schema,
} from '../protocol/schema.js';
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
}

const username = refine(text({ max: 32 }), isCanonicalUsername, 'not a canonical username');
const audience: Schema<Audience> = (value, path) => {
  if (value === 'public') return 'public';
  const names = array(username, { min: 1, max: MAX_RECIPIENTS })(value, path);
  // Canonical form: sorted, no duplicates. Anything else would be a second encoding.
  for (let i = 1; i < names.length; i++) {
    if ((names[i - 1] ?? '') >= (names[i] ?? ''))
      throw sispError('E_BAD_REQUEST', `invalid field ${path}: not sorted and unique`);
  }
  return names;
};

const manifestSchema = struct({
  v: literal(MANIFEST_VERSION),
  id: bytes({ exact: IMAGE_ID_LENGTH }),
  owner: username,
  name: refine(text({ min: 1, max: 64 }), isCanonicalImageName, 'not a valid image name'),
  type: oneOf(CONTENT_TYPES),
  size: uint(),
  ctLength: uint(),
  sha256: bytes({ exact: 32 }),
  created: uint(),
  audience,
});

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
  const value = decodeStrict(encoded, { maxBytes: MAX_MANIFEST, maxDepth: 4 });
  let manifest: Manifest;
  try {
    manifest = manifestSchema(value, 'manifest');
  } catch (cause) {
    throw sispError('E_TAMPERED', 'the image manifest is malformed', { cause });
  }
  if (!equalBytes(encodeDeterministic(manifest), encoded)) {
    throw sispError('E_TAMPERED', 'the image manifest is not in canonical form');
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
