/**
 * Frames: one WebSocket binary message is one frame, the CBOR array
 * [version, type, id, body]. Decoding is total: any input yields either a valid
 * typed message or a typed error, never an exception.
 */
import { decodeStrict, encodeDeterministic, type CborLimits } from './cbor.js';
import { isSispError, sispError, type SispError } from './errors.js';
import {
  DEFAULT_MAX_FRAME,
  isMessageType,
  MESSAGE_SCHEMAS,
  PROTOCOL_VERSION,
  SUPPORTED_VERSIONS,
  type Message,
  type MessageBody,
  type MessageType,
} from './messages.js';

export const MAX_REQUEST_ID = 0xffff_ffff;

export interface FrameLimits {
  readonly maxFrame: number;
  readonly maxDepth: number;
}

export const DEFAULT_FRAME_LIMITS: FrameLimits = { maxFrame: DEFAULT_MAX_FRAME, maxDepth: 8 };

export type DecodeResult =
  | { readonly ok: true; readonly message: Message }
  /** `id` is the request id when it could be read, so the error can answer it. */
  | { readonly ok: false; readonly error: SispError; readonly id: number | undefined };

export function encodeFrame<T extends MessageType>(
  type: T,
  id: number,
  body: MessageBody<T>,
): Uint8Array {
  if (!Number.isSafeInteger(id) || id < 0 || id > MAX_REQUEST_ID) {
    throw new TypeError('id must be an integer in [0, 2^32)');
  }
  // Validate outgoing bodies too: a bug here must not put an invalid frame on the wire.
  MESSAGE_SCHEMAS[type](body, type);
  return encodeDeterministic([PROTOCOL_VERSION, type, id, body]);
}

export function decodeFrame(
  bytes: Uint8Array,
  limits: FrameLimits = DEFAULT_FRAME_LIMITS,
): DecodeResult {
  let id: number | undefined;
  try {
    const cborLimits: CborLimits = { maxBytes: limits.maxFrame, maxDepth: limits.maxDepth };
    const value = decodeStrict(bytes, cborLimits);
    if (!Array.isArray(value) || value.length !== 4) {
      throw sispError('E_BAD_FRAME', 'a frame is [version, type, id, body]');
    }
    const [version, type, rawId, body] = value as [unknown, unknown, unknown, unknown];
    if (
      typeof rawId === 'number' &&
      Number.isSafeInteger(rawId) &&
      rawId >= 0 &&
      rawId <= MAX_REQUEST_ID
    ) {
      id = rawId;
    } else {
      throw sispError('E_BAD_FRAME', 'invalid request id');
    }
    if (typeof version !== 'number' || !SUPPORTED_VERSIONS.includes(version)) {
      throw sispError(
        'E_VERSION',
        `unsupported protocol version; this peer speaks ${SUPPORTED_VERSIONS.join(', ')}`,
      );
    }
    if (!isMessageType(type)) throw sispError('E_BAD_REQUEST', 'unknown message type');
    const validated: unknown = MESSAGE_SCHEMAS[type](body, type);
    return { ok: true, message: { type, id, body: validated } as Message };
  } catch (error) {
    if (isSispError(error)) return { ok: false, error, id };
    // Anything else is a bug in a schema; still never escape.
    return { ok: false, error: sispError('E_BAD_FRAME', 'malformed frame', { cause: error }), id };
  }
}
