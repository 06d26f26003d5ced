/**
 * Posting an image: seal it (C2SP envelope), sign the manifest, wrap the content key
 * for the audience, and stream the envelope within the server's credit. The file is
 * read twice with the same key and salt: once to learn the envelope's digest for the
 * manifest, once to send; memory stays flat whatever the size.
 */
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  EnvelopeEncryptor,
  generateContentKey,
  SALT_SIZE,
  sealedLength,
} from '../crypto/envelope.js';
import { wrapContentKey, SERVER_RECIPIENT } from '../crypto/hpke.js';
import { publicIdentity } from '../crypto/keys.js';
import {
  canonicalAudience,
  encodeManifest,
  envelopeContext,
  signManifest,
  type Manifest,
} from '../crypto/manifest.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import { equalBytes } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
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

const READ_SIZE = 256 * 1024;

/** Yields the envelope in pieces of at most `frameData` bytes. */
async function* envelopePieces(
  path: string,
  key: Uint8Array,
  salt: Uint8Array,
  context: Uint8Array,
  frameData: number,
): AsyncGenerator<Uint8Array> {
  const encryptor = await EnvelopeEncryptor.create({ key, context, salt, aead: nodeAes256Gcm });
  let batch: Uint8Array[] = [encryptor.header()];
  let batched = batch[0]?.length ?? 0;
  const flushIfFull = function* (): Generator<Uint8Array> {
    while (batched >= frameData) {
      const joined = Buffer.concat(batch);
      yield joined.subarray(0, frameData);
      const rest = joined.subarray(frameData);
      batch = rest.length > 0 ? [rest] : [];
      batched = rest.length;
    }
  };
  for await (const piece of createReadStream(path, {
    highWaterMark: READ_SIZE,
  }) as AsyncIterable<Buffer>) {
    for (const sealed of await encryptor.update(piece)) {
      batch.push(sealed);
      batched += sealed.length;
    }
    yield* flushIfFull();
  }
  batch.push(await encryptor.finish());
  batched += batch[batch.length - 1]?.length ?? 0;
  yield* flushIfFull();
  if (batched > 0) yield Buffer.concat(batch);
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
  const salt = randomBytes(SALT_SIZE);
  const context = envelopeContext(id);
  const frameData = Math.min(MAX_CHUNK_DATA, client.welcome.maxFrame - 1024);

  // Pass 1: the envelope's digest, which the manifest commits to.
  const hasher = nodeSha256();
  let ctLength = 0;
  for await (const piece of envelopePieces(options.path, key, salt, context, frameData)) {
    hasher.update(piece);
    ctLength += piece.length;
  }
  if (ctLength !== sealedLength(size))
    throw sispError('E_BAD_REQUEST', 'the file changed while it was being read');
  const sha256 = hasher.digest();

  const audience = recipients.length === 0 ? 'public' : canonicalAudience(recipients);
  const manifest: Manifest = {
    v: 1,
    id,
    owner: client.username,
    name,
    type: info.contentType,
    size,
    ctLength,
    sha256,
    created: Date.now(),
    audience,
  };
  const manifestBytes = encodeManifest(manifest);
  const signature = await signManifest(identity.signing.privateKey, manifestBytes);

  const own = await publicIdentity(identity);
  const keys: MessageBody<'post.begin'>['keys'] = [
    {
      recipient: client.username,
      ...(await wrapContentKey(key, own.encryptionKey, id, client.username)),
    },
  ];
  if (audience === 'public') {
    keys.push({
      recipient: SERVER_RECIPIENT,
      ...(await wrapContentKey(key, await client.serverEncryptionKey(), id, SERVER_RECIPIENT)),
    });
  } else {
    for (const recipient of audience) {
      const peer = await client.peer(recipient);
      keys.push({ recipient, ...(await wrapContentKey(key, peer.encryptionKey, id, recipient)) });
    }
  }

  const connection = client.connection;
  let credit = 0;
  let wake: (() => void) | undefined;
  const state: { failure: Error | undefined } = { failure: undefined };
  // Set by the message handler while we await; read through a call so narrowing cannot go stale.
  const failed = (): Error | undefined => state.failure;
  let done: ((message: Message) => void) | undefined;
  const finished = new Promise<Message>((resolve) => {
    done = resolve;
  });
  let ready: (() => void) | undefined;
  const readyPromise = new Promise<void>((resolve) => {
    ready = resolve;
  });
  const requestId = connection.stream((message) => {
    if (message.type === 'post.ready') {
      credit += message.body.credit;
      ready?.();
    } else if (message.type === 'credit') {
      credit += message.body.bytes;
      wake?.();
    } else if (message.type === 'post.done' || message.type === 'error') {
      if (message.type === 'error')
        state.failure = sispError(message.body.code, message.body.message);
      ready?.();
      wake?.();
      done?.(message);
    }
  });

  try {
    await connection.send('post.begin', requestId, {
      manifest: manifestBytes,
      signature,
      keys,
      replace: options.replace === true,
    });
    await readyPromise;
    if (state.failure !== undefined) throw state.failure;

    // Pass 2: send, within credit, checking the bytes are the ones we signed.
    const check = nodeSha256();
    let sent = 0;
    for await (const piece of envelopePieces(options.path, key, salt, context, frameData)) {
      check.update(piece);
      let offset = 0;
      while (offset < piece.length) {
        while (credit <= 0 && failed() === undefined) {
          await new Promise<void>((resolve) => {
            wake = resolve;
          });
        }
        const failure = failed();
        if (failure !== undefined) throw failure;
        const amount = Math.min(credit, piece.length - offset);
        credit -= amount;
        await connection.send('post.chunk', requestId, {
          data: piece.subarray(offset, offset + amount),
        });
        offset += amount;
        sent += amount;
        options.onProgress?.(sent, ctLength);
      }
    }
    if (sent !== ctLength || !equalBytes(check.digest(), sha256)) {
      await connection.send('post.abort', requestId, {}).catch(() => undefined);
      throw sispError(
        'E_BAD_REQUEST',
        'the file changed while it was being uploaded; nothing was posted',
      );
    }
    await connection.send('post.end', requestId, {});
    const reply = await finished;
    if (reply.type === 'error') throw sispError(reply.body.code, reply.body.message);
    if (reply.type !== 'post.done') throw sispError('E_BAD_FRAME', 'unexpected reply to post');
    return { image: id, name, size, contentType: info.contentType };
  } finally {
    key.fill(0);
    connection.release(requestId);
  }
}
