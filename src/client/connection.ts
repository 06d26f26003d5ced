/**
 * A client connection: TLS 1.3 to the server, verified against the pinned CA, one
 * WebSocket carrying SISP/2 frames. Requests get fresh ids; replies, credits and
 * chunks are routed to whoever made the request; events (id 0) go to a listener.
 */
import WebSocket from 'ws';
import { decodeFrame, encodeFrame } from '../protocol/frame.js';
import { sispError, type SispError } from '../protocol/errors.js';
import {
  DEFAULT_MAX_FRAME,
  PROTOCOL_VERSION,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';

export type MessageHandler = (message: Message) => void;

const CONNECT_TIMEOUT_MS = 15_000;

export class Connection {
  readonly #ws: WebSocket;
  readonly #handlers = new Map<number, MessageHandler>();
  #nextId = 1;
  #closedError: SispError | undefined;
  onEvent: ((message: Extract<Message, { type: 'event.new_image' }>) => void) | undefined;
  onClose: ((error: SispError) => void) | undefined;

  private constructor(ws: WebSocket) {
    this.#ws = ws;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      this.#receive(data, isBinary);
    });
    ws.on('close', (code: number) => {
      const error =
        code === 1001
          ? sispError('E_UNAVAILABLE', 'the server is shutting down')
          : sispError('E_UNAVAILABLE', 'the connection to the server was lost');
      this.#closedError ??= error;
      for (const handler of this.#handlers.values()) {
        handler({
          type: 'error',
          id: 0,
          body: { code: this.#closedError.code, message: this.#closedError.message },
        });
      }
      this.#handlers.clear();
      this.onClose?.(this.#closedError);
    });
    ws.on('error', () => {
      // 'close' follows and reports it.
    });
  }

  static async open(url: string, caPem: string): Promise<Connection> {
    if (!/^wss:\/\//.test(url))
      throw sispError('E_BAD_REQUEST', `the server address must start with wss:// (got ${url})`);
    const ws = new WebSocket(url, {
      ca: caPem,
      minVersion: 'TLSv1.3',
      maxPayload: DEFAULT_MAX_FRAME,
      perMessageDeflate: false,
      handshakeTimeout: CONNECT_TIMEOUT_MS,
      // An all-zero masking key: ws then sends payloads without copying them. Masking
      // guards intermediaries that read WebSocket traffic against script-chosen bytes
      // (RFC 6455 10.3); inside TLS none can, and our payloads are ciphertext anyway.
      // Browsers keep masking; see docs/DECISIONS.md.
      generateMask: (mask: Buffer) => {
        mask.fill(0);
      },
    });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => {
        resolve();
      });
      ws.once('error', (error: NodeJS.ErrnoException) => {
        reject(describeConnectError(url, error));
      });
    });
    return new Connection(ws);
  }

  get open(): boolean {
    return this.#ws.readyState === WebSocket.OPEN;
  }

  /** Registers a handler for every message with this id until it is released. */
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

  /** Sends an encoded frame; resolves once it is handed to the socket. */
  sendFrame(frame: Uint8Array): Promise<void> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    return new Promise((resolve, reject) => {
      this.#ws.send(frame, { binary: true }, (error) => {
        if (!(error instanceof Error)) resolve();
        else
          reject(
            this.#closedError ??
              sispError('E_UNAVAILABLE', 'the connection to the server was lost'),
          );
      });
    });
  }

  /** Bytes queued locally and not yet handed to the kernel. */
  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  /** One request, one reply (or an error reply, thrown as SispError). */
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
    this.#ws.close(1000);
  }

  #receive(data: Buffer, isBinary: boolean): void {
    if (!isBinary) return;
    const result = decodeFrame(data);
    if (!result.ok) {
      this.#closedError = sispError('E_BAD_FRAME', 'the server sent a malformed message');
      this.#ws.terminate();
      return;
    }
    const message = result.message;
    if (message.id === 0) {
      if (message.type === 'event.new_image') this.onEvent?.(message);
      else if (message.type === 'error')
        this.#closedError = sispError(message.body.code, message.body.message);
      return;
    }
    this.#handlers.get(message.id)?.(message);
  }
}

function describeConnectError(url: string, error: NodeJS.ErrnoException): SispError {
  const code = error.code ?? '';
  if (
    ['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EAI_AGAIN'].includes(
      code,
    )
  ) {
    return sispError('E_UNAVAILABLE', `cannot reach the server at ${url} (is it running?)`);
  }
  // Node's certificate failures carry OpenSSL's verify codes (UNABLE_TO_VERIFY_LEAF_SIGNATURE,
  // SELF_SIGNED_CERT_IN_CHAIN, CERT_HAS_EXPIRED, ERR_TLS_CERT_ALTNAME_INVALID, ...).
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|ERR_TLS/.test(code)) {
    return sispError(
      'E_CERTIFICATE',
      `certificate mismatch: the server at ${url} is not certified by the pinned CA`,
    );
  }
  // Anything else (a handshake that timed out, a closed connection).
  return sispError('E_UNAVAILABLE', `cannot connect to ${url}`);
}

export { PROTOCOL_VERSION };
