/**
 * Field schemas shared by frames and the manifest. A name that is text but not
 * canonical is E_INVALID_NAME, whatever message carries it; anything else wrong
 * with a field is E_BAD_REQUEST.
 */
import { isCanonicalImageName, isCanonicalUsername } from './names.js';
import { array, refine, text, type Schema } from './schema.js';
import { sispError } from './errors.js';

export const MAX_RECIPIENTS = 64;

// Names are bounded by their patterns (32 and 64 characters); the looser text bound
// only caps the cost of checking them.
export const usernameField = refine(
  text({ max: 256 }),
  isCanonicalUsername,
  'not a canonical username',
  'E_INVALID_NAME',
);

export const imageNameField = refine(
  text({ max: 256 }),
  isCanonicalImageName,
  'not a valid image name',
  'E_INVALID_NAME',
);

/** 'public', or the named recipients: sorted and unique, the one canonical form. */
export const audienceField: Schema<'public' | string[]> = (value, path) => {
  if (value === 'public') return 'public';
  const names = array(usernameField, { min: 1, max: MAX_RECIPIENTS })(value, path);
  if (names.some((name, i) => i > 0 && (names[i - 1] ?? '') >= name)) {
    throw sispError('E_BAD_REQUEST', `invalid field ${path}: recipients must be sorted and unique`);
  }
  return names;
};
