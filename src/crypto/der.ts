/**
 * A strict DER reader for the two places sisp reads DER itself: splitting a
 * certificate into its signed part and signature, and converting an ECDSA
 * signature to WebCrypto's r||s form; and the writer for the way back (a signature
 * from r||s, a certificate from its signed part and signature). Strict means definite, minimal lengths and
 * minimal, positive integers: BER leniency here would make signatures malleable
 * (Wycheproof's ECDSA file checks exactly this).
 */
import { concatBytes, fromHex } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';

/** Fixed DER prefixes of RFC 8410 keys: prefix || 32 raw key bytes. */
export const X25519_SPKI_PREFIX = fromHex('302a300506032b656e032100');
export const ED25519_SPKI_PREFIX = fromHex('302a300506032b6570032100');
export const X25519_PKCS8_PREFIX = fromHex('302e020100300506032b656e04220420');
export const ED25519_PKCS8_PREFIX = fromHex('302e020100300506032b657004220420');

export interface Tlv {
  readonly tag: number;
  /** Offset of the tag byte. */
  readonly start: number;
  /** Offset of the first content byte. */
  readonly contentStart: number;
  /** Offset just past the content. */
  readonly end: number;
}

function bad(why: string): never {
  throw sispError('E_CERTIFICATE', `malformed DER: ${why}`);
}

export function readTlv(der: Uint8Array, offset: number, limit = der.length): Tlv {
  const tag = der[offset];
  if (tag === undefined || offset + 2 > limit) bad('truncated');
  if ((tag & 0x1f) === 0x1f) bad('high tag numbers are not used here');
  const first = der[offset + 1] ?? 0;
  let length: number;
  let contentStart: number;
  if (first < 0x80) {
    length = first;
    contentStart = offset + 2;
  } else {
    const count = first & 0x7f;
    if (count === 0 || count > 4) bad('indefinite or oversized length');
    if (offset + 2 + count > limit) bad('truncated length');
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + (der[offset + 2 + i] ?? 0);
    if (length < 0x80 || (der[offset + 2] ?? 0) === 0) bad('non-minimal length');
    contentStart = offset + 2 + count;
  }
  const end = contentStart + length;
  if (end > limit) bad('content runs past its container');
  return { tag, start: offset, contentStart, end };
}

/** Reads a SEQUENCE's direct children; refuses trailing bytes. */
export function readSequence(der: Uint8Array, tlv: Tlv): Tlv[] {
  if (tlv.tag !== 0x30) bad('expected a SEQUENCE');
  const children: Tlv[] = [];
  for (let at = tlv.contentStart; at < tlv.end;) {
    const child = readTlv(der, at, tlv.end);
    children.push(child);
    at = child.end;
  }
  return children;
}

/** The whole input must be exactly one TLV. */
export function readSingle(der: Uint8Array): Tlv {
  const tlv = readTlv(der, 0);
  if (tlv.end !== der.length) bad('trailing bytes');
  return tlv;
}

/** A DER INTEGER that must be positive and minimal, left-padded to `size` bytes. */
function unsignedInteger(der: Uint8Array, tlv: Tlv, size: number): Uint8Array {
  if (tlv.tag !== 0x02) bad('expected an INTEGER');
  let content = der.subarray(tlv.contentStart, tlv.end);
  if (content.length === 0) bad('empty INTEGER');
  if (((content[0] ?? 0) & 0x80) !== 0) bad('negative INTEGER');
  if (content.length > 1 && content[0] === 0 && ((content[1] ?? 0) & 0x80) === 0)
    bad('non-minimal INTEGER');
  if (content[0] === 0 && content.length > 1) content = content.subarray(1);
  if (content.length > size) bad('INTEGER too large');
  const out = new Uint8Array(size);
  out.set(content, size - content.length);
  return out;
}

/** ECDSA-Sig-Value (SEQUENCE { r INTEGER, s INTEGER }) to WebCrypto's r || s. */
export function ecdsaDerToRaw(der: Uint8Array, size = 32): Uint8Array {
  const sequence = readSingle(der);
  const parts = readSequence(der, sequence);
  const [r, s] = parts;
  if (parts.length !== 2 || r === undefined || s === undefined)
    bad('ECDSA signature is not two INTEGERs');
  const out = new Uint8Array(size * 2);
  out.set(unsignedInteger(der, r, size), 0);
  out.set(unsignedInteger(der, s, size), size);
  return out;
}

/** A certificate split into the signed bytes, the signature algorithm and the signature. */
export function splitSignedDer(der: Uint8Array): {
  tbs: Uint8Array;
  algorithm: Uint8Array;
  signature: Uint8Array;
} {
  const outer = readSingle(der);
  const parts = readSequence(der, outer);
  const [tbs, algorithm, signature] = parts;
  if (
    parts.length !== 3 ||
    tbs === undefined ||
    algorithm === undefined ||
    signature === undefined
  ) {
    bad('a certificate has three parts');
  }
  if (tbs.tag !== 0x30 || algorithm.tag !== 0x30 || signature.tag !== 0x03)
    bad('unexpected certificate structure');
  if (der[signature.contentStart] !== 0 || signature.end - signature.contentStart < 2)
    bad('signature BIT STRING');
  return {
    tbs: der.subarray(tbs.start, tbs.end),
    algorithm: der.subarray(algorithm.start, algorithm.end),
    signature: der.subarray(signature.contentStart + 1, signature.end),
  };
}

/** One DER TLV: `tag`, the definite, minimal length, and `parts` as the content. */
export function derTlv(tag: number, ...parts: readonly Uint8Array[]): Uint8Array {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const header = [tag];
  if (length < 0x80) header.push(length);
  else {
    const lengthBytes: number[] = [];
    for (let rest = length; rest > 0; rest = Math.floor(rest / 256))
      lengthBytes.unshift(rest & 0xff);
    header.push(0x80 | lengthBytes.length, ...lengthBytes);
  }
  return concatBytes(Uint8Array.from(header), ...parts);
}

/** An unsigned big-endian number as a minimal, positive DER INTEGER. */
function derInteger(value: Uint8Array): Uint8Array {
  let start = 0;
  while (start < value.length - 1 && value[start] === 0) start++;
  const magnitude = value.subarray(start);
  const sign = ((magnitude[0] ?? 0) & 0x80) !== 0 ? Uint8Array.of(0) : new Uint8Array(0);
  return derTlv(0x02, sign, magnitude);
}

/** WebCrypto's r || s to ECDSA-Sig-Value in DER: what certificates carry. */
export function ecdsaRawToDer(raw: Uint8Array): Uint8Array {
  if (raw.length === 0 || raw.length % 2 !== 0 || raw.length > 2 * 60)
    bad('raw ECDSA signature has an odd or oversized length');
  const half = raw.length / 2;
  return derTlv(0x30, derInteger(raw.subarray(0, half)), derInteger(raw.subarray(half)));
}
