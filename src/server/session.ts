/**
 * One connection: the handshake state machine, ordered message handling, timeouts,
 * the bounds on what a peer can make the server hold, and which failures close the
 * connection (docs/PROTOCOL.md 2.1). Requests are answered by the handler table;
 * every failure is answered on its request's id, for this connection only.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import { decodeFrame, encodeFrame } from '../protocol/frame.js';
import { CLOSING_CODES, sispError, type SispError } from '../protocol/errors.js';
import {
  NONCE_LENGTH,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';
import type { ServerContext } from './context.js';
import { eventFrame, isToldOf } from './events/frames.js';
import type { ImageEvent } from './events/types.js';
import { describeFailure, errorBody } from './failure.js';
import { HANDSHAKE_HANDLERS, REQUEST_HANDLERS } from './handlers/index.js';
import { Outbox } from './outbox.js';
import { TokenBucket } from './rate-limit.js';
import { ReadGate } from './read-gate.js';
import {
  acceptedFrames,
  HANDSHAKE_TYPES,
  REQUEST_TYPES,
  type HandshakeContext,
  type HandshakeType,
  type RequestContext,
  type RequestType,
  type SessionInfo,
} from './request.js';
import { Transfers } from './transfers.js';

/** Messages that cost no request token (chunks and credit are governed by flow control). */
const FREE: ReadonlySet<MessageType> = new Set(['post.chunk', 'credit']);
/** Messages queued before reading stops: after, and before, authentication. */
const MAX_QUEUED = 64;
const MAX_QUEUED_HANDSHAKE = 4;
/** How often stalled readers and stalled uploads are looked for. */
const CHECK_EVERY_MS = 5000;
/** Errors that say a peer sent something malformed; too many close the connection. */
const PROTOCOL_ERRORS: ReadonlySet<string> = new Set([
  'E_BAD_REQUEST',
  'E_INVALID_NAME',
  'E_TOO_LARGE',
]);
/** Events read back in one catch-up; a watcher further behind resumes by position itself. */
const CATCH_UP_LIMIT = 1000;
/** WebSocket close codes. */
const POLICY = 1008;
const GOING_AWAY = 1001;

export type SessionState = 'hello' | 'handshake' | 'ready' | 'closed';

const isHandshake = (type: MessageType): type is HandshakeType =>
  (HANDSHAKE_TYPES as readonly string[]).includes(type);
const isRequest = (type: MessageType): type is RequestType =>
  (REQUEST_TYPES as readonly string[]).includes(type);

export class Session {
  readonly info: SessionInfo;
  readonly services: ServerContext;
  state: SessionState = 'hello';
  user: string | undefined;
  #signingKey: Uint8Array = new Uint8Array(0);
  readonly transfers: Transfers;

  readonly #ws: WebSocket;
  readonly #gate: ReadGate;
  readonly #outbox: Outbox;
  readonly #frames: TokenBucket;
  readonly #accepted: ReturnType<typeof acceptedFrames>;
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;
  #protocolErrors = 0;
  readonly #timers: { handshake?: NodeJS.Timeout; idle?: NodeJS.Timeout } = {};
  readonly #intervals: NodeJS.Timeout[] = [];
  #unsubscribe: (() => void) | undefined;
  /** Positions handled during a catch-up, live or from the log (each is handled once). */
  #catchingUp: Set<number> | undefined;
  /** The user whose connection count this session holds, once authenticated. */
  #counted: string | undefined;

