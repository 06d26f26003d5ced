/**
 * One connection: the handshake state machine, ordered message handling, timeouts,
 * and which failures close the connection (docs/PROTOCOL.md 2.1). Requests are
 * answered by the handler table; every failure is answered on its request's id for
 * this connection only. Nothing here can affect other sessions.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../protocol/frame.js';
import { CLOSING_CODES, isSispError, sispError, type SispError } from '../protocol/errors.js';
import {
  NONCE_LENGTH,
  SUPPORTED_VERSIONS,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';
import type { ServerContext } from './context.js';
import type { NewImageEvent } from './events/types.js';
import { HANDSHAKE_HANDLERS, REQUEST_HANDLERS } from './handlers/index.js';
import {
  HANDSHAKE_TYPES,
  REQUEST_TYPES,
  type HandshakeContext,
  type HandshakeType,
  type RequestContext,
  type RequestType,
  type SessionInfo,
} from './request.js';
import { Transfers } from './transfers.js';

/** Messages that cost no rate-limit token (chunks and credit are governed by flow control). */
const FREE: ReadonlySet<MessageType> = new Set(['post.chunk', 'credit']);
const MAX_QUEUED = 64;
/** WebSocket close codes. */
const POLICY = 1008;
const GOING_AWAY = 1001;

export type SessionState = 'hello' | 'handshake' | 'ready' | 'closed';

const isHandshake = (type: MessageType): type is HandshakeType =>
  (HANDSHAKE_TYPES as readonly string[]).includes(type);
