/**
 * Strict CBOR: the only way bytes from a peer become values. Built on cborg with
 * every strictness option on, plus a token-level guard that cborg lacks: a nesting
 * depth cap (checked before cborg recurses), invalid UTF-8 refused, no tags, floats
 * or `undefined` (SISP/2 uses none), and map keys that are text in deterministic
 * order. With cborg's minimal integers and lengths that leaves one encoding per
 * value (RFC 8949 4.2.1), so what decodes here re-encodes to the same bytes without
 * re-encoding to find out. The caller caps the input size first.
 */
import { decode, encode, rfc8949EncodeOptions, Tokenizer, Type } from 'cborg';
import type { DecodeOptions, DecodeTokenizer } from 'cborg/interface';
import type { Token } from 'cborg';
import { isValidUtf8 } from './bytes.js';
import { sispError } from './errors.js';

export interface CborLimits {
  /** Refuse inputs longer than this before looking at a single byte. */
  readonly maxBytes: number;
  /** Arrays and maps nested deeper than this are refused. */
  readonly maxDepth: number;
}

export const DEFAULT_CBOR_LIMITS: CborLimits = { maxBytes: 1 << 20, maxDepth: 16 };

const STRICT_OPTIONS: DecodeOptions = {
  strict: true,
  allowIndefinite: false,
  allowUndefined: false,
  allowInfinity: false,
  allowNaN: false,
  allowBigInt: false,
  rejectDuplicateMapKeys: true,
  retainStringBytes: true,
  useMaps: false,
  tags: [],
};

/** A container being read: items still expected and, for a map, the last key's bytes. */
interface OpenContainer {
  remaining: number;
  readonly map: boolean;
  lastKey: Uint8Array | undefined;
}

/** Bytewise order (RFC 8949 4.2.1 sorts map keys by their encodings this way). */
function bytesAfter(a: Uint8Array, b: Uint8Array): boolean {
  const shared = Math.min(a.length, b.length);
  for (let i = 0; i < shared; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (x !== y) return x > y;
  }
  return a.length > b.length;
}

/** Wraps cborg's tokenizer to check each token before cborg acts on it. */
class GuardedTokenizer implements DecodeTokenizer {
  readonly #inner: DecodeTokenizer;
  readonly #data: Uint8Array;
  readonly #maxDepth: number;
  /** The open containers, innermost last. */
  readonly #open: OpenContainer[] = [];

  constructor(data: Uint8Array, maxDepth: number) {
    this.#inner = new Tokenizer(data, STRICT_OPTIONS);
    this.#data = data;
    this.#maxDepth = maxDepth;
  }

  done(): boolean {
    return this.#inner.done();
  }

  pos(): number {
    return this.#inner.pos();
  }

  next(): Token {
    const start = this.#inner.pos();
    const token = this.#inner.next();
    this.#check(token);
    const parent = this.#open.at(-1);
    // In a map, an even number of items left means this one is a key.
    if (parent?.map === true && parent.remaining % 2 === 0) this.#checkKey(parent, token, start);
    const map = Type.equals(token.type, Type.map);
    if (map || Type.equals(token.type, Type.array)) {
      const count: unknown = map ? token.value * 2 : token.value;
      if (typeof count !== 'number' || !Number.isSafeInteger(count)) {
        throw sispError('E_BAD_FRAME', 'CBOR container length out of range');
      }
      if (count > 0) {
        if (this.#open.length >= this.#maxDepth) {
          throw sispError('E_BAD_FRAME', 'CBOR nesting too deep');
        }
        this.#open.push({ remaining: count, map, lastKey: undefined });
        return token;
      }
    }
    this.#completeItem();
    return token;
  }

  /** Keys are text, each after the one before it in bytewise order of their encodings. */
  #checkKey(map: OpenContainer, token: Token, start: number): void {
    if (!Type.equals(token.type, Type.string))
      throw sispError('E_BAD_FRAME', 'CBOR map keys must be text');
    const key = this.#data.subarray(start, this.#inner.pos());
    if (map.lastKey !== undefined && !bytesAfter(key, map.lastKey))
      throw sispError('E_BAD_FRAME', 'CBOR map keys out of deterministic order');
    map.lastKey = key;
  }

  #check(token: Token): void {
    const type = token.type;
    if (Type.equals(type, Type.tag)) throw sispError('E_BAD_FRAME', 'CBOR tags are not allowed');
    if (Type.equals(type, Type.float))
      throw sispError('E_BAD_FRAME', 'CBOR floats are not allowed');
    if (Type.equals(type, Type.undefined) || Type.equals(type, Type.break)) {
      throw sispError('E_BAD_FRAME', 'CBOR simple value not allowed');
    }
    if (Type.equals(type, Type.string)) {
      // cborg hands out one shared token, without bytes, for the empty string.
      const raw = token.byteValue;
      if (raw === undefined ? token.value !== '' : !isValidUtf8(raw))
        throw sispError('E_BAD_FRAME', 'invalid UTF-8 in CBOR text');
    }
  }

  /** One item finished; finishing a container's last item finishes the container. */
  #completeItem(): void {
    for (let top = this.#open.at(-1); top !== undefined; top = this.#open.at(-1)) {
      top.remaining -= 1;
      if (top.remaining > 0) return;
      this.#open.pop();
    }
  }
}

/**
 * Decodes exactly one CBOR item occupying all of `bytes`. Throws only SispError
 * E_BAD_FRAME (or E_TOO_LARGE); never lets a library exception escape.
 */
export function decodeStrict(bytes: Uint8Array, limits: CborLimits = DEFAULT_CBOR_LIMITS): unknown {
  if (!(bytes instanceof Uint8Array)) throw sispError('E_BAD_FRAME', 'input is not bytes');
  if (bytes.length > limits.maxBytes) throw sispError('E_TOO_LARGE', 'message too large');
  if (bytes.length === 0) throw sispError('E_BAD_FRAME', 'empty message');
  // A plain view: subclasses (Node's Buffer) slice without copying, and decoded byte
  // strings must be copies the caller owns, never views into a reused frame buffer.
  const input =
    Object.getPrototypeOf(bytes) === Uint8Array.prototype
      ? bytes
      : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
  try {
    const tokenizer = new GuardedTokenizer(input, limits.maxDepth);
    return decode(input, { ...STRICT_OPTIONS, tokenizer });
  } catch (cause) {
    if (cause instanceof Error && cause.name === 'SispError') throw cause;
    // cborg's messages describe the malformation; keep them as detail, not as text
    // that anything branches on.
    throw sispError('E_BAD_FRAME', 'malformed CBOR', {
      detail: cause instanceof Error ? cause.message : 'unknown decoder failure',
      cause,
    });
  }
}

/**
 * Deterministic encoding (RFC 8949 section 4.2.1): shortest integers and lengths,
 * definite lengths, map keys sorted bytewise. Used for every frame, and required
 * wherever bytes are signed.
 */
export function encodeDeterministic(value: unknown): Uint8Array {
  const out = encode(value, rfc8949EncodeOptions);
  // cborg may hand back a Node Buffer; callers get a plain Uint8Array everywhere.
  return Object.getPrototypeOf(out) === Uint8Array.prototype
    ? out
    : new Uint8Array(out.buffer, out.byteOffset, out.length);
}
