/**
 * What a handler is given: the request (its id), who is asking, the shared
 * services, the connection's transfers, and ways to answer. Handlers import this
 * and never the session, so the session can own the handler table without a cycle.
 */
import {
  MAX_THUMBNAIL,
  type Message,
  type MessageBody,
  type MessageType,
} from '../protocol/messages.js';
import type { ServerContext } from './context.js';
import type { Transfers } from './transfers.js';

/** One connection, as handlers see it. */
export interface SessionInfo {
  /** Random, for correlating log lines. */
  readonly id: string;
  readonly remote: string;
  /** This session's challenge (welcome.nonce). */
  readonly nonce: Uint8Array;
}

interface Reply {
  readonly id: number;
  readonly session: SessionInfo;
  readonly services: ServerContext;
  /** Sends a message with this request's id. */
  send<T extends MessageType>(type: T, body: MessageBody<T>): Promise<void>;
}

/** An authenticated request. */
export interface RequestContext extends Reply {
  /** The authenticated user: everything a request may do is decided from this. */
  readonly user: string;
  /**
   * The Ed25519 key this session proved it holds (register or auth): the user's key
   * as stored when they signed in, which a user's keys never change from.
   */
  readonly signingKey: Uint8Array;
  readonly transfers: Transfers;
  /** True once the connection is closing or closed: stop sending. */
  readonly closed: boolean;
  /** Sends a frame that is already encoded. */
  sendFrame(frame: Uint8Array): Promise<void>;
  /** Bytes queued for this connection and not yet handed to the kernel. */
  readonly bufferedAmount: number;
  /** Answers this request with an error later (work that outlives the handler). */
  fail(error: unknown): void;
}

/** A request before authentication: hello, register or auth. */
export interface HandshakeContext extends Reply {
  readonly state: 'hello' | 'handshake';
  /** hello was answered: register or auth may follow. */
  welcomed(): void;
  /** The session is now `user`'s, who proved possession of `signingKey`. */
  authenticated(user: string, signingKey: Uint8Array): void;
}

export type RequestMessage<T extends MessageType> = Extract<Message, { type: T }>;
export type Handler<T extends MessageType> = (
  context: RequestContext,
  message: RequestMessage<T>,
) => Promise<void>;
export type HandshakeHandler<T extends MessageType> = (
  context: HandshakeContext,
  message: RequestMessage<T>,
) => Promise<void>;

export const HANDSHAKE_TYPES = ['hello', 'register', 'auth'] as const;
export type HandshakeType = (typeof HANDSHAKE_TYPES)[number];

/** Messages a signed-in client may send (credit is handled by the session itself). */
export const REQUEST_TYPES = [
  'post.begin',
  'post.chunk',
  'post.end',
  'post.abort',
  'download',
  'list',
  'share',
  'unshare',
  'grants',
  'key.get',
  'events',
  'thumbnails',
  'delete',
  'usage',
  'cert.get',
  'album.create',
  'album.add',
  'album.remove',
  'album.share',
  'album.unshare',
  'albums',
  'album.get',
  'link.create',
  'link.revoke',
  'links',
] as const;
export type RequestType = (typeof REQUEST_TYPES)[number];

/** Every request and handshake frame is small; only chunks come near maxFrame. */
const SMALL_FRAME = 4 * 1024;
/** post.begin and share carry up to 65 wrapped keys. */
const KEYS_FRAME = 16 * 1024;
/** album.add carries up to 500 sealed keys with their signatures (about 160 bytes each). */
const ALBUM_ITEMS_FRAME = 96 * 1024;
/** post.end carries a manifest (at most 4096 bytes) and its signature. */
const MANIFEST_FRAME = 8 * 1024;

/**
 * The frames a server takes, and the largest of each, before and after
 * authentication. Anything else is refused from its header (docs/PROTOCOL.md 2.1).
 * Before authentication every frame is small, whatever its type, so an
 * unauthenticated peer never makes the server hold or decode much.
 */
export function acceptedFrames(maxFrame: number): {
  readonly handshake: ReadonlyMap<MessageType, number>;
  readonly ready: ReadonlyMap<MessageType, number>;
} {
  const types: MessageType[] = [...HANDSHAKE_TYPES, ...REQUEST_TYPES, 'credit'];
  const handshake = new Map(types.map((type) => [type, SMALL_FRAME] as const));
  const ready = new Map(handshake);
  ready.set('post.chunk', maxFrame);
  ready.set('post.begin', KEYS_FRAME + MAX_THUMBNAIL);
  ready.set('share', KEYS_FRAME);
  ready.set('post.end', MANIFEST_FRAME);
  ready.set('album.add', ALBUM_ITEMS_FRAME);
  ready.set('album.remove', KEYS_FRAME);
  ready.set('album.share', KEYS_FRAME);
  return { handshake, ready };
}
