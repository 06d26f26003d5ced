/**
 * Links for people without an account (docs/PROTOCOL.md 4.9): the URL
 * `https://HOST:PORT/l/<id>#<secret>`, where the id names the link to the server
 * and the secret, in the fragment, never reaches it; and the link's info document
 * (CBOR), which the server answers at `/l/<id>/info`. The envelope itself comes from
 * `/l/<id>/blob`, each fetch counted against the link's downloads.
 */
import { sispError } from './errors.js';
import { bytes, struct, uint, type Infer } from './schema.js';
import { usernameField } from './fields.js';

export const LINK_ID_LENGTH = 16;
export const LINK_SECRET_LENGTH = 32;
/** The largest info document: three certificates' worth and a manifest. */
export const MAX_LINK_INFO = 16 * 1024;
/** The longest a link may live: a year. */
export const MAX_LINK_LIFETIME_MS = 366 * 24 * 3600 * 1000;
/** Links one user may have at once (revoked and expired ones included, until pruned). */
export const MAX_LINKS = 1000;

export function toBase64Url(data: Uint8Array): string {
  let binary = '';
  for (const byte of data) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Exactly `length` bytes in unpadded base64url, or undefined. */
export function fromBase64Url(text: string, length: number): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length !== Math.ceil((length * 4) / 3))
    return undefined;
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'));
  const out = Uint8Array.from(binary, (char) => char.charCodeAt(0));
  // Non-canonical trailing bits would give two spellings of one id.
  return out.length === length && toBase64Url(out) === text ? out : undefined;
}

export interface LinkUrl {
  /** https://HOST:PORT, where the link's server answers. */
  readonly origin: string;
  readonly id: Uint8Array;
  readonly secret: Uint8Array;
}

export function formatLinkUrl(origin: string, id: Uint8Array, secret: Uint8Array): string {
  return `${origin}/l/${toBase64Url(id)}#${toBase64Url(secret)}`;
}

/** Whether `text` looks like a link (so a download can tell it from an image name). */
export function isLinkUrl(text: string): boolean {
  return /^https:\/\//i.test(text);
}

export function parseLinkUrl(text: string): LinkUrl {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw sispError('E_BAD_REQUEST', 'not a link: expected https://HOST:PORT/l/<id>#<secret>');
  }
  const match = /^\/l\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
  const id = match?.[1] === undefined ? undefined : fromBase64Url(match[1], LINK_ID_LENGTH);
  if (url.protocol !== 'https:' || id === undefined || url.search !== '')
    throw sispError('E_BAD_REQUEST', 'not a link: expected https://HOST:PORT/l/<id>#<secret>');
  const secret = fromBase64Url(url.hash.slice(1), LINK_SECRET_LENGTH);
  if (secret === undefined)
    throw sispError(
      'E_BAD_REQUEST',
      'the link has no secret after # (or a damaged one): copy the whole link',
    );
  return { origin: url.origin, id, secret };
}

const scrypt = struct({
  salt: bytes({ exact: 16 }),
  N: uint(1 << 20, 1024),
  r: uint(16, 1),
  p: uint(4, 1),
});

/** What `/l/<id>/info` answers: everything needed to check and open the image. */
export const linkInfoSchema = struct(
  {
    v: uint(1, 1),
    /** The sisp CA's certificate (DER); the sealed key binds its fingerprint. */
    ca: bytes({ min: 1, max: 4096 }),
    owner: usernameField,
    /** The owner's certificate (DER), issued by that CA. */
    certificate: bytes({ min: 1, max: 4096 }),
    manifest: bytes({ min: 1, max: 4096 }),
    signature: bytes({ exact: 64 }),
    /** The content key sealed under the link key (crypto/links.ts). */
    key: bytes({ exact: 60 }),
    expires: uint(),
    /** How many times it was downloaded so far. */
    downloads: uint(),
  },
  {
    maxDownloads: uint(),
    /** Present when the link also needs a passphrase: scrypt's parameters for it. */
    passphrase: scrypt,
  },
);

export type LinkInfo = Infer<typeof linkInfoSchema>;
export type LinkPassphrase = NonNullable<LinkInfo['passphrase']>;
export const linkPassphraseSchema = scrypt;
