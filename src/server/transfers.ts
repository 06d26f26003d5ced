/**
 * The transfers in flight on one connection, and the flow control of each: the
 * one module that owns them. An upload admits data only within the credit it
 * granted (checked as frames arrive, before they queue) and grants more as data
 * reaches storage; a download sends only within the credit the client grants.
 * Whatever ends a request (its end, an error answered on its id, the connection
 * closing) ends its transfer here.
 */
import { sealedLength } from '../crypto/envelope.js';
import type { Hasher } from '../crypto/hash.js';
import { nodeSha256 } from '../node/aead.js';
import { CreditWindow } from '../protocol/credit-window.js';
import { sispError, type SispError } from '../protocol/errors.js';
import type { MessageBody } from '../protocol/messages.js';
import type { BlobUpload } from './blobs/types.js';
import type { KeyGrant } from './store/types.js';

export type Declared = MessageBody<'post.begin'>;

export class UploadTransfer {
  readonly declared: Declared;
  readonly ctLength: number;
  readonly keys: readonly KeyGrant[];
  readonly window: CreditWindow;
  readonly #blob: BlobUpload;
  readonly #hash: Hasher = nodeSha256();

  constructor(declared: Declared, keys: readonly KeyGrant[], blob: BlobUpload, window: number) {
    this.declared = declared;
    this.ctLength = sealedLength(declared.size);
    this.keys = keys;
    this.#blob = blob;
    // Never grant beyond the declared length: a chunk past it is then a credit violation.
    this.window = new CreditWindow({ window, total: this.ctLength });
  }

  /** Bytes taken so far (written or being written). */
  get received(): number {
    return this.#blob.length;
  }

  /**
   * Hashes and stores `data`. Resolves, once it is written, with the credit to grant
   * back (0 while less than half a window is waiting).
   */
  async write(data: Uint8Array): Promise<number> {
    if (this.received + data.length > this.ctLength)
      throw sispError('E_TOO_LARGE', 'more data than the declared size');
    this.#hash.update(data);
    await this.#blob.append(data);
    return this.window.release(data.length);
  }

  /** SHA-256 of everything received; call once, at the end. */
  digest(): Uint8Array {
    return this.#hash.digest();
  }

  commit(key: string): Promise<void> {
    return this.#blob.commit(key);
  }

  abort(): Promise<void> {
    return this.#blob.abort();
  }
}

export class DownloadTransfer {
  /** The client's grants; the server takes from them before each chunk. */
  readonly window = new CreditWindow({ window: 1 });

  constructor(initialCredit: number) {
    this.window.grant(initialCredit);
  }

  get cancelled(): boolean {
    return this.window.failed;
  }

  cancel(reason?: SispError): void {
    this.window.fail(reason);
  }
}

export class Transfers {
  readonly #limit: number;
  readonly #uploads = new Map<number, UploadTransfer>();
  readonly #downloads = new Map<number, DownloadTransfer>();

  constructor(limit: number) {
    this.#limit = limit;
  }

  get size(): number {
    return this.#uploads.size + this.#downloads.size;
  }

  /** Checks that request `id` may start a transfer now. */
  checkNew(id: number): void {
    if (this.#uploads.has(id) || this.#downloads.has(id))
      throw sispError('E_BAD_REQUEST', 'request id in use');
    if (this.size >= this.#limit)
      throw sispError('E_RATE_LIMITED', 'too many transfers on this connection');
  }

  addUpload(id: number, upload: UploadTransfer): void {
    this.checkNew(id);
    this.#uploads.set(id, upload);
  }

  upload(id: number): UploadTransfer | undefined {
    return this.#uploads.get(id);
  }

  /** Removes the upload (its end has come); the caller commits or aborts it. */
  takeUpload(id: number): UploadTransfer | undefined {
    const upload = this.#uploads.get(id);
    this.#uploads.delete(id);
    return upload;
  }

  addDownload(id: number, download: DownloadTransfer): void {
    this.checkNew(id);
    this.#downloads.set(id, download);
  }

  removeDownload(id: number, download: DownloadTransfer): void {
    if (this.#downloads.get(id) === download) this.#downloads.delete(id);
  }

  /** A chunk arrived for upload `id`: an error if there is none, or it is over credit. */
  admitChunk(id: number, length: number): SispError | undefined {
    const upload = this.#uploads.get(id);
    if (upload === undefined)
      return sispError('E_BAD_REQUEST', 'no upload in progress with that id');
    if (!upload.window.admit(length))
      return sispError('E_FLOW_CONTROL', 'sent more than the granted credit');
    return undefined;
  }

  /** Credit from the client for download `id`. */
  credit(id: number, bytes: number): SispError | undefined {
    const download = this.#downloads.get(id);
    if (download === undefined)
      return sispError('E_BAD_REQUEST', 'credit for no download in progress');
    download.window.grant(bytes);
    return undefined;
  }

  /** Ends whatever transfer runs under `id` (an error was answered on it). */
  async end(id: number, reason?: SispError): Promise<void> {
    this.#downloads.get(id)?.cancel(reason);
    this.#downloads.delete(id);
    const upload = this.takeUpload(id);
    await upload?.abort();
  }

  /** Ends every transfer; returns their ids. */
  async endAll(reason?: SispError): Promise<number[]> {
    const ids = [...this.#uploads.keys(), ...this.#downloads.keys()];
    await Promise.all(ids.map((id) => this.end(id, reason)));
    return ids;
  }
}