  constructor(ws: WebSocket, services: ServerContext, remote: string) {
    this.#ws = ws;
    this.services = services;
    this.info = { id: randomUUID(), remote, nonce: new Uint8Array(randomBytes(NONCE_LENGTH)) };
    const limits = services.config.limits;
    this.#gate = new ReadGate(ws);
    this.#outbox = new Outbox(ws, this.#gate);
    this.#frames = new TokenBucket(limits.framesPerSecond, limits.frameBurst);
    this.#accepted = acceptedFrames(limits.maxFrame);
    this.transfers = new Transfers(limits.transfersPerConnection, {
      take: () => this.user !== undefined && services.occupancy.takeTransfer(this.user),
      give: () => {
        if (this.user !== undefined) services.occupancy.transfers.leave(this.user);
      },
    });
    this.#timers.handshake = setTimeout(() => {
      this.#connectionError(sispError('E_TIMEOUT', 'the handshake took too long'));
    }, limits.handshakeTimeoutMs);
    this.#touch();
    this.#startTimers(limits.idleTimeoutMs);
    ws.on('pong', () => {
      this.#touch();
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      services.metrics.bytes.inc({ direction: 'in' }, data.length);
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
    // Connections are logged once signed in; the rest are counted in summary, so a
    // flood of unauthenticated connections makes a line every few seconds, not one each.
  }

  #startTimers(idleTimeoutMs: number): void {
    const ws = this.#ws;
    const ping = setInterval(
      () => {
        if (ws.readyState === ws.OPEN) ws.ping();
      },
      Math.max(1000, Math.floor(idleTimeoutMs / 3)),
    );
    const check = setInterval(() => {
      this.#checkStalls();
    }, CHECK_EVERY_MS);
    this.#intervals.push(ping, check);
  }

  send<T extends MessageType>(type: T, id: number, body: MessageBody<T>): Promise<void> {
    return this.sendFrame(encodeFrame(type, id, body));
  }

  /** Sends an already encoded frame; resolves once it is handed to the socket. */
  sendFrame(frame: Uint8Array): Promise<void> {
    this.services.metrics.bytes.inc({ direction: 'out' }, frame.length);
    return this.#outbox.send(frame);
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
    for (const id of await this.transfers.endAll(unavailable))
      void this.send('error', id, errorBody(unavailable));
    this.#connectionError(unavailable, GOING_AWAY);
  }

  /** An error about the whole connection: pushed with id 0, then the connection closes. */
  #connectionError(error: SispError, code = POLICY): void {
    if (this.state === 'closed') return;
    void this.send('error', 0, errorBody(error));
    this.close(code, error.code);
  }

  #touch(): void {
    clearTimeout(this.#timers.idle);
    this.#timers.idle = setTimeout(() => {
      this.services.log.info({ event: 'idle', session: this.info.id }, 'idle connection closed');
      this.close(1000, 'idle');
    }, this.services.config.limits.idleTimeoutMs);
  }

  /** Output that does not move, and uploads that do not send, end. */
  #checkStalls(): void {
    const limits = this.services.config.limits;
    if (this.#outbox.stalledFor() > limits.stalledReaderMs) {
      this.services.log.info({ event: 'stalled', session: this.info.id }, 'peer not reading');
      this.close(POLICY, 'not reading');
      this.#ws.terminate();
      return;
    }
    const seconds = Math.round(limits.stalledUploadMs / 1000);
    for (const id of this.transfers.stalledUploads(limits.stalledUploadMs)) {
      const error = sispError('E_TIMEOUT', `the upload sent nothing for ${seconds} s`);
      this.requestFailed(id, 'post.chunk', error);
    }
  }

  /** Each frame costs a token; with none left, reading pauses until there is one again. */
  #throttle(): void {
    if (this.#frames.take() || this.#gate.holds('rate')) return;
    this.#gate.hold('rate');
    setTimeout(() => {
      this.#gate.release('rate');
    }, this.#frames.waitMs()).unref();
  }

  #receive(data: Buffer, isBinary: boolean): void {
    this.#touch();
    if (this.state === 'closed') return;
    this.#throttle();
    if (!isBinary) {
      this.#connectionError(sispError('E_BAD_FRAME', 'only binary messages are allowed'));
      return;
    }
    const result = decodeFrame(data, {
      maxFrame: this.services.config.limits.maxFrame,
      maxDepth: 8,
      accept: this.state === 'ready' ? this.#accepted.ready : this.#accepted.handshake,
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
   * field (or its type, or its size for that type) wrong: answered on that id. Anything
   * else: the peer is not speaking SISP/2, and the connection ends.
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
    if (id === undefined || id === 0 || CLOSING_CODES.has(error.code)) {
      this.#connectionError(error);
      return;
    }
    void this.send('error', id, errorBody(error));
    void this.transfers.end(id, error);
    this.#countProtocolError(error.code);
  }

  /** Malformed requests are answered; too many of them end the connection. */
  #countProtocolError(code: string): void {
    if (!PROTOCOL_ERRORS.has(code)) return;
    this.#protocolErrors++;
    if (this.#protocolErrors > this.services.config.limits.protocolErrors)
      this.#connectionError(sispError('E_BAD_REQUEST', 'too many malformed requests'));
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
    const limit = this.state === 'ready' ? MAX_QUEUED : MAX_QUEUED_HANDSHAKE;
    this.#queued++;
    if (this.#queued > limit) this.#gate.hold('queue');
    this.#queue = this.#queue.then(async () => {
      try {
        await this.#dispatch(message);
        this.services.metrics.requests.inc({ type: message.type, code: 'ok' });
      } catch (error) {
        this.requestFailed(message.id, message.type, error);
      } finally {
        this.#queued--;
        if (this.#queued <= limit / 2) this.#gate.release('queue');
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
    if (
      !FREE.has(message.type) &&
      !this.services.rateLimiter.take(user, Date.now(), costOf(message))
    )
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
      authenticated: (user, signingKey) => {
        this.#authenticated(user, signingKey);
      },
    };
  }

  #requestContext(id: number, type: MessageType, user: string): RequestContext {
    const isClosed = (): boolean => this.state === 'closed';
    const queued = (): number => this.#outbox.bufferedAmount;
    return {
      id,
      user,
      signingKey: this.#signingKey,
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

  #authenticated(user: string, signingKey: Uint8Array): void {
    if (!this.services.occupancy.enterUser(user))
      throw sispError('E_RATE_LIMITED', 'too many connections for this user at once');
    this.#counted = user;
    this.user = user;
    this.#signingKey = signingKey.slice();
    this.state = 'ready';
    this.services.log.info(
      { event: 'connect', session: this.info.id, remote: this.info.remote, user },
      'signed in',
    );
    clearTimeout(this.#timers.handshake);
    this.#unsubscribe = this.services.events.subscribe((event) => {
      this.#onEvent(event, user);
    });
  }

  #onEvent(event: ImageEvent, user: string): void {
    if (this.state !== 'ready') return;
    if (this.#catchingUp !== undefined) {
      if (this.#catchingUp.has(event.position)) return;
      this.#catchingUp.add(event.position);
    }
    const told = isToldOf(event, user);
    if (event.kind === 'deleted') this.#endDownloadsOf(event.image, 'deleted by its owner');
    if (event.kind === 'withdrawn' && told)
      this.#endDownloadsOf(event.image, 'no longer shared with you');
    if (event.kind === 'album_unshared' && told) void this.#endUnseenDownloads(user);
    if (told) void this.sendFrame(eventFrame(event));
  }

  /**
   * After the event bus lost events (its connection to the other nodes dropped): what
   * this user was told of after `from` (the last position the node saw before), from
   * the durable log, in order. Events that also arrive live meanwhile are handled once.
   */
  async catchUp(from: number): Promise<void> {
    const user = this.user;
    if (this.state !== 'ready' || user === undefined) return;
    this.#catchingUp = new Set();
    try {
      const missed = await this.services.store.eventsSince(user, from, CATCH_UP_LIMIT);
      for (const event of missed) this.#onEvent(event, user);
    } finally {
      this.#catchingUp = undefined;
    }
  }

  /** The image went (deleted, or withdrawn): its downloads in progress end, each with a clear error. */
  #endDownloadsOf(image: Uint8Array, why: string): void {
    for (const id of this.transfers.downloadsOf(image)) this.#endDownload(id, why);
  }

  #endDownload(id: number, why: string): void {
    const error = sispError('E_NOT_FOUND', `the image was ${why}`);
    void this.send('error', id, { code: error.code, message: error.message });
    void this.transfers.end(id, error);
  }

  /** An album was taken back: downloads of images the user can no longer see end. */
  async #endUnseenDownloads(user: string): Promise<void> {
    for (const [id, image] of this.transfers.downloadImages()) {
      // A store that fails to answer ends nothing: the download goes on as it was.
      const visible = await this.services.store.getVisible(user, image).then(
        (record) => record !== undefined,
        () => true,
      );
      if (!visible) this.#endDownload(id, 'no longer shared with you');
    }
  }

  /**
   * Answers request `id` after a failure and ends its transfer. Closes the
   * connection when the code says the peer can't be trusted to speak the protocol,
   * or when auth or register failed (or found the user's connections full).
   */
  requestFailed(id: number, type: MessageType, error: unknown): void {
    const failure = describeFailure(this.services.log, this.info.id, type, error);
    this.services.metrics.requests.inc({ type, code: failure.code });
    void this.send('error', id, errorBody(failure));
    void this.transfers.end(id, failure);
    const login = type === 'auth' || type === 'register';
    const failedLogin = login && (failure.code === 'E_AUTH' || failure.code === 'E_RATE_LIMITED');
    if (CLOSING_CODES.has(failure.code) || failedLogin) this.close(POLICY, failure.code);
    else this.#countProtocolError(failure.code);
  }

  #closed(): void {
    const wasOpen = this.state !== 'closed';
    this.state = 'closed';
    clearTimeout(this.#timers.handshake);
    clearTimeout(this.#timers.idle);
    for (const interval of this.#intervals) clearInterval(interval);
    this.#unsubscribe?.();
    void this.transfers.endAll();
    if (this.#counted === undefined) {
      this.services.occupancy.refused('closed before signing in');
      return;
    }
    this.services.occupancy.users.leave(this.#counted);
    this.#counted = undefined;
    this.services.log.info(
      { event: 'disconnect', session: this.info.id, user: this.user, clean: wasOpen },
      'connection closed',
    );
  }
}

/**
 * What a request costs against the user's rate: one, except a page of thumbnails,
 * which may re-wrap a key per image (public images) and so costs one per four.
 */
function costOf(message: Message): number {
  return message.type === 'thumbnails' ? Math.ceil(message.body.images.length / 4) : 1;
}
