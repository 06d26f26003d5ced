/** Loads the shared external test vectors (../shared/vectors beside the checkout). */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const SHARED = resolve(here, '..', '..', 'shared');
export const WYCHEPROOF = join(SHARED, 'vectors', 'wycheproof');
export const IMAGES = join(SHARED, 'fixtures', 'images');

export interface WycheproofFile<G> {
  readonly numberOfTests: number;
  readonly testGroups: readonly G[];
}

export function loadWycheproof<G>(name: string): WycheproofFile<G> {
  return JSON.parse(readFileSync(join(WYCHEPROOF, name), 'utf8')) as WycheproofFile<G>;
}
