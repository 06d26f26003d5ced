/**
 * Posting an image in one pass over its source: declare it (post.begin, with the
 * content key wrapped for the audience), stream the C2SP envelope within the
 * server's credit while hashing it, then send the signed manifest, which commits to
 * that digest (post.end). Memory stays flat whatever the size: the frames being
 * filled, plus what the transport holds.
 */
import { generateContentKey, sealedLength } from '../crypto/envelope.js';
import { wrapContentKey, SERVER_RECIPIENT } from '../crypto/hpke.js';
import {
  canonicalAudience,
  encodeManifest,
  signManifest,
  type Audience,
} from '../crypto/manifest.js';
import { sha256Digest } from '../crypto/hash.js';
import { sealThumbnail } from '../crypto/thumbnail.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { concatBytes } from '../protocol/bytes.js';
import { CreditWindow } from '../protocol/credit-window.js';
import { isSispError, sispError } from '../protocol/errors.js';
import { chunkFrameHeader } from '../protocol/frame.js';
import { FramePool, frameInPlace, HEADER_ROOM } from '../protocol/frame-pool.js';
import {
  IMAGE_ID_LENGTH,
  MAX_CHUNK_DATA,
  MAX_THUMBNAIL,
  type ContentType,
  type MessageBody,
} from '../protocol/messages.js';
import { normalizeImageName, normalizeUsername } from '../protocol/names.js';
import type { SispClient } from './client.js';
import { Replies } from './replies.js';
import { sealFrames } from './seal.js';
import type { ImageSource } from './source.js';

export interface PostRequest {
  readonly name: string;
  readonly source: ImageSource;
  /** Named recipients; absent means everyone. Naming only yourself makes it private to you. */
  readonly to?: readonly string[];
  readonly replace?: boolean;
  readonly onProgress?: (sent: number, total: number) => void;
  readonly signal?: AbortSignal;
  /** A small WebP of the image (at most 512 px on the long side), sealed and sent with it. */
  readonly thumbnail?: Uint8Array;
}

export interface PostResult {
  readonly image: Uint8Array;
  readonly name: string;
  readonly size: number;
  readonly contentType: ContentType;
  readonly audience: Audience;
  readonly created: number;
}

/** Keep at most this much queued on our side of the transport. */
const SEND_HIGH_WATER = 4 * 1024 * 1024;

/** The audience a `to` list means: everyone, or the named users (only yourself: private). */
export function audienceFor(owner: string, to: readonly string[] | undefined): Audience {
  if (to === undefined) return 'public';
  if (to.length === 0) throw sispError('E_BAD_REQUEST', 'name at least one recipient');
  const named = to.map((entry) => normalizeUsername(entry));
  const others = named.filter((user) => user !== owner);
  return canonicalAudience(others.length === 0 ? [owner] : others);
}

type KeyList = MessageBody<'post.begin'>['keys'];

async function wrapKeys(
  client: SispClient,
  key: Uint8Array,
  id: Uint8Array,
  audience: Audience,
): Promise<KeyList> {
  const suite = client.crypto.hpke;
  const own = await client.ownPublicKeys();
  const keys: KeyList = [
    {
      recipient: client.username,
      ...(await wrapContentKey(key, own.encryptionKey, id, client.username, { suite })),
    },
  ];
  if (audience === 'public') {
    const serverKey = await client.serverEncryptionKey();
    keys.push({
      recipient: SERVER_RECIPIENT,
      ...(await wrapContentKey(key, serverKey, id, SERVER_RECIPIENT, { suite })),
    });
    return keys;
  }
  const others = audience.filter((recipient) => recipient !== client.username);
  const peers = await peersOf(client, others);
  for (const [i, recipient] of others.entries()) {
    const peer = peers[i];
    if (peer === undefined) throw new Error('post: a recipient without a key');
    keys.push({
      recipient,
      ...(await wrapContentKey(key, peer.encryptionKey, id, recipient, { suite })),
    });
  }
  return keys;
}

