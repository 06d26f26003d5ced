/**
 * Reading the catalogue: the images a user may see, a page at a time, each as its
 * owner signed it (so a client shows nothing the server could have made up), and
 * users' certificates.
 */
import { toHex } from '../../protocol/bytes.js';
import { decodeStrict, encodeDeterministic } from '../../protocol/cbor.js';
import { sispError } from '../../protocol/errors.js';
import {
  IMAGE_ID_LENGTH,
  MAX_EVENTS_PAGE,
  MAX_LIST_PAGE,
  type MessageBody,
} from '../../protocol/messages.js';
import { bytes, uint } from '../../protocol/schema.js';
import { deliveryFor } from './download.js';
import type { RequestContext, RequestMessage } from '../request.js';
import type { ImageRecord, ListCursor } from '../store/types.js';

/** Images per page unless the client asks for fewer (or more, up to MAX_LIST_PAGE). */
const DEFAULT_PAGE = 100;
/** Room left in a frame for everything but the entries: the frame head, keys, the cursor. */
const FRAME_SLACK = 1024;
/** A thumbnail entry's key (an album's is the largest form) and framing, generously. */
const ENTRY_KEY_BYTES = 400;
/** Per entry and per certificate: their map keys and length heads, generously. */
const ENTRY_OVERHEAD = 48;

/** The cursor is CBOR [created, id]: opaque to clients, checked strictly here. */
function encodeCursor(image: ImageRecord): Uint8Array {
  return encodeDeterministic([image.created, image.id]);
}

function decodeCursor(raw: Uint8Array | undefined): ListCursor | null {
  if (raw === undefined) return null;
  let value: unknown;
  try {
    value = decodeStrict(raw, { maxBytes: 64, maxDepth: 2 });
  } catch {
    throw sispError('E_BAD_REQUEST', 'not a list cursor');
  }
  if (!Array.isArray(value) || value.length !== 2)
    throw sispError('E_BAD_REQUEST', 'not a list cursor');
  return {
    created: uint()(value[0], 'list.after'),
    id: bytes({ exact: IMAGE_ID_LENGTH })(value[1], 'list.after'),
  };
}

export async function list(
  context: RequestContext,
  message: RequestMessage<'list'>,
): Promise<void> {
  const { store, config } = context.services;
  const limit = Math.min(message.body.limit ?? DEFAULT_PAGE, MAX_LIST_PAGE);
  const after = decodeCursor(message.body.after);
  // One more than the page, to know whether there is a next one.
  const rows = await store.listVisible(context.user, after, limit + 1);
  const budget = config.limits.maxFrame - FRAME_SLACK;
  const images: MessageBody<'list.result'>['images'] = [];
  const certificates: MessageBody<'list.result'>['certificates'] = [];
  const owners = new Set<string>();
  let size = 0;
  for (const image of rows.slice(0, limit)) {
    let cost = image.manifest.length + image.signature.length + ENTRY_OVERHEAD;
    const owner = owners.has(image.owner) ? undefined : await store.getUser(image.owner);
    if (owner !== undefined)
      cost += owner.certificate.length + owner.username.length + ENTRY_OVERHEAD;
    // Never past the frame limit: the rest is for the next page (one always fits).
    if (images.length > 0 && size + cost > budget) break;
    size += cost;
    images.push({ manifest: image.manifest, signature: image.signature });
    if (owner !== undefined) {
      owners.add(owner.username);
      certificates.push({ username: owner.username, certificate: owner.certificate });
    }
  }
  const last = rows[images.length - 1];
  const more = rows.length > images.length && last !== undefined;
  await context.send(
    'list.result',
    more ? { images, certificates, next: encodeCursor(last) } : { images, certificates },
  );
}

export async function certificate(
  context: RequestContext,
  message: RequestMessage<'cert.get'>,
): Promise<void> {
  const found = await context.services.store.getUser(message.body.username);
  if (found === undefined) throw sispError('E_NOT_FOUND', `no user named ${message.body.username}`);
  await context.send('cert', { username: found.username, certificate: found.certificate });
}

/**
 * events: what the user was told of (or would have been) after `after`, from the
 * durable log, so a client that was away catches up and misses nothing.
 */
export async function events(
  context: RequestContext,
  message: RequestMessage<'events'>,
): Promise<void> {
  const { store } = context.services;
  const { after, limit = MAX_EVENTS_PAGE } = message.body;
  if (after === undefined) {
    await context.send('events.result', {
      events: [],
      position: await store.eventHead(),
      more: false,
    });
    return;
  }
  // One more than asked, to know whether there is more.
  const found = await store.eventsSince(context.user, after, limit + 1);
  const page = found.slice(0, limit);
  await context.send('events.result', {
    events: page.map(({ kind, image, name, owner, position }) => ({
      kind,
      image,
      name,
      owner,
      position,
    })),
    position: page.at(-1)?.position ?? Math.max(after, await store.eventHead()),
    more: found.length > limit,
  });
}

/**
 * thumbnails: the sealed thumbnails of a gallery page, each with the requester's
 * wrapped key (and the owner's grant, when the key came from a share), as many as
 * fit in one frame; `covered` says how far the answer got.
 */
export async function thumbnails(
  context: RequestContext,
  message: RequestMessage<'thumbnails'>,
): Promise<void> {
  const { store, config } = context.services;
  const room = config.limits.maxFrame - 1024;
  const found = await store.thumbnails(context.user, message.body.images);
  const byId = new Map(found.map((entry) => [toHex(entry.image.id), entry]));
  // First what fits in one frame (each entry is its data plus up to ~400 bytes of key,
  // an album's included, and framing)...
  const chosen: typeof found = [];
  let size = 0;
  let covered = 0;
  for (const id of message.body.images) {
    const entry = byId.get(toHex(id));
    if (entry !== undefined) {
      if (chosen.length > 0 && size + entry.data.length + ENTRY_KEY_BYTES > room) break;
      chosen.push(entry);
      size += entry.data.length + ENTRY_KEY_BYTES;
    }
    covered++;
  }
  // ...then the keys for it, side by side (a public image's key is re-wrapped for the reader).
  const answered = await Promise.all(
    chosen.map(async ({ image, data }) => ({
      image: image.id,
      data,
      ...(await deliveryFor(context, image)),
    })),
  );
  await context.send('thumbnails.result', { thumbnails: answered, covered });
}
