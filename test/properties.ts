/** fast-check run counts: quick by default, deep with SLOW=1 (Node only; browsers run quick). */
export function numRuns(quick: number): number {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env;
  return env?.SLOW === '1' ? quick * 50 : quick;
}
