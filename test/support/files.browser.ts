/** Test data files in the browser: served by the test runner under /repo/ (see files.ts). */
export async function readTestFile(path: string): Promise<Uint8Array> {
  const response = await fetch(`/repo/${path}`);
  if (!response.ok) throw new Error(`cannot fetch ${path}: ${response.status}`);
  return new Uint8Array(await response.arrayBuffer());
}

export async function readTestText(path: string): Promise<string> {
  return new TextDecoder().decode(await readTestFile(path));
}

export async function readTestJson<T>(path: string): Promise<T> {
  return JSON.parse(await readTestText(path)) as T;
}
