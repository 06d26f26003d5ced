/**
 * Downloading an image, with every check of docs/PROTOCOL.md 4.2 in order: the
 * owner's certificate and pinned key, the manifest (which must name what was asked
 * for) and its signature, the wrapped key and the key commitment, every chunk tag,
 * then length and digest. Plaintext reaches the sink only from authenticated
 * chunks, and only commit() makes it appear; on any failure the sink aborts.
 */
import { decodeManifest, verifyManifest, type Manifest } from '../crypto/manifest.js';
import { equalBytes } from '../protocol/bytes.js';
import { CreditWindow } from '../protocol/credit-window.js';
import { isSispError, sispError, type SispError } from '../protocol/errors.js';
import type { Message, MessageBody } from '../protocol/messages.js';
import { imageNameKey } from '../protocol/names.js';
import type { SispClient } from './client.js';
import { readerKey } from './entitled.js';
import { EnvelopeReceiver } from './receive.js';
import type { ImageSink } from './sink.js';

/** Credit the client grants: what it is ready to hold of one download at once. */
export const DOWNLOAD_WINDOW = 8 * 1024 * 1024;

/**
 * By id (with the owner and name it is expected to have, when known), or by owner
 * and name. Whatever is given must match the signed manifest.
 */
export type ImageRef =
  | { readonly image: Uint8Array; readonly owner?: string; readonly name?: string }
  | { readonly owner: string; readonly name: string };

export interface DownloadOptions {
  readonly onProgress?: (received: number, total: number) => void;
  readonly signal?: AbortSignal;
}

export interface DownloadResult<R> {
  readonly manifest: Manifest;
  readonly ownerFingerprint: string;
  readonly result: R;
}

function tampered(why: string, cause?: unknown): SispError {
  return sispError('E_TAMPERED', `the image failed verification (${why}); nothing was written`, {
    cause,
  });
}

/** A failure in the sink rather than in what was received. */
function sinkFailure(error: unknown): SispError {
  if (isSispError(error)) return error;
  return sispError('E_INTERNAL', 'the downloaded image could not be kept; nothing was kept', {
    cause: error,
  });
}

function matchesRef(ref: ImageRef, manifest: Manifest): boolean {
  if ('image' in ref && !equalBytes(ref.image, manifest.id)) return false;
  if (ref.owner !== undefined && ref.owner !== manifest.owner) return false;
  // Names are one name whatever their case (PROTOCOL.md section 9).
  return ref.name === undefined || imageNameKey(ref.name) === imageNameKey(manifest.name);
}

export async function downloadImage<R>(
  client: SispClient,
  ref: ImageRef,
  sink: ImageSink<R>,
  options: DownloadOptions = {},
): Promise<DownloadResult<R>> {
  const download = new Download(client, ref, sink, options);
  return download.run();
}

class Download<R> {
  readonly #client: SispClient;
  readonly #ref: ImageRef;
  readonly #sink: ImageSink<R>;
  readonly #options: DownloadOptions;
  readonly #window = new CreditWindow({ window: DOWNLOAD_WINDOW });
  readonly #done: Promise<DownloadResult<R>>;
  #finish: ((result: DownloadResult<R>) => void) | undefined;
  #reject: ((error: SispError) => void) | undefined;
  #requestId = 0;
  /** Frames are handled strictly in order, one at a time. */
  #chain: Promise<void> = Promise.resolve();
  #failure: SispError | undefined;
  #manifest: Manifest | undefined;
  #ownerFingerprint = '';
  #receiver: EnvelopeReceiver | undefined;
  #sinkOpen = false;
  #received = 0;