/** Every recipient's verified keys; one error naming every user who does not exist. */
async function peersOf(
  client: SispClient,
  recipients: readonly string[],
): Promise<Awaited<ReturnType<SispClient['peer']>>[]> {
  const settled = await Promise.allSettled(recipients.map((recipient) => client.peer(recipient)));
  const missing = recipients.filter((_, i) => {
    const outcome = settled[i];
    return outcome?.status === 'rejected' && isSispError(outcome.reason, 'E_NOT_FOUND');
  });
  if (missing.length > 0)
    throw sispError(
      'E_NOT_FOUND',
      `no ${missing.length === 1 ? 'user' : 'users'} named ${missing.join(', ')}; nothing was posted`,
    );
  return settled.map((outcome) => {
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  });
}

export async function postImage(client: SispClient, request: PostRequest): Promise<PostResult> {
  const identity = client.requireIdentity();
  const name = normalizeImageName(request.name);
  const audience = audienceFor(client.username, request.to);
  const { source } = request;
  if (source.size > client.welcome.maxImage) {
    throw sispError(
      'E_TOO_LARGE',
      `the image is too large (${source.size} bytes; this server accepts up to ${client.welcome.maxImage})`,
    );
  }
  const upload = new Upload(client, source, request);
  const key = generateContentKey();
  try {
    const thumbnail =
      request.thumbnail === undefined
        ? undefined
        : await sealThumbnail(key, upload.id, request.thumbnail, client.crypto.aead);
    if (thumbnail !== undefined && thumbnail.length > MAX_THUMBNAIL)
      throw sispError('E_TOO_LARGE', 'the thumbnail is too large');
    await upload.begin(name, audience, await wrapKeys(client, key, upload.id, audience), thumbnail);
    const digest = await upload.stream(key);
    const created = Date.now();
    const manifest = encodeManifest({
      v: 1,
      id: upload.id,
      owner: client.username,
      name,
      type: source.contentType,
      size: source.size,
      ctLength: upload.ctLength,
      sha256: digest,
      created,
      audience,
      ...(thumbnail === undefined
        ? {}
        : {
            thumbnail: {
              type: 'image/webp' as const,
              ctLength: thumbnail.length,
              sha256: await sha256Digest(thumbnail),
            },
          }),
    });
    const signature = await signManifest(identity.signing.privateKey, manifest);
    const done = await upload.end(manifest, signature);
    return {
      image: upload.id,
      name,
      size: source.size,
      contentType: source.contentType,
      audience,
      created: done.created,
    };
  } catch (error) {
    await upload.abort();
    throw error;
  } finally {
    key.fill(0);
    upload.release();
  }
}

/** One upload on the wire: begin, chunks within credit, end. */
class Upload {
  readonly id = randomBytes(IMAGE_ID_LENGTH);
  readonly ctLength: number;
  readonly #client: SispClient;
  readonly #source: ImageSource;
  readonly #request: PostRequest;
  readonly #window: CreditWindow;
  readonly #replies: Replies;
  readonly #requestId: number;
  #settled = false;

  constructor(client: SispClient, source: ImageSource, request: PostRequest) {
    this.#client = client;
    this.#source = source;
    this.#request = request;
    this.ctLength = sealedLength(source.size);
    // The server's grants are the window; ours is only how much we may send.
    this.#window = new CreditWindow({ window: 1 });
    this.#replies = new Replies(this.#window);
    this.#requestId = client.connection.stream(this.#replies.receive);
    request.signal?.addEventListener('abort', this.#cancel, { once: true });
  }

  readonly #cancel = (): void => {
    this.#window.fail(sispError('E_CANCELLED', 'the post was cancelled'));
  };

