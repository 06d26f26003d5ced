/**
 * Posting an image in one pass over the file: declare it (post.begin, with the
 * content key wrapped for the audience), stream the C2SP envelope within the
 * server's credit while hashing it, then send the signed manifest, which commits to
 * that digest (post.end). Memory stays flat whatever the size: one read buffer and
 * one frame at a time, plus what the socket holds.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { EnvelopeEncryptor, generateContentKey, sealedLength } from '../crypto/envelope.js';
import { wrapContentKey, SERVER_RECIPIENT } from '../crypto/hpke.js';
import {
  canonicalAudience,
  encodeManifest,
  envelopeContext,
  signManifest,
} from '../crypto/manifest.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
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

const READ_SIZE = 1024 * 1024;
/** Room for a chunk frame's header (at most 33 bytes) in front of its data. */
const HEADER_ROOM = 48;
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

    const hasher = nodeSha256();
    const capacity = Math.min(MAX_CHUNK_DATA, client.welcome.maxFrame - 1024);
    // Small images get a frame their size, not a full one: less to allocate and collect.
    const newFrame = (): Buffer =>
      Buffer.allocUnsafe(HEADER_ROOM + Math.min(capacity, ctLength - sent));
    let sent = 0;
    let frame = newFrame();
    let filled = 0;
    let lastSend: Promise<void> = Promise.resolve();

    const flush = async (): Promise<void> => {
      let offset = 0;
      while (offset < filled) {
        const amount = await state.take(filled - offset);
        const header = chunkFrameHeader('post.chunk', requestId, amount);
        let bytes: Uint8Array;
        if (offset === 0 && amount === filled) {
          frame.set(header, HEADER_ROOM - header.length);
          bytes = frame.subarray(HEADER_ROOM - header.length, HEADER_ROOM + filled);
        } else {
          // Less credit than a full frame (a small server window): send a part.
          bytes = Buffer.concat([
            header,
            frame.subarray(HEADER_ROOM + offset, HEADER_ROOM + offset + amount),
          ]);
        }
        lastSend = connection.sendFrame(bytes);
        offset += amount;
        sent += amount;
        options.onProgress?.(sent, ctLength);
        if (connection.bufferedAmount > SEND_HIGH_WATER) await lastSend;
      }
      filled = 0;
      if (sent < ctLength) frame = newFrame();
    };
    const pack = async (piece: Uint8Array): Promise<void> => {
      if (sent + filled + piece.length > ctLength)
        throw sispError('E_BAD_REQUEST', 'the file grew while it was being uploaded');
      hasher.update(piece);
      let offset = 0;
      while (offset < piece.length) {
        const room = frame.length - HEADER_ROOM;
        const take = Math.min(room - filled, piece.length - offset);
        frame.set(piece.subarray(offset, offset + take), HEADER_ROOM + filled);
        filled += take;
        offset += take;
        if (filled === room) await flush();
      }
    };

    const encryptor = await EnvelopeEncryptor.create({
      key,
      context: envelopeContext(id),
      aead: nodeAes256Gcm,
    });
    await pack(encryptor.header());
    for await (const piece of createReadStream(options.path, {
      highWaterMark: Math.max(1, Math.min(READ_SIZE, size)),
    }) as AsyncIterable<Buffer>) {
      for (const sealed of await encryptor.update(piece)) await pack(sealed);
    }
    await pack(await encryptor.finish());
    if (filled > 0) await flush();
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
      sha256: hasher.digest(),
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
