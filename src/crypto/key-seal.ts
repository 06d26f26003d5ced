/**
 * A 32-byte key sealed under another symmetric key: AES-256-GCM under
 * HKDF-SHA-256(wrapping key, label), a random nonce, and associated data that names
 * what the sealed key belongs to. Albums seal each image's content key under the
 * album key; links seal it under a key derived from the link's secret. Each use has
 * its own label, so a key sealed for one never opens as another.
 */
import { checkBytes, concatBytes, utf8 } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import { GCM_NONCE, GCM_TAG, webCryptoAes256Gcm } from './aead.js';
import { hkdfExpand, hkdfExtract } from './hkdf.js';
import { randomBytes } from './webcrypto.js';

/** nonce || AES-GCM(32-byte key) || tag. */
export const SEALED_KEY_SIZE = GCM_NONCE + 32 + GCM_TAG;

export type SealLabel = 'sisp/2 album item key' | 'sisp/2 link key';

function sealingKey(wrappingKey: Uint8Array, label: SealLabel): Uint8Array {
  return hkdfExpand(
    'SHA-256',
    hkdfExtract('SHA-256', wrappingKey, new Uint8Array(0)),
    utf8(label),
    32,
  );
}

export async function sealKey(
  wrappingKey: Uint8Array,
  label: SealLabel,
  aad: Uint8Array,
  key: Uint8Array,
  /** Test vectors only. */
  nonce: Uint8Array = randomBytes(GCM_NONCE),
): Promise<Uint8Array> {
  checkBytes('wrappingKey', wrappingKey, 32);
  checkBytes('key', key, 32);
  checkBytes('nonce', nonce, GCM_NONCE);
  const aead = await webCryptoAes256Gcm(sealingKey(wrappingKey, label));
  return concatBytes(nonce, await aead.seal(nonce, key, aad));
}

/** E_TAMPERED unless `sealed` is a key sealed under this wrapping key, label and aad. */
export async function openKey(
  wrappingKey: Uint8Array,
  label: SealLabel,
  aad: Uint8Array,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  checkBytes('wrappingKey', wrappingKey, 32);
  if (!(sealed instanceof Uint8Array) || sealed.length !== SEALED_KEY_SIZE)
    throw sispError('E_TAMPERED', 'the sealed key is malformed');
  const aead = await webCryptoAes256Gcm(sealingKey(wrappingKey, label));
  const key = await aead.open(sealed.subarray(0, GCM_NONCE), sealed.subarray(GCM_NONCE), aad);
  if (key === null) throw sispError('E_TAMPERED', 'the sealed key could not be opened');
  return key;
}

/** Associated data: a label line, then the ids the key is bound to. */
export function sealContext(line: string, ...ids: Uint8Array[]): Uint8Array {
  return concatBytes(utf8(line), ...ids);
}
