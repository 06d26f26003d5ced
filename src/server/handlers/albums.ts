/**
 * Albums (docs/PROTOCOL.md 4.8): the owner creates, fills, empties and shares them;
 * members read them. Every membership and item arrives signed by the owner and the
 * server checks each signature before storing it, so it keeps only what the owner
 * decided (and members' clients check them again).
 */
import { verifyItem, verifyMember } from '../../crypto/albums.js';
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import {
  MAX_ALBUM_BATCH,
  MAX_ALBUM_IMAGES,
  MAX_ALBUM_MEMBERS,
  MAX_ALBUMS,
  MAX_ALBUMS_LISTED,
} from '../../protocol/messages.js';
import type { RequestContext, RequestMessage } from '../request.js';
import type { AlbumChange, AlbumRecord, UserRecord } from '../store/types.js';

/** Room in a frame for album.result's head, its members' map keys and the cursor. */
const FRAME_SLACK = 1024;
/** One item's bytes in CBOR: id, sealed key, signature and their keys, generously. */
const ITEM_BYTES = 200;
const MEMBER_BYTES = 240;

async function owner(context: RequestContext): Promise<UserRecord> {
  const user = await context.services.store.getUser(context.user);
  if (user === undefined) throw sispError('E_INTERNAL', 'missing user record');
  return user;
}

/** The requester's own album (not found and not theirs look the same to others). */
async function ownAlbum(context: RequestContext, id: Uint8Array): Promise<AlbumRecord> {
  const album = await context.services.store.getAlbum(id);
  if (album === undefined || album.owner !== context.user)
    throw sispError('E_NOT_FOUND', 'no such album of yours');
  return album;
}

/** Publishes what a change wrote to the log, after the reply. */
async function announce(context: RequestContext, change: AlbumChange): Promise<void> {
  for (const event of change.events) await context.services.events.publish(event);
}

function logged(context: RequestContext, what: string, album: Uint8Array, extra = {}): void {
  context.services.log.info(
    {
      event: what,
      session: context.session.id,
      owner: context.user,
      album: toHex(album),
      ...extra,
    },
    what.replace('.', ' '),
  );
}

export async function createAlbum(
  context: RequestContext,
  message: RequestMessage<'album.create'>,
): Promise<void> {
  const { album, name, key, signature } = message.body;
  const user = await owner(context);
  const fields = { album, name, owner: context.user, member: context.user, ...key };
  if (!(await verifyMember(user.signingKey, signature, fields)))
    throw sispError('E_FORBIDDEN', 'the album is not signed by you');
  const record = { id: album, owner: context.user, name, created: Date.now() };
  const member = { member: context.user, ...key, signature };
  const result = await context.services.store.createAlbum(record, member, MAX_ALBUMS);
  if (result === 'exists') throw sispError('E_EXISTS', `you have an album named ${name} already`);
  if (result === 'full') throw sispError('E_QUOTA', `you can have at most ${MAX_ALBUMS} albums`);
  logged(context, 'album.create', album);
  await context.send('album.done', { changed: 1 });
}

export async function addToAlbum(
  context: RequestContext,
  message: RequestMessage<'album.add'>,
): Promise<void> {
  const { store } = context.services;
  const album = await ownAlbum(context, message.body.album);
  const user = await owner(context);
  for (const item of message.body.items) {
    const image = await store.getImage(item.image);
    if (image === undefined || image.owner !== context.user)
      throw sispError('E_NOT_FOUND', 'an album holds only your own images');
    const fields = { album: album.id, owner: context.user, image: item.image, key: item.key };
    if (!(await verifyItem(user.signingKey, item.signature, fields)))
      throw sispError('E_FORBIDDEN', `the item ${image.name} is not signed by you`);
  }
  const change = await store.addToAlbum(album.id, message.body.items, MAX_ALBUM_IMAGES);
  if (change === 'full')
    throw sispError('E_QUOTA', `an album holds at most ${MAX_ALBUM_IMAGES} images`);
  logged(context, 'album.add', album.id, { images: change.changed });
  await context.send('album.done', { changed: change.changed });
  await announce(context, change);
}