const isRequest = (type: MessageType): type is RequestType =>
  (REQUEST_TYPES as readonly string[]).includes(type);

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
  readonly info: SessionInfo;
  readonly services: ServerContext;
  state: SessionState = 'hello';
  user: string | undefined;
  readonly transfers: Transfers;

  readonly #ws: WebSocket;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #handshakeTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;
  #pingTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(ws: WebSocket, services: ServerContext, remote: string) {
    this.#ws = ws;
    this.services = services;
    this.info = { id: randomUUID(), remote, nonce: new Uint8Array(randomBytes(NONCE_LENGTH)) };
    const limits = services.config.limits;
    this.transfers = new Transfers(limits.transfersPerConnection);
    this.#handshakeTimer = setTimeout(() => {
      this.#connectionError(sispError('E_TIMEOUT', 'the handshake took too long'));
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
      services.log.info(
        { event: 'connection.error', session: this.info.id, reason: error.message },
        'connection error',
      );
    });
    services.log.info({ event: 'connect', session: this.info.id, remote }, 'connection opened');
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

  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.#ws.close(code, reason);
    // A peer that ignores the close handshake is cut off.
    setTimeout(() => {
      this.#ws.terminate();
    }, 2000).unref();
  }

  /** Server shutdown: end transfers (each told why), tell the peer, close. */
  async shutdown(): Promise<void> {
    const unavailable = sispError('E_UNAVAILABLE', 'the server is shutting down');
    for (const id of await this.transfers.endAll(unavailable)) this.#answer(id, unavailable);
    this.#connectionError(unavailable, GOING_AWAY);
  }

  /** An error about the whole connection: pushed with id 0, then the connection closes. */
  #connectionError(error: SispError, code = POLICY): void {
    if (this.state === 'closed') return;
    const body: MessageBody<'error'> = { code: error.code, message: error.message.slice(0, 512) };
    void this.send(
      'error',
      0,
      error.code === 'E_VERSION' ? { ...body, supported: [...SUPPORTED_VERSIONS] } : body,
    );
    this.close(code, error.code);
  }

  /** Sends an error reply for request `id`. */
  #answer(id: number, error: SispError): void {
    const body: MessageBody<'error'> = { code: error.code, message: error.message.slice(0, 512) };
    void this.send(
      'error',
      id,
      error.code === 'E_VERSION' ? { ...body, supported: [...SUPPORTED_VERSIONS] } : body,
    );
  }

  #touch(): void {
    clearTimeout(this.#idleTimer);
    this.#idleTimer = setTimeout(() => {
      this.services.log.info({ event: 'idle', session: this.info.id }, 'idle connection closed');
      this.close(1000, 'idle');
    }, this.services.config.limits.idleTimeoutMs);
  }

  #receive(data: Buffer, isBinary: boolean): void {
    this.#touch();
    if (this.state === 'closed') return;
    if (!isBinary) {
      this.#connectionError(sispError('E_BAD_FRAME', 'only binary messages are allowed'));
      return;
    }
    const result = decodeFrame(data, {
      maxFrame: this.services.config.limits.maxFrame,
      maxDepth: 8,
    });
    if (!result.ok) {
      this.#undecodable(result.error, result.id);
      return;
    }
    const message = result.message;
    if (message.id === 0) {
      this.#connectionError(sispError('E_BAD_FRAME', 'request id 0 is reserved for server pushes'));
      return;
    }
    if (this.state === 'ready' && this.#flowControl(message)) return;
    this.#enqueue(message);
  }

  /**
   * A frame that did not decode. Its id readable and the frame well formed, only a
   * field wrong (a request-level error): answered on that id. Anything else: the
   * peer is not speaking SISP/2 and the connection ends.
   */
  #undecodable(error: SispError, id: number | undefined): void {
    this.services.log.info(
      {
        event: 'bad_frame',
        session: this.info.id,
        code: error.code,
        detail: error.detail ?? error.message,
      },
      'bad frame',
    );
    if (
      id !== undefined &&
      id !== 0 &&
      !CLOSING_CODES.has(error.code) &&
      error.code !== 'E_TOO_LARGE'
    ) {
      this.#answer(id, error);
      void this.transfers.end(id, error);
      return;
    }
    this.#connectionError(error);
  }

  /** Credit and chunk admission, before the queue. Returns true if the frame is handled. */
  #flowControl(message: Message): boolean {
    if (message.type === 'credit') {
      // Credit must never wait behind a stalled upload write: it is what unblocks downloads.
      const refused = this.transfers.credit(message.id, message.body.bytes);
      if (refused !== undefined) this.requestFailed(message.id, message.type, refused);
      return true;
    }
    if (message.type !== 'post.chunk') return false;
    // A chunk for no upload: the upload just ended (with an error already answered)
    // and this one was in flight. Dropped quietly; credit bounds how many there are.
    if (this.transfers.upload(message.id) === undefined) return true;
    const refused = this.transfers.admitChunk(message.id, message.body.data.length);
    if (refused !== undefined) {
      this.requestFailed(message.id, message.type, refused);
      return true;
    }
    return false;
  }

  #enqueue(message: Message): void {
    this.#queued++;
    if (this.#queued > MAX_QUEUED) this.#ws.pause();
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#dispatch(message);
      } catch (error) {
        this.requestFailed(message.id, message.type, error);
      } finally {
        this.#queued--;
        if (this.#queued <= MAX_QUEUED / 2 && this.#ws.isPaused) this.#ws.resume();
      }
    });
  }

  async #dispatch(message: Message): Promise<void> {
    if (this.state === 'closed') return;
    const user = this.user;
    if (this.state !== 'ready' || user === undefined) {
      if (!isHandshake(message.type)) throw sispError('E_AUTH', 'authenticate first');
      const handler = HANDSHAKE_HANDLERS[message.type] as (
        context: HandshakeContext,
        message: Message,
      ) => Promise<void>;
      await handler(this.#handshakeContext(message.id), message);
      return;
    }
    if (isHandshake(message.type))
      throw sispError('E_BAD_REQUEST', 'this session is already authenticated');
    if (!isRequest(message.type))
      throw sispError('E_BAD_REQUEST', `${message.type} is not a request`);
    if (!FREE.has(message.type) && !this.services.rateLimiter.take(user))
      throw sispError('E_RATE_LIMITED', 'too many requests; slow down');
    const handler = REQUEST_HANDLERS[message.type] as (
      context: RequestContext,
      message: Message,
    ) => Promise<void>;
    await handler(this.#requestContext(message.id, message.type, user), message);
  }

  #handshakeContext(id: number): HandshakeContext {
    return {
      id,
      session: this.info,
      services: this.services,
      state: this.state === 'hello' ? 'hello' : 'handshake',
      send: (type, body) => this.send(type, id, body),
      welcomed: () => {
        this.state = 'handshake';
      },
      authenticated: (user) => {
        this.#authenticated(user);
      },
    };
  }

  #requestContext(id: number, type: MessageType, user: string): RequestContext {
    const isClosed = (): boolean => this.state === 'closed';
    const queued = (): number => this.#ws.bufferedAmount;
    return {
      id,
      user,
      session: this.info,
      services: this.services,
      transfers: this.transfers,
      send: (kind, body) => this.send(kind, id, body),
      sendFrame: (frame) => this.sendFrame(frame),
      get closed() {
        return isClosed();
      },
      get bufferedAmount() {
        return queued();
      },
      fail: (error) => {
        this.requestFailed(id, type, error);
      },
    };
  }

  #authenticated(user: string): void {
    this.user = user;
    this.state = 'ready';
    clearTimeout(this.#handshakeTimer);
    this.#unsubscribe = this.services.events.subscribe((event) => {
      this.#notify(event);
    });
  }

  /**
   * Answers request `id` after a failure and ends its transfer: a SispError as it is
   * (logged when it carries detail), anything else as E_INTERNAL with the cause in
   * the log only. Closes the connection when the code says the peer can't be trusted
   * to speak the protocol, or when auth or register failed.
   */
  requestFailed(id: number, type: MessageType, error: unknown): void {
    const failure = this.#describe(type, error);
    this.#answer(id, failure);
    void this.transfers.end(id, failure);
    const failedLogin = (type === 'auth' || type === 'register') && failure.code === 'E_AUTH';
    if (CLOSING_CODES.has(failure.code) || failedLogin) this.close(POLICY, failure.code);
  }

  #describe(type: MessageType, error: unknown): SispError {
    const log = this.services.log;
    if (isSispError(error)) {
      if (error.code === 'E_INTERNAL' || error.detail !== undefined) {
        log.warn(
          {
            event: 'request.error',
            session: this.info.id,
            type,
            code: error.code,
            detail: error.detail,
          },
          'request failed',
        );
      }
      return error;
    }
    log.error(
      {
        event: 'internal_error',
        session: this.info.id,
        type,
        err: error instanceof Error ? error.message : 'unknown',
      },
      'internal error',
    );
    return sispError('E_INTERNAL', 'the server could not complete the request');
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
    void this.transfers.endAll();
    this.services.log.info(
      { event: 'disconnect', session: this.info.id, user: this.user, clean: wasOpen },
      'connection closed',
    );
  }
}
