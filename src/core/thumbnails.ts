/**
 * A gallery page's thumbnails: fetched sealed, each checked against the digest and
 * length in its owner's signed manifest and against the grant behind its key, then
 * opened with the key derived from the image's content key. One that fails any check
 * is E_TAMPERED: a server cannot show one image's thumbnail as another's.
 */
import { sha256Digest } from '../crypto/hash.js';
import { openThumbnail } from '../crypto/thumbnail.js';
import { equalBytes, toHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { MAX_THUMBNAILS_PAGE, type MessageBody } from '../protocol/messages.js';
import type { ListedImage } from './catalogue.js';
import type { SispClient } from './client.js';
import { readerKey } from './entitled.js';

type Entry = MessageBody<'thumbnails.result'>['thumbnails'][number];

function tampered(image: ListedImage, why: string): Error {
  return sispError(
    'E_TAMPERED',
    `the thumbnail of ${image.owner}/${image.name} failed verification (${why})`,
  );
}

async function open(client: SispClient, image: ListedImage, entry: Entry): Promise<Uint8Array> {
  const described = image.thumbnail;
  if (described === undefined) throw tampered(image, 'the owner signed no thumbnail');
  if (entry.data.length !== described.ctLength) throw tampered(image, 'wrong length');
  if (!equalBytes(await sha256Digest(entry.data), described.sha256))
    throw tampered(image, 'not the one its owner signed');
  const manifest = { id: image.image, owner: image.owner, audience: image.audience };
  const reader = {
    username: client.username,
    encryptionKey: client.requireIdentity().encryption.privateKey,
    hpke: client.crypto.hpke,
  };
  const key = await readerKey(reader, manifest, image.ownerSigningKey, entry);
  if (key === null) throw tampered(image, 'its owner did not share it with you');
  try {
    return await openThumbnail(key, image.image, entry.data, client.crypto.aead);
  } catch {
    throw tampered(image, 'it does not decrypt');
  }
}

/** The thumbnails of those of `images` that have one, by image id (hex), verified and opened. */
export async function fetchThumbnails(
  client: SispClient,
  images: readonly ListedImage[],
): Promise<Map<string, Uint8Array>> {
  const opened = new Map<string, Uint8Array>();
  let rest = images.filter((image) => image.thumbnail !== undefined);
  while (rest.length > 0) {
    const page = rest.slice(0, MAX_THUMBNAILS_PAGE);
    const reply = await client.connection.request('thumbnails', {
      images: page.map((image) => image.image),
    });
    if (reply.type !== 'thumbnails.result')
      throw sispError('E_BAD_FRAME', 'unexpected reply to thumbnails');
    const asked = new Map(page.map((image) => [toHex(image.image), image]));
    // Opened side by side: each is independent, and most of the time is key unwrapping.
    const pageOpened = await Promise.all(
      reply.body.thumbnails.map(async (entry) => {
        const image = asked.get(toHex(entry.image));
        if (image === undefined)
          throw sispError('E_TAMPERED', 'a thumbnail that was not asked for');
        return [toHex(entry.image), await open(client, image, entry)] as const;
      }),
    );
    for (const [id, bytes] of pageOpened) opened.set(id, bytes);
    const covered = Math.min(reply.body.covered, page.length);
    if (covered === 0) throw sispError('E_BAD_FRAME', 'the server answered no thumbnail');
    rest = rest.slice(covered);
  }
  return opened;
}
