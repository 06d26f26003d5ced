/**
 * Posting an image in one pass over the file: declare it (post.begin, with the
 * content key wrapped for the audience), stream the C2SP envelope within the
 * server's credit while hashing it, then send the signed manifest, which commits to
 * that digest (post.end). Memory stays flat whatever the size: one frame being
 * filled, plus what the socket holds.
 */
import { stat } from 'node:fs/promises';
import { generateContentKey, sealedLength } from '../crypto/envelope.js';
import { wrapContentKey, SERVER_RECIPIENT } from '../crypto/hpke.js';
import { canonicalAudience, encodeManifest, signManifest } from '../crypto/manifest.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { FramePool, HEADER_ROOM } from '../node/frame-pool.js';
import { concatBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { chunkFrameHeader } from '../protocol/frame.js';
import {
  IMAGE_ID_LENGTH,
  MAX_CHUNK_DATA,
  type Message,
  type MessageBody,
} from '../protocol/messages.js';
import { normalizeImageName, normalizeUsername } from '../protocol/names.js';
import type { SispClient } from './client.js';
import { inspectImage } from './image.js';
import { sealFile } from './seal-file.js';

export interface PostOptions {
  readonly name: string;
  readonly path: string;
  readonly to?: readonly string[];
  readonly replace?: boolean;
  readonly onProgress?: (sent: number, total: number) => void;
}

export interface PostResult {
  readonly image: Uint8Array;
  readonly name: string;
  readonly size: number;
  readonly contentType: string;
}

/** Keep at most this much queued on our side of the socket. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;

/** Replies and credit for one upload, fed by the connection's message handler. */
class UploadState {
  credit = 0;
  failure: Error | undefined;
  #wake: (() => void) | undefined;
  #replies: Message[] = [];

  receive(message: Message): void {
    if (message.type === 'post.ready') this.credit += message.body.credit;
    else if (message.type === 'credit') this.credit += message.body.bytes;
    else if (message.type === 'error')
      this.failure = sispError(message.body.code, message.body.message);
    if (message.type !== 'credit') this.#replies.push(message);
    this.#wake?.();
  }

  async next(): Promise<Message> {
    for (;;) {
      const reply = this.#replies.shift();
      if (reply !== undefined) return reply;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Waits for credit; returns how much may be sent now. Throws if the server refused. */
  async take(wanted: number): Promise<number> {
    while (this.credit <= 0 && this.failure === undefined) {
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
    if (this.failure !== undefined) throw this.failure;
    const amount = Math.min(wanted, this.credit);
    this.credit -= amount;
    return amount;
  }
}

async function wrapKeys(
  client: SispClient,
  key: Uint8Array,
  id: Uint8Array,
  audience: 'public' | readonly string[],
): Promise<MessageBody<'post.begin'>['keys']> {
  const own = await client.ownPublicKeys();
  const keys: MessageBody<'post.begin'>['keys'] = [
    {
      recipient: client.username,
      ...(await wrapContentKey(key, own.encryptionKey, id, client.username)),
    },
  ];
  if (audience === 'public') {
    const serverKey = await client.serverEncryptionKey();
    keys.push({
      recipient: SERVER_RECIPIENT,
      ...(await wrapContentKey(key, serverKey, id, SERVER_RECIPIENT)),
    });
  } else {
    for (const recipient of audience) {
      const peer = await client.peer(recipient);
      keys.push({ recipient, ...(await wrapContentKey(key, peer.encryptionKey, id, recipient)) });
    }
  }
  return keys;
}

export async function postImage(client: SispClient, options: PostOptions): Promise<PostResult> {
  const identity = client.identity;
  if (identity === undefined) throw sispError('E_AUTH', 'not logged in');
  const name = normalizeImageName(options.name);
  const recipients = (options.to ?? [])
    .map((entry) => normalizeUsername(entry))
    .filter((user) => user !== client.username);
  const info = await inspectImage(options.path);
  const size = (await stat(options.path)).size;
  if (size > client.welcome.maxImage) {
    throw sispError(
      'E_TOO_LARGE',
      `the image is too large (${size} bytes; this server accepts up to ${client.welcome.maxImage})`,
    );
  }
  const id = randomBytes(IMAGE_ID_LENGTH);
  const key = generateContentKey();
  const ctLength = sealedLength(size);
  const audience = recipients.length === 0 ? ('public' as const) : canonicalAudience(recipients);
  const connection = client.connection;
  const state = new UploadState();
  const requestId = connection.stream((message) => {
    state.receive(message);
  });
  try {
    await connection.send('post.begin', requestId, {
      image: id,
      name,
      contentType: info.contentType,
      size,
      audience: audience === 'public' ? 'public' : [...audience],
      keys: await wrapKeys(client, key, id, audience),
      replace: options.replace === true,
    });
    const ready = await state.next();
    if (ready.type === 'error') throw sispError(ready.body.code, ready.body.message);
    if (ready.type !== 'post.ready')
      throw sispError('E_BAD_FRAME', `unexpected ${ready.type} during a post`);

    const capacity = Math.min(MAX_CHUNK_DATA, client.welcome.maxFrame - 1024);
    const pool = new FramePool(capacity);
    const frames = sealFile({ path: options.path, key, imageId: id, size, capacity }, pool);
    let sent = 0;
    let lastSend: Promise<void> = Promise.resolve();
    /** Sends one frame buffer (HEADER_ROOM, then data), split if credit is short. */
    const send = async (frame: Uint8Array): Promise<void> => {
      const filled = frame.length - HEADER_ROOM;
      let offset = 0;
      while (offset < filled) {
        const amount = await state.take(filled - offset);
        const header = chunkFrameHeader('post.chunk', requestId, amount);
        let bytes: Uint8Array;
        if (offset === 0 && amount === filled) {
          frame.set(header, HEADER_ROOM - header.length);
          bytes = frame.subarray(HEADER_ROOM - header.length);
        } else {
          // Less credit than a full frame (a small server window): send a part.
          bytes = concatBytes(
            header,
            frame.subarray(HEADER_ROOM + offset, HEADER_ROOM + offset + amount),
          );
        }
        lastSend = connection.sendFrame(bytes);
        offset += amount;
        sent += amount;
        options.onProgress?.(sent, ctLength);
        if (connection.bufferedAmount > SEND_HIGH_WATER) await lastSend;
      }
      // Once the socket has taken all of it, the buffer can carry another frame.
      lastSend.then(
        () => {
          pool.give(frame);
        },
        () => undefined,
      );
    };
    let digest: Uint8Array;
    try {
      for (;;) {
        const next = await frames.next();
        if (next.done === true) {
          digest = next.value;
          break;
        }
        await send(next.value);
      }
    } finally {
      // Closes the file if we leave early.
      await frames.return(new Uint8Array());
    }
    await lastSend;
    if (sent !== ctLength) {
      await connection.send('post.abort', requestId, {}).catch(() => undefined);
      throw sispError(
        'E_BAD_REQUEST',
        'the file changed while it was being uploaded; nothing was posted',
      );
    }

    const manifest = encodeManifest({
      v: 1,
      id,
      owner: client.username,
      name,
      type: info.contentType,
      size,
      ctLength,
      sha256: digest,
      created: Date.now(),
      audience,
    });
    const signature = await signManifest(identity.signing.privateKey, manifest);
    await connection.send('post.end', requestId, { manifest, signature });
    const reply = await state.next();
    if (reply.type === 'error') throw sispError(reply.body.code, reply.body.message);
    if (reply.type !== 'post.done')
      throw sispError('E_BAD_FRAME', `unexpected ${reply.type} during a post`);
    return { image: id, name, size, contentType: info.contentType };
  } catch (error) {
    if (state.failure === undefined)
      await connection.send('post.abort', requestId, {}).catch(() => undefined);
    throw error;
  } finally {
    key.fill(0);
    connection.release(requestId);
  }
}
