/**
 * One connection: the handshake state machine, ordered message handling, timeouts,
 * and the transfers in flight. Every failure is answered with a typed error for this
 * connection only; protocol violations also close it. Nothing here can affect other
 * sessions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../protocol/frame.js';
import { isSispError, sispError, type ErrorCode, type SispError } from '../protocol/errors.js';
import {
  NONCE_LENGTH,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';
import type { ServerContext } from './context.js';
import type { NewImageEvent } from './events.js';
import { handleAccount } from './handlers/account.js';
import { DownloadTransfer, handleDownloadRequest } from './handlers/download.js';
import { handleQuery } from './handlers/query.js';
import { admitChunk, handleUpload, type UploadTransfer } from './handlers/upload.js';

/** Codes after which the connection is closed: the peer is not speaking the protocol. */
const FATAL: ReadonlySet<ErrorCode> = new Set(['E_BAD_FRAME', 'E_VERSION', 'E_AUTH', 'E_TIMEOUT']);
/** Messages that cost a rate-limit token (chunks and credit are governed by flow control). */
const FREE: ReadonlySet<MessageType> = new Set(['post.chunk', 'credit']);
const MAX_QUEUED = 64;

export type SessionState = 'hello' | 'handshake' | 'ready' | 'closed';

/** Each event is encoded once and the same bytes go to every session told of it. */
const eventFrames = new WeakMap<NewImageEvent, Uint8Array>();

function eventFrame(event: NewImageEvent): Uint8Array {
  let frame = eventFrames.get(event);
  if (frame === undefined) {
    frame = encodeFrame('event.new_image', 0, {
      image: event.image,
      name: event.name,
      owner: event.owner,
    });
    eventFrames.set(event, frame);
  }
  return frame;
}

export class Session {
  readonly id = randomUUID();
  readonly nonce = new Uint8Array(randomBytes(NONCE_LENGTH));
  readonly context: ServerContext;
  readonly remote: string;
  state: SessionState = 'hello';
  user: string | undefined;
  readonly uploads = new Map<number, UploadTransfer>();
  readonly downloads = new Map<number, DownloadTransfer>();

