/**
 * Whether the owner meant us to read an image: it is public or ours, the signed
 * manifest names us, or the owner signed a grant of exactly this wrapped key to us.
 * Downloads and thumbnails both ask, so the server cannot add a reader.
 */
import { verifyGrant } from '../crypto/grants.js';
import type { Audience } from '../crypto/manifest.js';

export async function isEntitled(
  me: string,
  image: { readonly id: Uint8Array; readonly owner: string; readonly audience: Audience },
  ownerSigningKey: Uint8Array,
  key: { readonly enc: Uint8Array; readonly ct: Uint8Array },
  grant: Uint8Array | undefined,
): Promise<boolean> {
  const { audience } = image;
  if (image.owner === me || audience === 'public' || audience.includes(me)) return true;
  if (grant === undefined) return false;
  return verifyGrant(ownerSigningKey, grant, {
    image: image.id,
    owner: image.owner,
    recipient: me,
    enc: key.enc,
    ct: key.ct,
  });
}
