/**
 * The keys behind a link. The link key is the secret from the URL's fragment, or,
 * when the link also has a passphrase, HKDF-Extract(salt = scrypt(passphrase),
 * secret): the fragment alone then opens nothing. The image's content key is sealed
 * under it (key-seal.ts, label "sisp/2 link key") with associated data binding the
 * link id, the image id and the fingerprint of the CA the owner trusts, so a server
 * that answers with another CA (to vouch for a forged owner) makes the key not open.
 */
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { utf8 } from '../protocol/bytes.js';
import { sispError } from '../protocol/errors.js';
import type { LinkPassphrase } from '../protocol/link.js';
import { hkdfExtract } from './hkdf.js';
import { openKey, sealContext, sealKey } from './key-seal.js';
import { randomBytes } from './webcrypto.js';

const LABEL = 'sisp/2 link key';
const CONTEXT = 'sisp/2 link\n';
/** A browser must be able to afford it: 32 MiB, about a second. */
export const LINK_SCRYPT = { N: 2 ** 15, r: 8, p: 1 } as const;
const MAX_SCRYPT_MEMORY = 256 * 1024 * 1024;

export interface LinkBinding {
  readonly link: Uint8Array;
  readonly image: Uint8Array;
  /** SHA-256 of the CA certificate's DER. */
  readonly caFingerprint: Uint8Array;
}

export function newLinkPassphrase(): LinkPassphrase {
  return { salt: randomBytes(16), ...LINK_SCRYPT };
}

/** The link key: the secret itself, or the secret bound to a passphrase. */
export async function linkKey(
  secret: Uint8Array,
  passphrase?: { readonly text: string; readonly params: LinkPassphrase },
): Promise<Uint8Array> {
  if (passphrase === undefined) return secret;
  const { N, r, p, salt } = passphrase.params;
  if (128 * N * r * p > MAX_SCRYPT_MEMORY || (N & (N - 1)) !== 0)
    throw sispError('E_TAMPERED', 'the link asks for unsafe passphrase parameters');
  const stretched = await scryptAsync(utf8(passphrase.text.normalize('NFC')), salt, {
    N,
    r,
    p,
    dkLen: 32,
    maxmem: MAX_SCRYPT_MEMORY + 1024,
  });
  return hkdfExtract('SHA-256', secret, stretched);
}

const context = (binding: LinkBinding): Uint8Array =>
  sealContext(CONTEXT, binding.link, binding.image, binding.caFingerprint);

export function sealLinkKey(
  key: Uint8Array,
  binding: LinkBinding,
  contentKey: Uint8Array,
  /** Test vectors only. */
  nonce?: Uint8Array,
): Promise<Uint8Array> {
  return sealKey(key, LABEL, context(binding), contentKey, nonce);
}

/** E_TAMPERED when it does not open: a wrong secret, passphrase, or CA, or a changed key. */
export function openLinkKey(
  key: Uint8Array,
  binding: LinkBinding,
  sealed: Uint8Array,
): Promise<Uint8Array> {
  return openKey(key, LABEL, context(binding), sealed);
}