  readonly #ws: WebSocket;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(ws: WebSocket, context: ServerContext, remote: string) {
    this.#ws = ws;
    this.context = context;
    this.remote = remote;
    const limits = context.config.limits;
    this.#handshakeTimer = setTimeout(() => {
      this.fail(0, sispError('E_TIMEOUT', 'the handshake took too long'));
    }, limits.handshakeTimeoutMs);
    this.#touch();
    this.#pingTimer = setInterval(
      () => {
        if (ws.readyState === ws.OPEN) ws.ping();
      },
      Math.max(1000, Math.floor(limits.idleTimeoutMs / 3)),
    );
    ws.on('pong', () => {
      this.#touch();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#receive(data, isBinary);
    });
    ws.on('close', () => {
      this.#closed();
    });
    ws.on('error', (error) => {
      context.log.info(
        { event: 'connection.error', session: this.id, reason: error.message },
        'connection error',
      );
    });
    context.log.info({ event: 'connect', session: this.id, remote }, 'connection opened');
  }

  send<T extends MessageType>(type: T, id: number, body: MessageBody<T>): Promise<void> {
    return this.sendFrame(encodeFrame(type, id, body));
  }

  /** Sends an already encoded frame; resolves once it is handed to the socket. */
  sendFrame(frame: Uint8Array): Promise<void> {
    if (this.#ws.readyState !== this.#ws.OPEN) return Promise.resolve();
    return new Promise((resolve) => {
      this.#ws.send(frame, { binary: true }, () => {
        resolve();
      });
    });
  }

  /** Bytes queued for this connection and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** Answers a request with an error; fatal codes also close the connection. */
  fail(id: number, error: SispError): void {
    const code = error.code;
    void this.send('error', id, { code, message: error.message.slice(0, 512) });
    if (FATAL.has(code)) this.close(1008, code);
  }

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#ws.close(code, reason);
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => {
      this.#ws.terminate();
    }, 2000).unref();
  }

  authenticated(user: string): void {
    this.user = user;
    this.state = 'ready';
    clearTimeout(this.#handshakeTimer);
    this.#unsubscribe = this.context.events.subscribe((event) => {
      this.#notify(event);
    });
  }

  /** Server shutdown: abandon transfers, tell the peer, close. */
  async shutdown(): Promise<void> {
    for (const [id, upload] of this.uploads) {
      await upload.abort();
      void this.send('error', id, {
        code: 'E_UNAVAILABLE',
        message: 'The server is shutting down.',
      });
    }
    for (const [id, download] of this.downloads) {
      download.cancel();
      void this.send('error', id, {
        code: 'E_UNAVAILABLE',
        message: 'The server is shutting down.',
      });
    }
    this.close(1001, 'server shutting down');
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.context.log.info({ event: 'idle', session: this.id }, 'idle connection closed');
      this.close(1000, 'idle');
    }, this.context.config.limits.idleTimeoutMs);
  }

  #receive(data: Buffer, isBinary: boolean): void {
    this.#touch();
    if (this.state === 'closed') return;
    if (!isBinary) {
      this.fail(0, sispError('E_BAD_FRAME', 'only binary messages are allowed'));
      return;
    }
    const result = decodeFrame(data, {
      maxFrame: this.context.config.limits.maxFrame,
      maxDepth: 8,
    });
    if (!result.ok) {
      this.context.log.info(
        {
          event: 'bad_frame',
          session: this.id,
          code: result.error.code,
          detail: result.error.detail ?? result.error.message,
        },
        'bad frame',
      );
      // Anything undecodable ends the connection: the peer is not speaking SISP/2.
      void this.send('error', result.id ?? 0, {
        code: result.error.code,
        message: result.error.message.slice(0, 512),
      });
      this.close(1008, result.error.code);
      return;
    }
    const message = result.message;
    // Credit must never wait behind a stalled upload write: it is what unblocks downloads.
    if (message.type === 'credit') {
      this.#credit(message.id, message.body.bytes);
      return;
    }
    if (message.type === 'post.chunk' && this.state === 'ready') {
      const refused = admitChunk(this, message.id, message.body.data.length);
      if (refused !== undefined) {
        this.fail(message.id, refused);
        return;
      }
    }
    this.#queued++;
    if (this.#queued > MAX_QUEUED) this.#ws.pause();
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#dispatch(message);
      } catch (error) {
        this.#handlerFailed(message, error);
      } finally {
        this.#queued--;
        if (this.#queued <= MAX_QUEUED / 2 && this.#ws.isPaused) this.#ws.resume();
      }
    });
  }

  #credit(id: number, bytes: number): void {
    const download = this.downloads.get(id);
    if (download === undefined) {
      this.fail(id, sispError('E_BAD_REQUEST', 'credit for no download in progress'));
      return;
    }
    download.grant(bytes);
  }

  async #dispatch(message: Message): Promise<void> {
    if (this.state === 'closed') return;
    if (message.id === 0)
      throw sispError('E_BAD_REQUEST', 'request id 0 is reserved for server pushes');
    if (this.state !== 'ready') {
      await handleAccount(this, message);
      return;
    }
    const user = this.user ?? '';
    if (!FREE.has(message.type) && !this.context.rateLimiter.take(user)) {
      throw sispError('E_RATE_LIMITED', 'too many requests; slow down');
    }
    switch (message.type) {
      case 'post.begin':
      case 'post.chunk':
      case 'post.end':
      case 'post.abort':
        await handleUpload(this, message);
        return;
      case 'download':
        handleDownloadRequest(this, message);
        return;
      case 'list':
      case 'share':
      case 'cert.get':
        await handleQuery(this, message);
        return;
      default:
        await handleAccount(this, message);
    }
  }

  /**
   * Answers request `id` after a failure: a SispError as it is (logged when it
   * carries detail), anything else as E_INTERNAL with the cause in the log only.
   */
  requestFailed(id: number, type: string, error: unknown): void {
    if (isSispError(error)) {
      if (error.code === 'E_INTERNAL' || error.detail !== undefined) {
        this.context.log.warn(
          {
            event: 'request.error',
            session: this.id,
            type,
            code: error.code,
            detail: error.detail,
          },
          'request failed',
        );
      }
      this.fail(id, error);
      return;
    }
    this.context.log.error(
      {
        event: 'internal_error',
        session: this.id,
        type,
        err: error instanceof Error ? error.message : 'unknown',
      },
      'internal error',
    );
    this.fail(id, sispError('E_INTERNAL', 'the server could not complete the request'));
  }

  #handlerFailed(message: Message, error: unknown): void {
    this.requestFailed(message.id, message.type, error);
  }

  #notify(event: NewImageEvent): void {
    const user = this.user;
    if (user === undefined || this.state !== 'ready') return;
    if (event.notify !== 'public' && !event.notify.includes(user)) return;
    void this.sendFrame(eventFrame(event));
  }

  #closed(): void {
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    clearTimeout(this.#handshakeTimer);
    clearTimeout(this.#idleTimer);
    clearInterval(this.#pingTimer);
    this.#unsubscribe?.();
    for (const upload of this.uploads.values()) void upload.abort();
    this.uploads.clear();
    for (const download of this.downloads.values()) download.cancel();
    this.downloads.clear();
    this.context.log.info(
      { event: 'disconnect', session: this.id, user: this.user, clean: wasOpen },
      'connection closed',
    );
  }
}
