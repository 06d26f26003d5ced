/** Byte helpers on Uint8Array only: this layer runs in browsers too. */
import { sispError } from './errors.js';

const utf8Encoder = new TextEncoder();
const utf8StrictDecoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function utf8(text: string): Uint8Array {
  return utf8Encoder.encode(text);
}

/** Decodes UTF-8, refusing invalid sequences instead of substituting U+FFFD. */
export function fromUtf8(bytes: Uint8Array): string {
  try {
    return utf8StrictDecoder.decode(bytes);
  } catch (cause) {
    throw sispError('E_BAD_FRAME', 'invalid UTF-8', { cause });
  }
}

export function isValidUtf8(bytes: Uint8Array): boolean {
  try {
    utf8StrictDecoder.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let length = 0;
  for (const part of parts) length += part.length;
  const out = new Uint8Array(length);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

/** Constant-time for equal lengths; lengths are not secret anywhere we compare. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

const HEX = '0123456789abcdef';

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += (HEX[byte >> 4] ?? '') + (HEX[byte & 15] ?? '');
  return out;
}

export function fromHex(hex: string): Uint8Array {
  if (hex.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(hex)) {
    throw sispError('E_BAD_REQUEST', 'invalid hex string');
  }
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return out;
}

/** Copies into a fresh ArrayBuffer-backed array, as WebCrypto's BufferSource types want. */
export function toArrayBufferView(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  if (bytes.buffer instanceof ArrayBuffer) return bytes as Uint8Array<ArrayBuffer>;
  return new Uint8Array(bytes);
}

// Input checks by name, in the manner of noble's abytes/anumber: a wrong type from a
// caller is a programming error, reported with the parameter's name.
export function checkBytes(
  name: string,
  value: unknown,
  length?: number,
): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new TypeError(`${name} must be a Uint8Array`);
  }
  if (length !== undefined && value.length !== length) {
    throw new TypeError(`${name} must be ${length} bytes, got ${value.length}`);
  }
}
