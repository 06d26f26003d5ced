/**
 * Albums from the client's side (docs/PROTOCOL.md 4.8). The owner's client makes
 * the album key, wraps it to each member and seals each image's content key under
 * it, signing every membership and item; a member's client checks every signature
 * in what the server hands back, so the server cannot slip in a member or an image.
 */
import {
  newAlbumKey,
  sealItemKey,
  signItem,
  signMember,
  unwrapAlbumKey,
  verifyItem,
  verifyMember,
  wrapAlbumKey,
} from '../crypto/albums.js';
import { toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { IMAGE_ID_LENGTH, MAX_ALBUM_BATCH, type MessageBody } from '../protocol/messages.js';
import { normalizeImageName, normalizeUsername } from '../protocol/names.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { findImage, listImages, type ListedImage } from './catalogue.js';
import type { SispClient } from './client.js';
import { contentKey } from './sharing.js';

type AlbumPage = MessageBody<'album.result'>;
type Member = AlbumPage['members'][number];
type Item = AlbumPage['items'][number];

/** An album as its owner signed it: checked members and items, and the album key. */
export interface Album {
  readonly album: Uint8Array;
  readonly name: string;
  readonly owner: string;
  readonly members: readonly string[];
  /** Image ids, each with an item the owner signed. */
  readonly images: readonly Uint8Array[];
  readonly key: Uint8Array;
}

export interface AlbumSummary {
  readonly name: string;
  readonly owner: string;
  readonly images: number;
  readonly members: number;
}

function unexpected(reply: { type: string }, request: string): Error {
  return sispError('E_BAD_FRAME', `unexpected ${reply.type} in reply to ${request}`);
}

/** `album` (yours) or `owner/album`. */
export function albumReference(client: SispClient, reference: string): [string, string] {
  const slash = reference.indexOf('/');
  if (slash < 0) return [client.username, normalizeImageName(reference)];
  return [
    normalizeUsername(reference.slice(0, slash)),
    normalizeImageName(reference.slice(slash + 1)),
  ];
}

async function checkMembers(
  signingKey: Uint8Array,
  page: AlbumPage,
  members: readonly Member[],
): Promise<void> {
  const { album, name, owner } = page;
  const checks = await Promise.all(
    members.map((m) => verifyMember(signingKey, m.signature, { album, name, owner, ...m })),
  );
  const forged = members.filter((_, index) => checks[index] !== true);
  if (forged.length > 0)
    throw sispError('E_TAMPERED', `${owner} did not add ${forged[0]?.member ?? ''} to ${name}`);
}

async function checkItems(signingKey: Uint8Array, page: AlbumPage): Promise<void> {
  const { album, owner } = page;
  const checks = await Promise.all(
    page.items.map((item: Item) =>
      verifyItem(signingKey, item.signature, { album, owner, image: item.image, key: item.key }),
    ),
  );
  if (checks.some((ok) => !ok))
    throw sispError(
      'E_TAMPERED',
      `an image in ${owner}/${page.name} was not put there by ${owner}`,
    );
}

/** The album, every page of it, each signature checked, and the album key unwrapped. */
export async function fetchAlbum(client: SispClient, reference: string): Promise<Album> {
  const [owner, name] = albumReference(client, reference);
  const images: Uint8Array[] = [];
  let first: AlbumPage | undefined;
  let signingKey: Uint8Array | undefined;
  let after: Uint8Array | undefined;
  do {
    const body = after === undefined ? { owner, name } : { owner, name, after };
    const reply = await client.connection.request('album.get', body);
    if (reply.type !== 'album.result') throw unexpected(reply, 'album.get');
    const page = reply.body;
    if (first === undefined) {
      if (page.owner !== owner) throw sispError('E_TAMPERED', 'the server sent another album');
      signingKey = (await client.verifyPeer(page.certificate, owner)).signingKey;
      await checkMembers(signingKey, page, page.members);
      first = page;
    } else if (!sameAlbum(first, page)) {
      throw sispError('E_TAMPERED', 'the album changed identity between pages');
    }
    if (signingKey === undefined) throw sispError('E_INTERNAL', 'no signing key');
    await checkItems(signingKey, page);
    images.push(...page.items.map((item) => item.image));
    after = page.next;
  } while (after !== undefined);
  return { ...(await openAlbum(client, first)), images };
}

function sameAlbum(a: AlbumPage, b: AlbumPage): boolean {
  return toHex(a.album) === toHex(b.album) && a.owner === b.owner && a.name === b.name;
}

async function openAlbum(client: SispClient, page: AlbumPage): Promise<Omit<Album, 'images'>> {
  const mine = page.members.find((m) => m.member === client.username);
  if (mine === undefined) throw sispError('E_TAMPERED', 'the album does not name you');
  const privateKey = client.requireIdentity().encryption.privateKey;
  const key = await unwrapAlbumKey(
    mine,
    privateKey,
    page.album,
    client.username,
    client.crypto.hpke,
  );
  const members = page.members.map((m) => m.member);
  return { album: page.album, name: page.name, owner: page.owner, members, key };
}

async function done(
  client: SispClient,
  request: Parameters<SispClient['connection']['request']>,
): Promise<number> {
  const reply = await client.connection.request(...request);
  if (reply.type !== 'album.done') throw unexpected(reply, request[0]);
  return reply.body.changed;
}

export async function createAlbum(client: SispClient, name: string): Promise<void> {
  const album = randomBytes(IMAGE_ID_LENGTH);
  const canonical = normalizeImageName(name);
  const me = client.username;
  const identity = client.requireIdentity();
  const { encryptionKey } = await client.ownPublicKeys();
  const albumKey = newAlbumKey();
  const key = await wrapAlbumKey(albumKey, encryptionKey, album, me, client.crypto.hpke);
  albumKey.fill(0);
  const fields = { album, name: canonical, owner: me, member: me, ...key };
  const signature = await signMember(identity.signing.privateKey, fields);
  await done(client, ['album.create', { album, name: canonical, key, signature }]);
}

/** Your own images by name (bare names are yours), from one listing. */
async function ownImages(
  client: SispClient,
  references: readonly string[],
): Promise<ListedImage[]> {
  const images = await listImages(client);
  return references.map((reference) => {
    const image = findImage(
      images,
      reference.includes('/') ? reference : `${client.username}/${reference}`,
    );
    if (image.owner !== client.username)
      throw sispError(
        'E_FORBIDDEN',
        `only ${image.owner} can put ${image.owner}/${image.name} in an album`,
      );
    return image;
  });
}

function batches<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += MAX_ALBUM_BATCH)
    out.push(items.slice(i, i + MAX_ALBUM_BATCH));
  return out;
}

