/**
 * Test data files by their path in the repository, read the same way in Node and
 * in the browser (where files.browser.ts fetches them from the test page's server).
 */
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export async function readTestFile(path: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(join(root, path)));
}

export async function readTestText(path: string): Promise<string> {
  return new TextDecoder().decode(await readTestFile(path));
}

export async function readTestJson<T>(path: string): Promise<T> {
  return JSON.parse(await readTestText(path)) as T;
}