export async function removeFromAlbum(
  context: RequestContext,
  message: RequestMessage<'album.remove'>,
): Promise<void> {
  const album = await ownAlbum(context, message.body.album);
  const change = await context.services.store.removeFromAlbum(album.id, message.body.images);
  logged(context, 'album.remove', album.id, { images: change.changed });
  await context.send('album.done', { changed: change.changed });
  await announce(context, change);
}

export async function shareAlbum(
  context: RequestContext,
  message: RequestMessage<'album.share'>,
): Promise<void> {
  const { store } = context.services;
  const album = await ownAlbum(context, message.body.album);
  const user = await owner(context);
  for (const member of message.body.members) {
    if (member.member === context.user)
      throw sispError('E_BAD_REQUEST', 'you are a member of your own albums already');
    if ((await store.getUser(member.member)) === undefined)
      throw sispError('E_NOT_FOUND', `no user named ${member.member}`);
    const fields = { album: album.id, name: album.name, owner: context.user, ...member };
    if (!(await verifyMember(user.signingKey, member.signature, fields)))
      throw sispError('E_FORBIDDEN', `the membership of ${member.member} is not signed by you`);
  }
  const change = await store.shareAlbum(album.id, message.body.members, MAX_ALBUM_MEMBERS);
  if (change === 'full')
    throw sispError('E_QUOTA', `an album has at most ${MAX_ALBUM_MEMBERS} members`);
  logged(context, 'album.share', album.id, { members: message.body.members.length });
  await context.send('album.done', { changed: change.changed });
  await announce(context, change);
}

export async function unshareAlbum(
  context: RequestContext,
  message: RequestMessage<'album.unshare'>,
): Promise<void> {
  const album = await ownAlbum(context, message.body.album);
  if (message.body.member === context.user)
    throw sispError('E_BAD_REQUEST', 'you always belong to your own albums');
  const change = await context.services.store.unshareAlbum(album.id, message.body.member);
  logged(context, 'album.unshare', album.id);
  await context.send('album.done', { changed: change.changed });
  // Their downloads through it end, and their clients are told.
  await announce(context, change);
}

export async function albums(
  context: RequestContext,
  _message: RequestMessage<'albums'>,
): Promise<void> {
  const rows = await context.services.store.listAlbums(context.user, MAX_ALBUMS_LISTED);
  await context.send('albums.result', {
    albums: rows.map((row) => ({
      album: row.id,
      name: row.name,
      owner: row.owner,
      images: row.images,
      members: row.members,
    })),
  });
}

/** A member's view of one album: every member and a page of items, within one frame. */
export async function getAlbum(
  context: RequestContext,
  message: RequestMessage<'album.get'>,
): Promise<void> {
  const { store, config } = context.services;
  const { owner: ownerName, name, after } = message.body;
  const album = await store.findAlbum(context.user, ownerName, name);
  if (album === undefined) throw sispError('E_NOT_FOUND', 'no such album');
  const members = await store.albumMembers(album.id);
  const ownerRecord = await store.getUser(album.owner);
  if (ownerRecord === undefined) throw sispError('E_INTERNAL', 'missing user record');
  const room = config.limits.maxFrame - FRAME_SLACK - ownerRecord.certificate.length;
  const fit = Math.floor((room - members.length * MEMBER_BYTES) / ITEM_BYTES);
  if (fit < 1) throw sispError('E_TOO_LARGE', 'the album does not fit in a frame here');
  const limit = Math.min(MAX_ALBUM_BATCH, fit);
  const items = await store.albumItems(album.id, after ?? null, limit + 1);
  const page = items.slice(0, limit);
  const last = page.at(-1);
  await context.send('album.result', {
    album: album.id,
    name: album.name,
    owner: album.owner,
    certificate: ownerRecord.certificate,
    members,
    items: page,
    ...(items.length > limit && last !== undefined ? { next: last.image } : {}),
  });
}
