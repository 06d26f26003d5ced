/**
 * Usernames and image names. Usernames are ASCII by design: a small alphabet makes
 * look-alikes (Cyrillic 'а' for Latin 'a') impossible rather than merely detected,
 * and case-folding makes 'Alice' and 'alice' the same account.
 */
import { sispError } from './errors.js';

export const USERNAME_PATTERN = /^[a-z][a-z0-9_-]{2,31}$/;
export const USERNAME_MAX = 32;

/** NFC, then case-fold, then check the alphabet. Returns the canonical form. */
export function normalizeUsername(input: string): string {
  if (typeof input !== 'string' || input.length > 256) {
    throw sispError('E_INVALID_NAME', 'usernames are 3 to 32 characters');
  }
  const canonical = input.normalize('NFC').toLowerCase();
  if (!USERNAME_PATTERN.test(canonical)) {
    throw sispError(
      'E_INVALID_NAME',
      'usernames are 3 to 32 characters: a letter, then letters, digits, "_" or "-"',
    );
  }
  return canonical;
}

export function isCanonicalUsername(value: string): boolean {
  return USERNAME_PATTERN.test(value);
}

/**
 * Image names become file names on download, so they exclude path separators,
 * control characters and leading dots. Unicode letters are fine, within limits that
 * keep one name from passing for another (Unicode TS 39): no default-ignorable or
 * blank-rendering code points (U+3164 HANGUL FILLER, zero-width joiners...), no
 * compatibility characters (mathematical alphanumerics, fullwidth, ligatures: a
 * name must be what NFKC makes of it), and no mixing of scripts beyond what one
 * language writes (Latin with Han and kana, Latin with Han and Hangul...). Names are
 * unique per owner by imageNameKey: NFKC, then lower case.
 */
export const IMAGE_NAME_PATTERN = /^(?!\.)[\p{L}\p{N}._ -]{1,64}$/u;

const DEFAULT_IGNORABLE = /\p{Default_Ignorable_Code_Point}/u;
const NEUTRAL = /[\p{Script=Common}\p{Script=Inherited}]/u;
const SCRIPTS: readonly (readonly [string, RegExp])[] = [
  ['Latin', /\p{Script=Latin}/u],
  ['Greek', /\p{Script=Greek}/u],
  ['Cyrillic', /\p{Script=Cyrillic}/u],
  ['Armenian', /\p{Script=Armenian}/u],
  ['Hebrew', /\p{Script=Hebrew}/u],
  ['Arabic', /\p{Script=Arabic}/u],
  ['Devanagari', /\p{Script=Devanagari}/u],
  ['Bengali', /\p{Script=Bengali}/u],
  ['Tamil', /\p{Script=Tamil}/u],
  ['Thai', /\p{Script=Thai}/u],
  ['Georgian', /\p{Script=Georgian}/u],
  ['Ethiopic', /\p{Script=Ethiopic}/u],
  ['Hangul', /\p{Script=Hangul}/u],
  ['Hiragana', /\p{Script=Hiragana}/u],
  ['Katakana', /\p{Script=Katakana}/u],
  ['Bopomofo', /\p{Script=Bopomofo}/u],
  ['Han', /\p{Script=Han}/u],
];
/** Scripts one name may mix (UTS 39 "highly restrictive"). */
const ALLOWED_MIXES: readonly ReadonlySet<string>[] = [
  new Set(['Latin', 'Han', 'Hiragana', 'Katakana']),
  new Set(['Latin', 'Han', 'Bopomofo']),
  new Set(['Latin', 'Han', 'Hangul']),
];

function scriptsOf(name: string): Set<string> {
  const scripts = new Set<string>();
  for (const char of name) {
    if (NEUTRAL.test(char)) continue;
    scripts.add(SCRIPTS.find(([, pattern]) => pattern.test(char))?.[0] ?? `other:${char}`);
  }
  return scripts;
}

/** Why `name` (NFC) is not a valid image name, or undefined if it is. */
function imageNameProblem(name: string): string | undefined {
  if (!IMAGE_NAME_PATTERN.test(name) || name.trim() !== name)
    return 'image names are 1 to 64 letters, digits, spaces, ".", "_" or "-", not starting with "." or a space';
  if (DEFAULT_IGNORABLE.test(name)) return 'image names may not contain invisible characters';
  if (name.normalize('NFKC') !== name)
    return 'image names may not contain compatibility characters (styled, fullwidth or ligature forms)';
  const scripts = scriptsOf(name);
  if (scripts.size > 1 && !ALLOWED_MIXES.some((mix) => [...scripts].every((s) => mix.has(s))))
    return 'image names may not mix scripts (such as Latin with Cyrillic)';
  return undefined;
}

export function normalizeImageName(input: string): string {
  if (typeof input !== 'string' || input.length > 256) {
    throw sispError('E_INVALID_NAME', 'image names are 1 to 64 characters');
  }
  const canonical = input.normalize('NFC');
  const problem = imageNameProblem(canonical);
  if (problem !== undefined) throw sispError('E_INVALID_NAME', problem);
  return canonical;
}

export function isCanonicalImageName(value: string): boolean {
  return value.normalize('NFC') === value && imageNameProblem(value) === undefined;
}

/** What two names of one owner are compared by: "Sunset" and "sunset" are one name. */
export function imageNameKey(name: string): string {
  return name.normalize('NFKC').toLowerCase();
}
