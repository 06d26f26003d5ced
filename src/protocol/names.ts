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
 * control characters and leading dots. Unicode letters are fine; names are compared
 * after NFC.
 */
export const IMAGE_NAME_PATTERN = /^(?!\.)[\p{L}\p{N}._ -]{1,64}$/u;

export function normalizeImageName(input: string): string {
  if (typeof input !== 'string' || input.length > 256) {
    throw sispError('E_INVALID_NAME', 'image names are 1 to 64 characters');
  }
  const canonical = input.normalize('NFC');
  if (!IMAGE_NAME_PATTERN.test(canonical) || canonical.trim() !== canonical) {
    throw sispError(
      'E_INVALID_NAME',
      'image names are 1 to 64 letters, digits, spaces, ".", "_" or "-", not starting with "."',
    );
  }
  return canonical;
}

export function isCanonicalImageName(value: string): boolean {
  return (
    value.normalize('NFC') === value && IMAGE_NAME_PATTERN.test(value) && value.trim() === value
  );
}
