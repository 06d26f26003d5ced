/** fast-check run counts: quick by default, deep with SLOW=1. */
export function numRuns(quick: number): number {
  return process.env.SLOW === '1' ? quick * 50 : quick;
}
