/**
 * download: resolve the image the requester may see, hand over the manifest, the
 * owner's certificate and a content key wrapped for the requester, then stream the
 * envelope within the credit the client grants. Runs beside the session's message
 * queue, so credit can arrive while it waits.
 */
import { rewrapContentKey, SERVER_RECIPIENT } from '../../crypto/hpke.js';
import { nodeHpke } from '../../node/hpke.js';
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { FramePool, frameInPlace, HEADER_ROOM } from '../../protocol/frame-pool.js';
import { MAX_CHUNK_DATA, type MessageBody } from '../../protocol/messages.js';
import type { RequestContext, RequestMessage } from '../request.js';
import type { ImageRecord, KeyGrant } from '../store/types.js';
import { DownloadTransfer } from '../transfers.js';

/** Credit bounds what the client must hold; this bounds what we queue locally. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;

type DownloadMessage = RequestMessage<'download'>;

export function download(context: RequestContext, message: DownloadMessage): Promise<void> {
  const transfer = new DownloadTransfer(message.body.credit);
  context.transfers.addDownload(context.id, transfer);
  // Not awaited: the session's queue must go on (credit arrives through it).
  run(context, message, transfer)
    .catch((error: unknown) => {
      if (!transfer.cancelled) context.fail(error);
    })
    .finally(() => {
      context.transfers.removeDownload(context.id, transfer);
    });
  return Promise.resolve();
}

async function resolveImage(
  context: RequestContext,
  body: DownloadMessage['body'],
): Promise<ImageRecord> {
  const { store } = context.services;
  // Not found and not allowed look the same, and take the same path (one query):
  // a user learns nothing about images they may not see, not even that they exist.
  const image =
    body.image !== undefined
      ? await store.getVisible(context.user, body.image)
      : await store.findVisible(context.user, body.owner ?? '', body.name ?? '');
  if (image === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  return image;
}

/** key.get: the requester's own wrapped key to an image they may see, without its bytes. */
export async function key(
  context: RequestContext,
  message: RequestMessage<'key.get'>,
): Promise<void> {
  const image = await context.services.store.getVisible(context.user, message.body.image);
  if (image === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  const wrapped = await ownKey(context, image);
  if (wrapped === undefined) throw sispError('E_NOT_FOUND', 'no key of your own to that image');
  await context.send('key', { key: { enc: wrapped.enc, ct: wrapped.ct } });
}

/** How a reader gets an image's key: one of download.begin's and thumbnails.result's forms. */
export type KeyDelivery = Pick<MessageBody<'download.begin'>, 'key' | 'grant' | 'album'>;

/** The content key wrapped for the requester: the owner's wrap, or the server's re-wrap. */
async function ownKey(context: RequestContext, image: ImageRecord): Promise<KeyGrant | undefined> {
  const { store, pki } = context.services;
  const user = context.user;
  const key = await store.getKey(image.id, user);
  if (key !== undefined) return key;
  if (image.audience !== 'public') return undefined;
  const requester = await store.getUser(user);
  const serverCopy = await store.getKey(image.id, SERVER_RECIPIENT);
  if (requester === undefined || serverCopy === undefined)
    throw sispError('E_INTERNAL', 'public image without a server key');
  const rewrapped = await rewrapContentKey(
    serverCopy,
    pki.wrapKey,
    image.id,
    requester.encryptionKey,
    user,
    nodeHpke,
  );
  return { recipient: user, ...rewrapped };
}

/** The requester's key to an image they may see: their own, or through an album. */
export async function deliveryFor(
  context: RequestContext,
  image: ImageRecord,
): Promise<KeyDelivery> {
  const own = await ownKey(context, image);
  if (own !== undefined) {
    const key = { enc: own.enc, ct: own.ct };
    return own.grant === undefined ? { key } : { key, grant: own.grant };
  }
  const via = await context.services.store.albumKey(context.user, image.id);
  if (via === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  return {
    album: {
      album: via.album.id,
      name: via.album.name,
      key: { enc: via.member.enc, ct: via.member.ct },
      signature: via.member.signature,
      item: via.item.key,
      itemSignature: via.item.signature,
    },
  };
}

async function run(
  context: RequestContext,
  message: DownloadMessage,
  transfer: DownloadTransfer,
): Promise<void> {
  const { store, log } = context.services;
  const image = await resolveImage(context, message.body);
  transfer.image = image.id;
  const owner = await store.getUser(image.owner);
  if (owner === undefined) throw sispError('E_INTERNAL', 'missing user record');
  await context.send('download.begin', {
    manifest: image.manifest,
    signature: image.signature,
    certificate: owner.certificate,
    ...(await deliveryFor(context, image)),
  });
  const sent = await streamBlob(context, image, transfer);
  if (sent === undefined) return;
  await context.send('download.end', {});
  log.info(
    {
      event: 'download',
      session: context.session.id,
      user: context.user,
      owner: image.owner,
      name: image.name,
      image: toHex(image.id),
      bytes: sent,
    },
    'image downloaded',
  );
}

/** Sends the envelope as chunk frames within credit; undefined if the transfer ended first. */
async function streamBlob(
  context: RequestContext,
  image: ImageRecord,
  transfer: DownloadTransfer,
): Promise<number | undefined> {
  const { blobs, outgoing, config } = context.services;
  const pieceSize = Math.min(MAX_CHUNK_DATA, config.limits.maxFrame - 1024);
  const blob = await blobs.open(image.blob).catch(async (error: unknown) => {
    // Deleted between the lookup and now: say so, rather than fail as a server error.
    if ((await context.services.store.getImage(image.id)) === undefined)
      throw sispError('E_NOT_FOUND', 'the image was deleted by its owner');
    throw error;
  });
  const pool = new FramePool(pieceSize);
  const ended = {
    get aborted() {
      return transfer.cancelled || context.closed;
    },
  };
  let sent = 0;
  let lastSend: Promise<void> = Promise.resolve();
  try {
    if (blob.length !== image.ctLength)
      throw sispError('E_INTERNAL', 'stored image has the wrong length');
    while (sent < image.ctLength) {
      const amount = await transfer.window.take(Math.min(pieceSize, image.ctLength - sent));
      // The server-wide budget of bytes queued to sockets: wait for room in it.
      if (!(await outgoing.take(amount, ended))) return undefined;
      // Read straight into the frame buffer, after room for its header: no copies.
      const frame = pool.take(HEADER_ROOM + amount);
      const read = await blob.read(frame.subarray(HEADER_ROOM, HEADER_ROOM + amount), sent);
      if (read !== amount) {
        outgoing.give(amount);
        throw sispError('E_INTERNAL', 'stored image is shorter than recorded');
      }
      lastSend = context.sendFrame(frameInPlace(frame, 'download.chunk', context.id, amount));
      void lastSend.then(() => {
        outgoing.give(amount);
        // Reused only while the connection lives: a closed socket may drop it half sent.
        if (!context.closed) pool.give(frame);
      });
      sent += amount;
      if (context.bufferedAmount > SEND_HIGH_WATER) await lastSend;
    }
  } finally {
    await blob.close();
  }
  await lastSend;
  return sent;
}