  async begin(
    name: string,
    audience: Audience,
    keys: KeyList,
    thumbnail: Uint8Array | undefined,
  ): Promise<void> {
    this.#request.signal?.throwIfAborted();
    await this.#client.connection.send('post.begin', this.#requestId, {
      image: this.id,
      name,
      contentType: this.#source.contentType,
      size: this.#source.size,
      audience: audience === 'public' ? 'public' : [...audience],
      keys,
      replace: this.#request.replace === true,
      ...(thumbnail === undefined ? {} : { thumbnail }),
    });
    const ready = await this.#replies.expect('post.ready');
    this.#window.grant(ready.body.credit);
  }

  /** Seals and sends the whole envelope; returns its digest. */
  async stream(key: Uint8Array): Promise<Uint8Array> {
    const connection = this.#client.connection;
    const capacity = Math.min(MAX_CHUNK_DATA, this.#client.welcome.maxFrame - 1024);
    const pool = new FramePool(capacity);
    const frames = sealFrames(
      { source: this.#source, key, imageId: this.id, capacity, crypto: this.#client.crypto },
      pool,
    );
    const sender = new FrameSender(connection, this.#requestId, this.#window, (sent) => {
      this.#request.onProgress?.(sent, this.ctLength);
    });
    let digest: Uint8Array;
    try {
      for (;;) {
        const next = await frames.next();
        if (next.done === true) {
          digest = next.value;
          break;
        }
        await sender.send(next.value, pool);
      }
    } finally {
      // Closes the source if we leave early.
      await frames.return(new Uint8Array());
    }
    await sender.drained();
    if (sender.sent !== this.ctLength)
      throw sispError(
        'E_BAD_REQUEST',
        'the image changed while it was being uploaded; nothing was posted',
      );
    return digest;
  }

  async end(manifest: Uint8Array, signature: Uint8Array): Promise<MessageBody<'post.done'>> {
    await this.#client.connection.send('post.end', this.#requestId, { manifest, signature });
    const done = await this.#replies.expect('post.done');
    this.#settled = true;
    return done.body;
  }

  /** Tells the server to discard the upload, unless it already ended it. */
  async abort(): Promise<void> {
    if (this.#settled || this.#replies.errored) return;
    this.#settled = true;
    await this.#client.connection.send('post.abort', this.#requestId, {}).catch(() => undefined);
  }

  release(): void {
    this.#request.signal?.removeEventListener('abort', this.#cancel);
    this.#client.connection.release(this.#requestId);
  }
}

/** Sends chunk frames built in pool buffers, within the credit window. */
class FrameSender {
  sent = 0;
  #last: Promise<void> = Promise.resolve();

  constructor(
    readonly connection: SispClient['connection'],
    readonly id: number,
    readonly window: CreditWindow,
    readonly progress: (sent: number) => void,
  ) {}

  /** One frame buffer (HEADER_ROOM, then data), split if credit is short. */
  async send(frame: Uint8Array, pool: FramePool): Promise<void> {
    const filled = frame.length - HEADER_ROOM;
    let offset = 0;
    while (offset < filled) {
      const amount = await this.window.take(filled - offset);
      const bytes =
        offset === 0 && amount === filled
          ? frameInPlace(frame, 'post.chunk', this.id, amount)
          : // Less credit than a full frame (a small server window): send a part.
            concatBytes(
              chunkFrameHeader('post.chunk', this.id, amount),
              frame.subarray(HEADER_ROOM + offset, HEADER_ROOM + offset + amount),
            );
      this.#last = this.connection.sendFrame(bytes);
      offset += amount;
      this.sent += amount;
      this.progress(this.sent);
      if (this.connection.bufferedAmount > SEND_HIGH_WATER) await this.#last;
    }
    // Once the transport has taken all of it, the buffer can carry another frame.
    this.#last.then(
      () => {
        pool.give(frame);
      },
      () => undefined,
    );
  }

  drained(): Promise<void> {
    return this.#last;
  }
}
