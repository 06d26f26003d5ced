/** CBOR that sisp must refuse: the same content with its map keys in reverse order. */
import { encode, type Token } from 'cborg';

/** RFC 8949 4.2.1 order for short ASCII text keys: by encoded length, then bytewise. */
function compareKeys(a: (Token | Token[])[], b: (Token | Token[])[]): number {
  const key = (entry: (Token | Token[])[]) => String((entry[0] as Token).value);
  const [x, y] = [key(a), key(b)];
  if (x.length !== y.length) return x.length - y.length;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function encodeReversedKeys(value: unknown): Uint8Array {
  return encode(value, { mapSorter: (a, b) => -compareKeys(a, b) });
}
