/**
 * "Did you mean": the candidates closest to a mistyped word by Damerau-Levenshtein
 * distance (a swapped pair of letters counts once, so `downlaod` finds `download`).
 */

export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const columns = b.length + 1;
  const d: number[] = new Array<number>(rows * columns).fill(0);
  const at = (i: number, j: number): number => d[i * columns + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * columns] = i;
  for (let j = 0; j < columns; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < columns; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      d[i * columns + j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The closest candidates (ties kept, in order), or none when nothing is close. */
export function suggest(word: string, candidates: readonly string[]): string[] {
  const typed = word.toLowerCase();
  let best = Infinity;
  let found: string[] = [];
  for (const candidate of candidates) {
    const distance = editDistance(typed, candidate.toLowerCase());
    // Close means at most a third of the word wrong, and never more than two edits.
    const limit = Math.min(2, Math.max(1, Math.floor(candidate.length / 3)));
    if (distance > limit) continue;
    if (distance < best) {
      best = distance;
      found = [candidate];
    } else if (distance === best) found.push(candidate);
  }
  return found;
}

/** "\n(Did you mean download?)", or nothing. */
export function didYouMean(word: string, candidates: readonly string[]): string {
  const found = suggest(word, candidates);
  return found.length === 0 ? '' : `\n(Did you mean ${found.join(' or ')}?)`;
}
