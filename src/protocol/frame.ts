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
  MAX_CHUNK_DATA,
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
  /**
   * The types this receiver accepts, each with its largest frame. A frame of another
   * type, or larger, is refused from its header alone, before its body is decoded.
   */
  readonly accept?: ReadonlyMap<MessageType, number>;
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

export type ChunkType = 'post.chunk' | 'download.chunk';

/** Minimal CBOR head (RFC 8949 4.2.1) for a major type and argument below 2^32. */
function head(major: number, value: number): Uint8Array {
  const m = major << 5;
  if (value < 24) return Uint8Array.of(m | value);
  if (value < 0x100) return Uint8Array.of(m | 24, value);
  if (value < 0x10000) return Uint8Array.of(m | 25, value >> 8, value & 0xff);
  return Uint8Array.of(
    m | 26,
    (value >>> 24) & 0xff,
    (value >> 16) & 0xff,
    (value >> 8) & 0xff,
    value & 0xff,
  );
}

const CHUNK_TYPES: Record<ChunkType, Uint8Array> = {
  'post.chunk': encodeDeterministic('post.chunk'),
  'download.chunk': encodeDeterministic('download.chunk'),
};
/** a1 64 "data": a one-entry map whose key is "data". */
const DATA_KEY = Uint8Array.of(0xa1, 0x64, 0x64, 0x61, 0x74, 0x61);

/**
 * The bytes that precede `length` bytes of data in a chunk frame: exactly what
 * encodeFrame would produce, so a sender can place data right after it in one
 * buffer instead of copying it through the generic encoder.
 */
export function chunkFrameHeader(type: ChunkType, id: number, length: number): Uint8Array {
  if (!Number.isSafeInteger(id) || id < 1 || id > MAX_REQUEST_ID)
    throw new TypeError('id must be in [1, 2^32)');
  if (!Number.isSafeInteger(length) || length < 1 || length > MAX_CHUNK_DATA) {
    throw new TypeError('chunk length out of range');
  }
  const parts = [
    Uint8Array.of(0x84, PROTOCOL_VERSION),
    CHUNK_TYPES[type],
    head(0, id),
    DATA_KEY,
    head(2, length),
  ];
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Reads a minimal CBOR head of the given major type; undefined if it is anything else. */
function readHead(
  bytes: Uint8Array,
  at: number,
  major: number,
): { value: number; next: number } | undefined {
  const first = bytes[at];
  if (first === undefined || first >> 5 !== major) return undefined;
  const info = first & 31;
  if (info < 24) return { value: info, next: at + 1 };
  const size = info === 24 ? 1 : info === 25 ? 2 : info === 26 ? 4 : 0;
  if (size === 0 || at + 1 + size > bytes.length) return undefined;
  let value = 0;
  for (let i = 1; i <= size; i++) value = value * 256 + (bytes[at + i] ?? 0);
  const minimum = size === 1 ? 24 : size === 2 ? 0x100 : 0x10000;
  return value < minimum ? undefined : { value, next: at + 1 + size };
}

function startsWith(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[at + i] !== prefix[i]) return false;
  return true;
}

/**
 * Chunk frames carry almost all the bytes, so they skip the generic decoder: the
 * canonical header is matched byte for byte and the data is returned as a view
 * into `bytes` (no copy). Anything not exactly canonical goes the generic way,
 * which accepts or refuses it as it would any frame.
 */
function decodeChunkFrame(bytes: Uint8Array): Message | undefined {
  if (bytes[0] !== 0x84 || bytes[1] !== PROTOCOL_VERSION) return undefined;
  let type: ChunkType | undefined;
  for (const candidate of ['post.chunk', 'download.chunk'] as const) {
    if (startsWith(bytes, 2, CHUNK_TYPES[candidate])) type = candidate;
  }
  if (type === undefined) return undefined;
  const id = readHead(bytes, 2 + CHUNK_TYPES[type].length, 0);
  if (id === undefined || !startsWith(bytes, id.next, DATA_KEY)) return undefined;
  const length = readHead(bytes, id.next + DATA_KEY.length, 2);
  if (length === undefined || length.value < 1 || length.value > MAX_CHUNK_DATA) return undefined;
  if (length.next + length.value !== bytes.length) return undefined;
  return { type, id: id.value, body: { data: bytes.subarray(length.next) } };
}

/** The version, type and id of a frame whose header is canonical; undefined otherwise. */
function peekHeader(bytes: Uint8Array): { type: string; id: number } | undefined {
  if (bytes[0] !== 0x84) return undefined;
  const version = readHead(bytes, 1, 0);
  if (version === undefined) return undefined;
  const type = readHead(bytes, version.next, 3);
  if (type === undefined || type.value > 64) return undefined;
  const end = type.next + type.value;
  const id = readHead(bytes, end, 0);
  if (id === undefined) return undefined;
  let text = '';
  for (let i = type.next; i < end; i++) text += String.fromCharCode(bytes[i] ?? 0);
  return { type: text, id: id.value };
}

/**
 * A frame this receiver does not take (its type, or its size for that type), told
 * from the header without decoding the body; undefined if it may go on.
 */
function refuseEarly(bytes: Uint8Array, limits: FrameLimits): DecodeResult | undefined {
  if (limits.accept === undefined) return undefined;
  const header = peekHeader(bytes);
  if (header === undefined) return undefined;
  const max = isMessageType(header.type) ? limits.accept.get(header.type) : undefined;
  if (max === undefined) {
    const error = sispError('E_BAD_REQUEST', 'that message type is not accepted here');
    return { ok: false, error, id: header.id };
  }
  if (bytes.length > max) {
    const error = sispError('E_TOO_LARGE', `a ${header.type} frame is at most ${max} bytes`);
    return { ok: false, error, id: header.id };
  }
  return undefined;
}

/**
 * Decodes one frame. Chunk data may come back as a view into `bytes`: the caller
 * must own that buffer (a WebSocket message buffer is fresh for each message).
 */
export function decodeFrame(
  bytes: Uint8Array,
  limits: FrameLimits = DEFAULT_FRAME_LIMITS,
): DecodeResult {
  if (bytes instanceof Uint8Array && bytes.length <= limits.maxFrame) {
    const early = refuseEarly(bytes, limits);
    if (early !== undefined) return early;
    const chunk = decodeChunkFrame(bytes);
    if (chunk !== undefined) return { ok: true, message: chunk };
  }
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
    // One valid encoding per frame: decodeStrict refuses every other encoding (map
    // keys out of order included), so there is no need to re-encode and compare.
    if (!isMessageType(type)) throw sispError('E_BAD_REQUEST', 'unknown message type');
    if (limits.accept !== undefined && !limits.accept.has(type))
      throw sispError('E_BAD_REQUEST', 'that message type is not accepted here');
    const validated: unknown = MESSAGE_SCHEMAS[type](body, type);
    return { ok: true, message: { type, id, body: validated } as Message };
  } catch (error) {
    if (isSispError(error)) return { ok: false, error, id };
    // Anything else is a bug in a schema; still never escape.
    return { ok: false, error: sispError('E_BAD_FRAME', 'malformed frame', { cause: error }), id };
  }
}
