/**
 * The transfers in flight on one connection, and the flow control of each: the
 * one module that owns them. An upload admits data only within the credit it
 * granted (checked as frames arrive, before they queue) and grants more as data
 * reaches storage, out of a server-wide credit budget; a download sends only within
 * the credit the client grants. Each transfer holds one of its user's transfer
 * slots. Whatever ends a request (its end, an error answered on its id, a stall,
 * the connection closing) ends its transfer here, and gives back what it held.
 */
import { equalBytes } from '../protocol/bytes.js';
import { sealedLength } from '../crypto/envelope.js';
import { CreditWindow } from '../protocol/credit-window.js';
import { sispError, type SispError } from '../protocol/errors.js';
import type { MessageBody } from '../protocol/messages.js';
import type { BlobUpload } from './blobs/types.js';
import type { ByteBudget } from './budget.js';
import type { KeyGrant } from './store/types.js';

export type Declared = MessageBody<'post.begin'>;

export class UploadTransfer {
  readonly declared: Declared;
  readonly ctLength: number;
  readonly keys: readonly KeyGrant[];
  readonly window: CreditWindow;
  readonly #blob: BlobUpload;
  readonly #budget: ByteBudget;
  /** Credit granted and not yet written: what this upload holds of the budget. */
  #held = 0;
  /** Bytes written to the blob. */
  #written = 0;
  /** Set once the upload is committed or aborted. */
  readonly #ended = { aborted: false };
  /** When data last arrived (or credit was last granted). */
  lastActivity = Date.now();

  constructor(
    declared: Declared,
    keys: readonly KeyGrant[],
    blob: BlobUpload,
    window: number,
    budget: ByteBudget,
  ) {
    this.declared = declared;
    this.ctLength = sealedLength(declared.size);
    this.keys = keys;
    this.#blob = blob;
    this.#budget = budget;
    // Never grant beyond the declared length: a chunk past it is then a credit violation.
    this.window = new CreditWindow({ window, total: this.ctLength });
  }

  /** The first grant, taken from the budget (waiting for it if the server is busy). */
  async initialCredit(): Promise<number> {
    const first = this.window.initial();
    await this.#hold(first);
    return first;
  }

  /** Takes `bytes` of the budget for this upload; given straight back if it ended meanwhile. */
  async #hold(bytes: number): Promise<void> {
    await this.#budget.take(bytes, this.#ended);
    if (this.#ended.aborted) this.#budget.give(bytes);
    else this.#held += bytes;
  }

  /** Bytes taken so far (written or being written). */
  get received(): number {
    return this.#blob.length;
  }

  /** True while the client has credit it has not used. */
  get waitingForData(): boolean {
    return this.#held > this.received - this.#written;
  }

  /**
   * Stores `data`. Resolves, once it is written, with the credit to grant
   * back (0 while less than half a window is waiting).
   */
  async write(data: Uint8Array): Promise<number> {
    if (this.received + data.length > this.ctLength)
      throw sispError('E_TOO_LARGE', 'more data than the declared size');
    this.lastActivity = Date.now();
    await this.#blob.append(data);
    this.#written += data.length;
    this.#held -= data.length;
    this.#budget.give(data.length);
    const grant = this.window.release(data.length);
    if (grant > 0) {
      await this.#hold(grant);
      this.lastActivity = Date.now();
    }
    return grant;
  }

  /** The key the blob is stored under. */
  get blobKey(): string {
    return this.#blob.key;
  }

  async commit(): Promise<void> {
    this.#giveBack();
    await this.#blob.commit();
  }

  async abort(): Promise<void> {
    this.#giveBack();
    await this.#blob.abort();
  }

  #giveBack(): void {
    this.#ended.aborted = true;
    this.#budget.give(this.#held);
    this.#held = 0;
  }
}

export class DownloadTransfer {
  /** The client's grants; the server takes from them before each chunk. */
  readonly window = new CreditWindow({ window: 1 });
  /** The image being sent, once resolved: its deletion ends this transfer. */
  image: Uint8Array | undefined;

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

/** A user's share of transfers, server-wide. */
export interface TransferSlots {
  take(): boolean;
  give(): void;
}

export class Transfers {
  readonly #limit: number;
  readonly #slots: TransferSlots;
  readonly #uploads = new Map<number, UploadTransfer>();
  readonly #downloads = new Map<number, DownloadTransfer>();

  constructor(limit: number, slots: TransferSlots) {
    this.#limit = limit;
    this.#slots = slots;
  }

  get size(): number {
    return this.#uploads.size + this.#downloads.size;
  }

  get uploads(): number {
    return this.#uploads.size;
  }

  get downloads(): number {
    return this.#downloads.size;
  }

  /** Checks that request `id` may start a transfer now. */
  checkNew(id: number): void {
    if (this.#uploads.has(id) || this.#downloads.has(id))
      throw sispError('E_BAD_REQUEST', 'request id in use');
    if (this.size >= this.#limit)
      throw sispError('E_RATE_LIMITED', 'too many transfers on this connection');
  }

  #takeSlot(id: number): void {
    this.checkNew(id);
    if (!this.#slots.take())
      throw sispError('E_RATE_LIMITED', 'too many transfers for this user at once');
  }

  addUpload(id: number, upload: UploadTransfer): void {
    this.#takeSlot(id);
    this.#uploads.set(id, upload);
  }

  upload(id: number): UploadTransfer | undefined {
    return this.#uploads.get(id);
  }

  /** Removes the upload (its end has come); the caller commits or aborts it. */
  takeUpload(id: number): UploadTransfer | undefined {
    const upload = this.#uploads.get(id);
    if (upload !== undefined) {
      this.#uploads.delete(id);
      this.#slots.give();
    }
    return upload;
  }

  addDownload(id: number, download: DownloadTransfer): void {
    this.#takeSlot(id);
    this.#downloads.set(id, download);
  }

  removeDownload(id: number, download: DownloadTransfer): void {
    if (this.#downloads.get(id) !== download) return;
    this.#downloads.delete(id);
    this.#slots.give();
  }

  /** The request ids of downloads of `image` in progress. */
  /** Every download in progress whose image is known, as [request id, image id]. */
  downloadImages(): [number, Uint8Array][] {
    const found: [number, Uint8Array][] = [];
    for (const [id, download] of this.#downloads)
      if (download.image !== undefined) found.push([id, download.image]);
    return found;
  }

  downloadsOf(image: Uint8Array): number[] {
    const ids: number[] = [];
    for (const [id, download] of this.#downloads)
      if (download.image !== undefined && equalBytes(download.image, image)) ids.push(id);
    return ids;
  }

  /** A chunk arrived for upload `id`: an error if it is over the credit granted. */
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
    const download = this.#downloads.get(id);
    if (download !== undefined) {
      download.cancel(reason);
      this.removeDownload(id, download);
    }
    await this.takeUpload(id)?.abort();
  }

  /** Ends every transfer; returns their ids. */
  async endAll(reason?: SispError): Promise<number[]> {
    const ids = [...this.#uploads.keys(), ...this.#downloads.keys()];
    await Promise.all(ids.map((id) => this.end(id, reason)));
    return ids;
  }

  /** Uploads that have had credit to use and sent nothing for `ms`: their ids. */
  stalledUploads(ms: number, now = Date.now()): number[] {
    return [...this.#uploads]
      .filter(([, upload]) => upload.waitingForData && now - upload.lastActivity > ms)
      .map(([id]) => id);
  }
}
