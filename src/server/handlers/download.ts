/**
 * download: resolve the image the requester may see, hand over the manifest, the
 * owner's certificate and a content key wrapped for the requester, then stream the
 * envelope within the credit the client grants. Runs beside the session's message
 * queue, so credit can arrive while it waits.
 */
import { rewrapContentKey, SERVER_RECIPIENT } from '../../crypto/hpke.js';
import { toHex } from '../../protocol/bytes.js';
import { sispError } from '../../protocol/errors.js';
import { FramePool, HEADER_ROOM } from '../../protocol/frame-pool.js';
import { chunkFrameHeader } from '../../protocol/frame.js';
import { MAX_CHUNK_DATA, type Message } from '../../protocol/messages.js';

/** Room reserved in front of chunk data for the frame header (at most 33 bytes). */
const SEND_HIGH_WATER = 4 * 1024 * 1024;
import type { Session } from '../session.js';
import type { ImageRecord } from '../store/types.js';

export class DownloadTransfer {
  #credit: number;
  #wake: (() => void) | undefined;
  cancelled = false;

  constructor(credit: number) {
    this.#credit = credit;
  }

  grant(bytes: number): void {
    this.#credit += bytes;
    this.#wake?.();
  }

  cancel(): void {
    this.cancelled = true;
    this.#wake?.();
  }

  /** Waits until some credit is available; returns how much may be sent now. */
  async take(wanted: number): Promise<number> {
    while (this.#credit <= 0 && !this.cancelled) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
    const amount = Math.min(wanted, this.#credit);
    this.#credit -= amount;
    return amount;
  }
}

type DownloadMessage = Extract<Message, { type: 'download' }>;

export function handleDownloadRequest(session: Session, message: DownloadMessage): void {
  const { id, body } = message;
  if (session.uploads.has(id) || session.downloads.has(id))
    throw sispError('E_BAD_REQUEST', 'request id in use');
  if (
    session.uploads.size + session.downloads.size >=
    session.context.config.limits.transfersPerConnection
  ) {
    throw sispError('E_RATE_LIMITED', 'too many transfers on this connection');
  }
  const transfer = new DownloadTransfer(body.credit);
  session.downloads.set(id, transfer);
  run(session, message, transfer)
    .catch((error: unknown) => {
      if (!transfer.cancelled) session.requestFailed(id, 'download', error);
    })
    .finally(() => {
      session.downloads.delete(id);
    });
}

async function resolveImage(session: Session, body: DownloadMessage['body']): Promise<ImageRecord> {
  const { store } = session.context;
  const user = session.user ?? '';
  let image: ImageRecord | undefined;
  if (body.image !== undefined) image = await store.getImage(body.image);
  else if (body.owner !== undefined && body.name !== undefined)
    image = await store.findImage(body.owner, body.name);
  else throw sispError('E_BAD_REQUEST', 'name an image by id, or by owner and name');
  // Not found and not allowed look the same: a user learns nothing about images
  // they may not see, not even that they exist.
  if (image === undefined || !(await store.canSee(user, image.id)))
    throw sispError('E_NOT_FOUND', 'no such image');
  return image;
}

async function run(
  session: Session,
  message: DownloadMessage,
  transfer: DownloadTransfer,
): Promise<void> {
  const { context } = session;
  const user = session.user ?? '';
  const image = await resolveImage(session, message.body);
  const owner = await context.store.getUser(image.owner);
  const requester = await context.store.getUser(user);
  if (owner === undefined || requester === undefined)
    throw sispError('E_INTERNAL', 'missing user record');
  let key = await context.store.getKey(image.id, user);
  if (key === undefined && image.audience === 'public') {
    const serverCopy = await context.store.getKey(image.id, SERVER_RECIPIENT);
    if (serverCopy === undefined)
      throw sispError('E_INTERNAL', 'public image without a server key');
    const rewrapped = await rewrapContentKey(
      serverCopy,
      context.pki.wrapKey,
      image.id,
      requester.encryptionKey,
      user,
    );
    key = { recipient: user, ...rewrapped };
  }
  if (key === undefined) throw sispError('E_NOT_FOUND', 'no such image');
  await session.send('download.begin', message.id, {
    manifest: image.manifest,
    signature: image.signature,
    certificate: owner.certificate,
    key: { enc: key.enc, ct: key.ct },
  });
  const pieceSize = Math.min(MAX_CHUNK_DATA, context.config.limits.maxFrame - 1024);
  const file = await context.blobs.openForReading(image.sha256);
  const pool = new FramePool(pieceSize);
  let sent = 0;
  let lastSend: Promise<void> = Promise.resolve();
  try {
    while (sent < image.ctLength) {
      const amount = await transfer.take(Math.min(pieceSize, image.ctLength - sent));
      if (transfer.cancelled || session.state === 'closed') return;
      // Read straight into the frame buffer, after room for its header: no copies.
      const frame = pool.take(HEADER_ROOM + amount);
      const { bytesRead } = await file.read(frame, HEADER_ROOM, amount, sent);
      if (bytesRead !== amount)
        throw sispError('E_INTERNAL', 'stored image is shorter than recorded');
      const header = chunkFrameHeader('download.chunk', message.id, amount);
      frame.set(header, HEADER_ROOM - header.length);
      lastSend = session.sendFrame(frame.subarray(HEADER_ROOM - header.length));
      void lastSend.then(() => {
        // Reused only while the connection lives: a closed socket may drop it half sent.
        if (session.state !== 'closed') pool.give(frame);
      });
      sent += amount;
      // Credit bounds what the client must hold; this bounds what we queue locally.
      if (session.bufferedAmount > SEND_HIGH_WATER) await lastSend;
    }
  } finally {
    await file.close();
  }
  await lastSend;
  if (sent !== image.ctLength) throw sispError('E_INTERNAL', 'stored image has the wrong length');
  await session.send('download.end', message.id, {});
  context.log.info(
    {
      event: 'download',
      session: session.id,
      user,
      owner: image.owner,
      name: image.name,
      image: toHex(image.id),
      bytes: sent,
    },
    'image downloaded',
  );
}