  constructor(client: SispClient, ref: ImageRef, sink: ImageSink<R>, options: DownloadOptions) {
    this.#client = client;
    this.#ref = ref;
    this.#sink = sink;
    this.#options = options;
    this.#done = new Promise((resolve, reject) => {
      this.#finish = resolve;
      this.#reject = reject;
    });
  }

  async run(): Promise<DownloadResult<R>> {
    const connection = this.#client.connection;
    this.#client.requireIdentity();
    this.#options.signal?.throwIfAborted();
    const cancel = (): void => {
      void this.#fail(sispError('E_CANCELLED', 'the download was cancelled'));
    };
    this.#options.signal?.addEventListener('abort', cancel, { once: true });
    this.#requestId = connection.stream((message) => {
      this.#chain = this.#chain
        .then(() => this.#handle(message))
        .catch((e: unknown) => this.#fail(e));
    });
    try {
      const credit = this.#window.initial();
      const ref = this.#ref;
      await connection.send(
        'download',
        this.#requestId,
        'image' in ref
          ? { credit, image: ref.image }
          : { credit, owner: ref.owner, name: ref.name },
      );
      return await this.#done;
    } finally {
      this.#options.signal?.removeEventListener('abort', cancel);
      connection.release(this.#requestId);
      await this.#chain.catch(() => undefined);
    }
  }

  async #handle(message: Message): Promise<void> {
    if (this.#failure !== undefined) return;
    switch (message.type) {
      case 'download.begin':
        await this.#begin(message.body);
        return;
      case 'download.chunk':
        await this.#chunk(message.body.data);
        return;
      case 'download.end':
        await this.#end();
        return;
      case 'error':
        throw sispError(message.body.code, message.body.message);
      default:
        throw sispError('E_BAD_FRAME', `unexpected ${message.type} during a download`);
    }
  }

  /** The manifest names what was asked for; then certificate and pin, signature, wrapped key. */
  async #begin(body: MessageBody<'download.begin'>): Promise<void> {
    if (this.#manifest !== undefined) throw tampered('a second download.begin');
    let manifest: Manifest;
    try {
      manifest = decodeManifest(body.manifest);
    } catch (error) {
      throw tampered('malformed manifest', error);
    }
    if (!matchesRef(this.#ref, manifest)) throw tampered('the server sent a different image');
    const owner = await this.#client.verifyPeer(body.certificate, manifest.owner);
    if (!(await verifyManifest(owner.signingKey, body.signature, body.manifest)))
      throw tampered("the owner's signature does not verify");
    // The owner meant us to read it (so the server cannot add a reader without them).
    const reader = {
      username: this.#client.username,
      encryptionKey: this.#client.requireIdentity().encryption.privateKey,
      hpke: this.#client.crypto.hpke,
    };
    const key = await readerKey(reader, manifest, owner.signingKey, body);
    if (key === null) throw tampered('its owner did not share it with you');
    this.#manifest = manifest;
    this.#ownerFingerprint = owner.fingerprint;
    this.#window.limitTo(manifest.ctLength);
    this.#receiver = new EnvelopeReceiver(
      { key, imageId: manifest.id, crypto: this.#client.crypto },
      this.#sink,
      {
        onWritten: (bytes) => {
          this.#credit(bytes);
        },
        onFailure: (error) => {
          void this.#fail(sinkFailure(error));
        },
      },
    );
    this.#sinkOpen = true;
    await this.#sink.begin({ manifest, ownerFingerprint: owner.fingerprint });
  }

  /** 4. Every chunk's tag; plaintext only ever reaches the sink. */
  async #chunk(data: Uint8Array): Promise<void> {
    const manifest = this.#manifest;
    if (this.#receiver === undefined || manifest === undefined)
      throw tampered('data before the manifest');
    if (!this.#window.admit(data.length))
      throw sispError('E_FLOW_CONTROL', 'the server sent more than the credit granted');
    this.#received += data.length;
    if (this.#received > manifest.ctLength) throw tampered('more data than the manifest declares');
    this.#options.onProgress?.(this.#received, manifest.ctLength);
    await this.#receiver.write(data);
  }

  /** 5. Length and digest; then the sink makes it appear. */
  async #end(): Promise<void> {
    const manifest = this.#manifest;
    const receiver = this.#receiver;
    if (receiver === undefined || manifest === undefined) throw tampered('end before the manifest');
    const received = await receiver.finish();
    if (this.#received !== manifest.ctLength) throw tampered('wrong length');
    if (!equalBytes(received.digest, manifest.sha256)) throw tampered('digest mismatch');
    if (received.written !== manifest.size) throw tampered('wrong plaintext size');
    this.#sinkOpen = false;
    const result = await this.#sink.commit().catch((error: unknown) => {
      throw sinkFailure(error);
    });
    this.#finish?.({ manifest, ownerFingerprint: this.#ownerFingerprint, result });
  }

  #credit(bytes: number): void {
    const grant = this.#window.release(bytes);
    if (grant === 0 || this.#failure !== undefined) return;
    this.#client.connection
      .send('credit', this.#requestId, { bytes: grant })
      .catch(() => undefined);
  }

  /** The first failure ends the download: nothing more is handled, the sink discards. */
  async #fail(error: unknown): Promise<void> {
    if (this.#failure !== undefined) return;
    const failure = isSispError(error) ? error : sinkFailure(error);
    this.#failure = failure;
    await this.#receiver?.settle();
    if (this.#sinkOpen) {
      this.#sinkOpen = false;
      await this.#sink.abort().catch(() => undefined);
    }
    this.#reject?.(failure);
  }
}
