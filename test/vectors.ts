/** The external test vectors kept in test/vectors (each folder with its LICENSE). */
import { readTestJson } from './support/files.js';

export interface WycheproofFile<G> {
  readonly numberOfTests: number;
  readonly testGroups: readonly G[];
}

export function loadWycheproof<G>(name: string): Promise<WycheproofFile<G>> {
  return readTestJson<WycheproofFile<G>>(`test/vectors/wycheproof/${name}`);
}

/** zlib inflate with the web-standard DecompressionStream (Node and browsers alike). */
export async function inflate(bytes: Uint8Array): Promise<Uint8Array> {
  const stream = new Blob([bytes as Uint8Array<ArrayBuffer>])
    .stream()
    .pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
