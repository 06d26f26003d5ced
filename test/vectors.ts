/** Loads the external test vectors kept in test/vectors (each folder with its LICENSE). */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const WYCHEPROOF = join(here, 'vectors', 'wycheproof');
export const IMAGES = join(here, 'fixtures', 'images');

export interface WycheproofFile<G> {
  readonly numberOfTests: number;
  readonly testGroups: readonly G[];
}

export function loadWycheproof<G>(name: string): WycheproofFile<G> {
  return JSON.parse(readFileSync(join(WYCHEPROOF, name), 'utf8')) as WycheproofFile<G>;
}