/** Seals each image's key under the album key and signs its place; members are told. */
export async function addToAlbum(
  client: SispClient,
  albumName: string,
  references: readonly string[],
): Promise<{ added: number; images: ListedImage[] }> {
  const album = await fetchAlbum(client, albumName);
  if (album.owner !== client.username)
    throw sispError('E_FORBIDDEN', `only ${album.owner} can add to ${album.name}`);
  const images = await ownImages(client, references);
  const signing = client.requireIdentity().signing.privateKey;
  const items = await Promise.all(
    images.map(async (image) => {
      const imageKey = await contentKey(client, image);
      const key = await sealItemKey(album.key, album.album, image.image, imageKey);
      imageKey.fill(0);
      const fields = { album: album.album, owner: client.username, image: image.image, key };
      return { image: image.image, key, signature: await signItem(signing, fields) };
    }),
  );
  let added = 0;
  for (const batch of batches(items))
    added += await done(client, ['album.add', { album: album.album, items: batch }]);
  return { added, images };
}

export async function removeFromAlbum(
  client: SispClient,
  albumName: string,
  references: readonly string[],
): Promise<{ removed: number; images: ListedImage[] }> {
  const album = await fetchAlbum(client, albumName);
  if (album.owner !== client.username)
    throw sispError('E_FORBIDDEN', `only ${album.owner} can remove from ${album.name}`);
  const images = await ownImages(client, references);
  let removed = 0;
  for (const batch of batches(images.map((image) => image.image)))
    removed += await done(client, ['album.remove', { album: album.album, images: batch }]);
  return { removed, images };
}

/** One wrap of the album key per new member, however many images the album holds. */
export async function shareAlbum(
  client: SispClient,
  albumName: string,
  to: readonly string[],
): Promise<{ album: Album; added: string[] }> {
  const album = await fetchAlbum(client, albumName);
  if (album.owner !== client.username)
    throw sispError('E_FORBIDDEN', `only ${album.owner} can share ${album.name}`);
  const users = [...new Set(to.map((user) => normalizeUsername(user)))].filter(
    (u) => u !== client.username,
  );
  if (users.length === 0) throw sispError('E_BAD_REQUEST', 'name at least one other user');
  const peers = await Promise.all(users.map((user) => client.peer(user)));
  const signing = client.requireIdentity().signing.privateKey;
  const members = await Promise.all(
    peers.map(async (peer) => {
      const key = await wrapAlbumKey(
        album.key,
        peer.encryptionKey,
        album.album,
        peer.username,
        client.crypto.hpke,
      );
      const fields = {
        album: album.album,
        name: album.name,
        owner: album.owner,
        member: peer.username,
        ...key,
      };
      return { member: peer.username, ...key, signature: await signMember(signing, fields) };
    }),
  );
  await done(client, ['album.share', { album: album.album, members }]);
  return { album, added: users.filter((user) => !album.members.includes(user)) };
}

/** Takes the album back from each user: the server stops serving it to them at once. */
export async function unshareAlbum(
  client: SispClient,
  albumName: string,
  from: readonly string[],
): Promise<{ album: Album; removed: string[] }> {
  const album = await fetchAlbum(client, albumName);
  if (album.owner !== client.username)
    throw sispError('E_FORBIDDEN', `only ${album.owner} can unshare ${album.name}`);
  const removed: string[] = [];
  for (const user of new Set(from.map((name) => normalizeUsername(name)))) {
    if (user === client.username)
      throw sispError('E_BAD_REQUEST', 'you always belong to your own albums');
    if ((await done(client, ['album.unshare', { album: album.album, member: user }])) > 0)
      removed.push(user);
  }
  return { album, removed };
}

export async function listAlbums(client: SispClient): Promise<AlbumSummary[]> {
  const reply = await client.connection.request('albums', {});
  if (reply.type !== 'albums.result') throw unexpected(reply, 'albums');
  return reply.body.albums.map(({ name, owner, images, members }) => ({
    name,
    owner,
    images,
    members,
  }));
}

/** The album and its images as their owners signed them (those you may see now). */
export async function showAlbum(
  client: SispClient,
  reference: string,
): Promise<{ album: Album; images: ListedImage[] }> {
  const album = await fetchAlbum(client, reference);
  album.key.fill(0);
  const inAlbum = new Set(album.images.map((id) => toHex(id)));
  const images = (await listImages(client)).filter((image) => inAlbum.has(toHex(image.image)));
  return { album, images };
}
