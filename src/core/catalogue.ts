/**
 * What the signed-in user may see, a page at a time, each image verified as its
 * owner signed it: the owner's certificate against the CA and the pin, the manifest
 * and its signature. Everything a front end shows about an image comes from here,
 * never from what the server says beside it. And finding one image by name.
 */
import type { VerifiedUser } from '../crypto/certificates.js';
import {
  decodeManifest,
  verifyManifest,
  type ThumbnailInfo,
  type Audience,
} from '../crypto/manifest.js';
import { isSispError, sispError, type SispError } from '../protocol/errors.js';
import type { ContentType, MessageBody } from '../protocol/messages.js';
import { imageNameKey, normalizeImageName, normalizeUsername } from '../protocol/names.js';
import type { SispClient } from './client.js';

export interface ListedImage {
  readonly image: Uint8Array;
  readonly owner: string;
  readonly name: string;
  readonly contentType: ContentType;
  readonly size: number;
  /** When the owner signed it, ms since the epoch. */
  readonly created: number;
  readonly audience: Audience;
  /** The owner's readable key fingerprint, checked against the pin. */
  readonly ownerFingerprint: string;
  /** The owner's signing key, as verified (for grants). */
  readonly ownerSigningKey: Uint8Array;
  /** The sealed thumbnail as the owner signed it, when there is one. */
  readonly thumbnail?: ThumbnailInfo;
}

function tampered(why: string, cause?: unknown): Error {
  return sispError('E_TAMPERED', `the image list failed verification (${why})`, { cause });
}

type Owners = Map<string, VerifiedUser & { fingerprint: string }>;
type Page = MessageBody<'list.result'>;

export interface ListOptions {
  /**
   * Called once per owner whose key changed from the pin (E_KEY_CHANGED); their
   * images are then left out and the rest listed. Without it, the listing fails.
   */
  readonly onKeyChanged?: (owner: string, error: SispError) => void;
  /**
   * Called for each entry that fails verification (E_TAMPERED: a bad manifest or
   * signature, such as an image signed by an owner's earlier key); it is then left
   * out and the rest listed. Without it, the listing fails.
   */
  readonly onTampered?: (error: SispError) => void;
}

async function verifyOwners(
  client: SispClient,
  page: Page,
  owners: Owners,
  refused: Set<string>,
  options: ListOptions,
): Promise<void> {
  for (const { username, certificate } of page.certificates) {
    if (owners.has(username) || refused.has(username)) continue;
    try {
      owners.set(username, await client.verifyPeer(certificate, username));
    } catch (error) {
      if (options.onKeyChanged === undefined || !isSispError(error, 'E_KEY_CHANGED')) throw error;
      refused.add(username);
      options.onKeyChanged(username, error);
    }
  }
}

/** The entry verified, or undefined when its owner's key was refused (ListOptions). */
async function verifyEntry(
  entry: Page['images'][number],
  owners: Owners,
  refused: ReadonlySet<string>,
): Promise<ListedImage | undefined> {
  let manifest;
  try {
    manifest = decodeManifest(entry.manifest);
  } catch (error) {
    throw tampered('a malformed manifest', error);
  }
  if (refused.has(manifest.owner)) return undefined;
  const owner = owners.get(manifest.owner);
  if (owner === undefined) throw tampered(`no certificate for ${manifest.owner}`);
  if (!(await verifyManifest(owner.signingKey, entry.signature, entry.manifest)))
    throw tampered(`a signature of ${manifest.owner}'s does not verify`);
  return {
    image: manifest.id,
    owner: manifest.owner,
    name: manifest.name,
    contentType: manifest.type,
    size: manifest.size,
    created: manifest.created,
    audience: manifest.audience,
    ownerFingerprint: owner.fingerprint,
    ownerSigningKey: owner.signingKey,
    ...(manifest.thumbnail === undefined ? {} : { thumbnail: manifest.thumbnail }),
  };
}

/** Every image the user may see, page by page, each verified. */
export async function listImages(
  client: SispClient,
  options: ListOptions = {},
): Promise<ListedImage[]> {
  const out: ListedImage[] = [];
  const owners: Owners = new Map();
  const refused = new Set<string>();
  let after: Uint8Array | undefined;
  do {
    const reply = await client.connection.request('list', after === undefined ? {} : { after });
    if (reply.type !== 'list.result') throw sispError('E_BAD_FRAME', 'unexpected reply to list');
    await verifyOwners(client, reply.body, owners, refused, options);
    for (const entry of reply.body.images) {
      let listed: ListedImage | undefined;
      try {
        listed = await verifyEntry(entry, owners, refused);
      } catch (error) {
        if (options.onTampered === undefined || !isSispError(error, 'E_TAMPERED')) throw error;
        options.onTampered(error);
      }
      if (listed !== undefined) out.push(listed);
    }
    after = reply.body.next;
  } while (after !== undefined);
  return out;
}

/** `owner/name`, or a bare name that exactly one visible image has. */
export async function resolveImage(client: SispClient, reference: string): Promise<ListedImage> {
  return findImage(await listImages(client), reference);
}

/** `owner/name`, or a bare name that exactly one of `images` has. */
export function findImage(images: readonly ListedImage[], reference: string): ListedImage {
  const slash = reference.indexOf('/');
  if (slash >= 0) {
    const owner = normalizeUsername(reference.slice(0, slash));
    const name = normalizeImageName(reference.slice(slash + 1));
    const key = imageNameKey(name);
    const found = images.find((image) => image.owner === owner && imageNameKey(image.name) === key);
    if (found === undefined)
      throw sispError('E_NOT_FOUND', `no image ${owner}/${name} that you may see`);
    return found;
  }
  const name = normalizeImageName(reference);
  const key = imageNameKey(name);
  const matches = images.filter((image) => imageNameKey(image.name) === key);
  const [first] = matches;
  if (first === undefined)
    throw sispError('E_NOT_FOUND', `no image named "${name}" that you may see`);
  if (matches.length > 1) {
    const choices = matches.map((image) => `${image.owner}/${image.name}`).join(', ');
    throw sispError('E_AMBIGUOUS', `several images are named "${name}": ${choices}`);
  }
  return first;
}
