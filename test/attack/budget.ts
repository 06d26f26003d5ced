/**
 * How long the attack suite runs: a bounded pass in `npm test`, time-boxed longer
 * ones with `npm run attack` (ATTACK_SECONDS, default 60 per attack there).
 */
const env = process.env.ATTACK_SECONDS;

/** Seconds each long attack runs; 0 in the quick pass. */
export const ATTACK_SECONDS = env === undefined || env === '' ? 0 : Math.max(1, Number(env));

/** The quick count, or as many as fit in the time box. */
export function rounds(quick: number): number {
  return ATTACK_SECONDS === 0 ? quick : Number.MAX_SAFE_INTEGER;
}

/** True while a long attack's time box lasts (or for the quick pass, always). */
export function until(started: number): boolean {
  return ATTACK_SECONDS === 0 || Date.now() - started < ATTACK_SECONDS * 1000;
}
