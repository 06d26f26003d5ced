/**
 * Changing who may see one of your images after posting it. Sharing wraps the
 * content key to each new recipient and signs a grant for each; unsharing signs a
 * withdrawal, which the server enforces at once. Neither changes the image: a
 * withdrawn recipient who kept their wrapped key could still decrypt the old bytes
 * with the server's help, which is what re-keying (a new version under a new key,
 * posted with `replace`) is for.
 */
import { signGrant, signWithdrawal } from '../crypto/grants.js';
import { unwrapContentKey, wrapContentKey } from '../crypto/hpke.js';
import { sispError } from '../protocol/errors.js';
import { normalizeUsername } from '../protocol/names.js';
import { resolveImage, type ListedImage } from './catalogue.js';
import type { SispClient } from './client.js';

/** One of your images, by name or owner/name; `verb` names what only its owner may do. */
export async function ownImage(
  client: SispClient,
  reference: string,
  verb = 'change',
): Promise<ListedImage> {
  const username = client.username;
  const image = await resolveImage(
    client,
    reference.includes('/') ? reference : `${username}/${reference}`,
  );
  if (image.owner !== username)
    throw sispError('E_FORBIDDEN', `only ${image.owner} can ${verb} ${image.owner}/${image.name}`);
  return image;
}

/** Your content key for an image, unwrapped from your own grant. */
export async function contentKey(client: SispClient, image: ListedImage): Promise<Uint8Array> {
  const reply = await client.connection.request('key.get', { image: image.image });
  if (reply.type !== 'key') throw sispError('E_BAD_FRAME', 'unexpected reply to key.get');
  return unwrapContentKey(
    reply.body.key,
    client.requireIdentity().encryption.privateKey,
    image.image,
    client.username,
    { suite: client.crypto.hpke },
  );
}

function others(client: SispClient, users: readonly string[]): string[] {
  const named = [...new Set(users.map((user) => normalizeUsername(user)))];
  const rest = named.filter((user) => user !== client.username);
  if (rest.length === 0) throw sispError('E_BAD_REQUEST', 'name at least one other user');
  return rest;
}

/** Gives each user a key to your private image, under a grant you sign; they are told. */
export async function shareImage(
  client: SispClient,
  reference: string,
  to: readonly string[],
): Promise<{ image: ListedImage; recipients: string[] }> {
  const image = await ownImage(client, reference);
  if (image.audience === 'public')
    throw sispError('E_BAD_REQUEST', `${image.name} is public: everyone can see it already`);
  const recipients = others(client, to);
  const peers = await Promise.all(recipients.map((user) => client.peer(user)));
  const key = await contentKey(client, image);
  const signing = client.requireIdentity().signing.privateKey;
  const grants = await Promise.all(
    peers.map(async (peer) => {
      const wrapped = await wrapContentKey(key, peer.encryptionKey, image.image, peer.username, {
        suite: client.crypto.hpke,
      });
      const fields = {
        image: image.image,
        owner: client.username,
        recipient: peer.username,
        ...wrapped,
      };
      return { recipient: peer.username, ...wrapped, signature: await signGrant(signing, fields) };
    }),
  );
  const reply = await client.connection.request('share', { image: image.image, grants });
  if (reply.type !== 'share.done') throw sispError('E_BAD_FRAME', 'unexpected reply to share');
  return { image, recipients };
}

/**
 * Withdraws each user's access under a withdrawal you sign: the server stops serving
 * it to them at once and their downloads of it end. Returns who had access.
 */
export async function unshareImage(
  client: SispClient,
  reference: string,
  from: readonly string[],
): Promise<{ image: ListedImage; withdrawn: string[] }> {
  const image = await ownImage(client, reference);
  if (image.audience === 'public')
    throw sispError('E_BAD_REQUEST', `${image.name} is public: make it private instead`);
  const signing = client.requireIdentity().signing.privateKey;
  const withdrawn: string[] = [];
  for (const recipient of others(client, from)) {
    const fields = { image: image.image, owner: client.username, recipient, withdrawn: Date.now() };
    const signature = await signWithdrawal(signing, fields);
    const reply = await client.connection.request('unshare', {
      image: image.image,
      recipient,
      withdrawn: fields.withdrawn,
      signature,
    });
    if (reply.type !== 'unshare.done')
      throw sispError('E_BAD_FRAME', 'unexpected reply to unshare');
    if (reply.body.held) withdrawn.push(recipient);
  }
  return { image, withdrawn };
}

/** Who holds a key to your image now (besides you). */
export async function grantHolders(client: SispClient, image: ListedImage): Promise<string[]> {
  const reply = await client.connection.request('grants', { image: image.image });
  if (reply.type !== 'grants.result') throw sispError('E_BAD_FRAME', 'unexpected reply to grants');
  return reply.body.recipients;
}
