/** The platform's WebCrypto, in browsers and in Node alike. */
import { toArrayBufferView } from '../protocol/bytes.js';

export function subtle(): SubtleCrypto {
  const api = globalThis.crypto as Crypto | undefined;
  if (api?.subtle === undefined) throw new Error('WebCrypto is not available in this environment');
  return api.subtle;
}

export function randomBytes(length: number): Uint8Array {
  const out = new Uint8Array(length);
  // getRandomValues fills at most 65536 bytes per call.
  for (let offset = 0; offset < length; offset += 65536) {
    globalThis.crypto.getRandomValues(out.subarray(offset, Math.min(length, offset + 65536)));
  }
  return out;
}

/** WebCrypto's BufferSource parameters want ArrayBuffer-backed views. */
export function buf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return toArrayBufferView(bytes);
}
