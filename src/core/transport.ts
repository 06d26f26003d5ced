/**
 * The Transport port: one message-oriented, ordered, reliable connection carrying
 * SISP/2 frames (binary WebSocket messages in practice). The core never opens a
 * socket itself; the platform supplies a Connector: `ws` with the pinned CA on Node
 * (client/ws-transport.ts), the standard WebSocket in browsers
 * (core/websocket-transport.ts).
 */

export interface TransportEvents {
  /** One whole frame, in order. The core owns the bytes from here on. */
  message(frame: Uint8Array): void;
  /** The connection is gone; `code` is the WebSocket close code (1006 if none came). */
  close(code: number): void;
}

export interface Transport {
  /** Resolves once the frame is handed to the network; rejects if the connection is gone. */
  send(frame: Uint8Array): Promise<void>;
  /** Bytes queued locally, not yet handed to the network. */
  readonly bufferedAmount: number;
  close(code?: number): void;
}

export interface ConnectOptions {
  /** The server's CA certificate (PEM): a platform that controls TLS trusts only it. */
  readonly caPem: string;
  /** Largest frame to accept from the server. */
  readonly maxFrame: number;
}

/**
 * Opens a transport to a `wss://` URL. Rejects with a SispError: E_UNAVAILABLE when
 * the server can't be reached, E_CERTIFICATE when its TLS certificate isn't the CA's.
 */
export type Connector = (
  url: string,
  options: ConnectOptions,
  events: TransportEvents,
) => Promise<Transport>;

/** WebSocket close codes the core interprets. */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_POLICY = 1008;
export const CLOSE_TOO_BIG = 1009;
