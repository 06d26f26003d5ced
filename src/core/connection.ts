/**
 * A client connection over a Transport: requests get fresh ids; replies, credits
 * and chunks are routed to whoever owns the id; server pushes (id 0) are events or
 * connection-level errors.
 */
import { decodeFrame, encodeFrame } from '../protocol/frame.js';
import { sispError, type SispError } from '../protocol/errors.js';
import {
  DEFAULT_MAX_FRAME,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';
import {
  CLOSE_GOING_AWAY,
  CLOSE_NORMAL,
  CLOSE_TOO_BIG,
  type Connector,
  type Transport,
} from './transport.js';

export type MessageHandler = (message: Message) => void;
export type NewImageEvent = Extract<Message, { type: 'event.new_image' }>;
/** The server's pushes: events about images and albums (request id 0). */
export const EVENT_TYPES = [
  'event.new_image',
  'event.deleted',
  'event.unshared',
  'event.album_shared',
  'event.album_unshared',
] as const;
/**
 * What the server pushes: an image appeared for you, was deleted, or is no longer
 * shared with you; an album was shared with you, or taken back.
 */
export type ImageEvent = Extract<Message, { type: (typeof EVENT_TYPES)[number] }>;

function isEvent(message: Message): message is ImageEvent {
  return (EVENT_TYPES as readonly string[]).includes(message.type);
}

function closeError(code: number): SispError {
  if (code === CLOSE_GOING_AWAY) return sispError('E_UNAVAILABLE', 'the server is shutting down');
  if (code === CLOSE_TOO_BIG)
    return sispError('E_TOO_LARGE', "a message exceeded the server's frame limit");
  return sispError('E_UNAVAILABLE', 'the connection to the server was lost');
}

export class Connection {
  #transport: Transport | undefined;
  readonly #handlers = new Map<number, MessageHandler>();
  readonly #closeListeners = new Set<(error: SispError) => void>();
  #nextId = 1;
  #closedError: SispError | undefined;
  /** Set once the transport has closed (not merely when a closing error arrived). */
  #ended: SispError | undefined;
  onEvent: ((event: ImageEvent) => void) | undefined;

  private constructor() {}

  static async open(connector: Connector, url: string, caPem: string): Promise<Connection> {
    if (!/^wss:\/\//.test(url))
      throw sispError('E_BAD_REQUEST', `the server address must start with wss:// (got ${url})`);
    const connection = new Connection();
    connection.#transport = await connector(
      url,
      { caPem, maxFrame: DEFAULT_MAX_FRAME },
      {
        message: (frame) => {
          connection.#receive(frame);
        },
        close: (code) => {
          connection.#closed(code);
        },
      },
    );
    return connection;
  }

  get open(): boolean {
    return this.#closedError === undefined;
  }

  /** Why the connection ended, once it has. */
  get closedError(): SispError | undefined {
    return this.#closedError;
  }

  /** Called once when the connection ends; returns a function that removes the listener. */
  /** Calls `listener` once when the connection closes: at once (next microtask) if it already has. */
  onClose(listener: (error: SispError) => void): () => void {
    if (this.#ended !== undefined) {
      const ended = this.#ended;
      queueMicrotask(() => {
        listener(ended);
      });
      return () => undefined;
    }
    this.#closeListeners.add(listener);
    return () => this.#closeListeners.delete(listener);
  }

  /** Registers a handler for every message with a fresh id until it is released. */
  stream(handler: MessageHandler): number {
    const id = this.#nextId++;
    this.#handlers.set(id, handler);
    return id;
  }

  release(id: number): void {
    this.#handlers.delete(id);
  }

  send<T extends MessageType>(type: T, id: number, body: MessageBody<T>): Promise<void> {
    return this.sendFrame(encodeFrame(type, id, body));
  }

  /** Sends an encoded frame; resolves once it is handed to the transport. */
  sendFrame(frame: Uint8Array): Promise<void> {
    const transport = this.#transport;
    if (this.#closedError !== undefined || transport === undefined)
      return Promise.reject(this.#closedError ?? closeError(1006));
    return transport.send(frame).catch(() => {
      throw this.#closedError ?? closeError(1006);
    });
  }

  /** Bytes queued locally and not yet handed to the network. */
  get bufferedAmount(): number {
    return this.#transport?.bufferedAmount ?? 0;
  }

  /** One request, one reply (an error reply is thrown as SispError). */
  async request<T extends MessageType>(type: T, body: MessageBody<T>): Promise<Message> {
    let settle: ((message: Message) => void) | undefined;
    const reply = new Promise<Message>((resolve) => {
      settle = resolve;
    });
    const id = this.stream((message) => {
      settle?.(message);
    });
    try {
      await this.send(type, id, body);
      const message = await reply;
      if (message.type === 'error') throw sispError(message.body.code, message.body.message);
      return message;
    } finally {
      this.release(id);
    }
  }

  close(): void {
    this.#closedError ??= sispError('E_UNAVAILABLE', 'the connection was closed');
    this.#transport?.close(CLOSE_NORMAL);
  }

  #receive(frame: Uint8Array): void {
    const result = decodeFrame(frame);
    if (!result.ok) {
      this.#closedError ??= sispError('E_BAD_FRAME', 'the server sent a malformed message');
      this.#transport?.close(CLOSE_NORMAL);
      return;
    }
    const message = result.message;
    if (message.id !== 0) {
      this.#handlers.get(message.id)?.(message);
      return;
    }
    // Id 0 is the server's: an image event, or an error about the whole connection,
    // which is about to close.
    if (isEvent(message)) this.onEvent?.(message);
    else if (message.type === 'error')
      this.#closedError ??= sispError(message.body.code, message.body.message);
  }

  #closed(code: number): void {
    const error = (this.#closedError ??= closeError(code));
    this.#ended = error;
    const body = { code: error.code, message: error.message };
    for (const handler of this.#handlers.values()) handler({ type: 'error', id: 0, body });
    this.#handlers.clear();
    for (const listener of this.#closeListeners) listener(error);
    this.#closeListeners.clear();
  }
}
