/** Bytes that are an image as far as sniffing goes: a PNG signature, then filler. */
export function pngBytes(size: number, fill = 0x42): Uint8Array {
  const bytes = new Uint8Array(Math.max(size, 8)).fill(fill);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return bytes;
}
