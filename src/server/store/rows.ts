/**
 * Rows as both SQL stores read them, and the records the Store port returns. Bytes
 * come back as Node Buffers (or views on a shared page); callers get plain copies.
 */
import type {
  AlbumItem,
  AlbumMember,
  AlbumRecord,
  ImageRecord,
  LinkRecord,
  UserRecord,
} from './types.js';

export const plain = (bytes: Uint8Array): Uint8Array => new Uint8Array(bytes);

export interface ImageRow {
  id: Uint8Array;
  owner: string;
  name: string;
  content_type: string;
  size: number;
  ct_length: number;
  sha256: Uint8Array;
  blob: string;
  manifest: Uint8Array;
  signature: Uint8Array;
  audience: 'public' | 'private';
  created: number;
}

export function toImage(row: ImageRow): ImageRecord {
  return {
    id: plain(row.id),
    owner: row.owner,
    name: row.name,
    contentType: row.content_type,
    size: row.size,
    ctLength: row.ct_length,
    sha256: plain(row.sha256),
    blob: row.blob,
    manifest: plain(row.manifest),
    signature: plain(row.signature),
    audience: row.audience,
    created: row.created,
  };
}

export interface UserRow {
  username: string;
  signing_key: Uint8Array;
  encryption_key: Uint8Array;
  certificate: Uint8Array;
  created: number;
}

export function toUser(row: UserRow): UserRecord {
  return {
    username: row.username,
    signingKey: plain(row.signing_key),
    encryptionKey: plain(row.encryption_key),
    certificate: plain(row.certificate),
    created: row.created,
  };
}

export interface AlbumRow {
  id: Uint8Array;
  owner: string;
  name: string;
  created: number;
}

export const toAlbum = (row: AlbumRow): AlbumRecord => ({
  id: plain(row.id),
  owner: row.owner,
  name: row.name,
  created: row.created,
});

export const toMember = (row: AlbumMember): AlbumMember => ({
  member: row.member,
  enc: plain(row.enc),
  ct: plain(row.ct),
  signature: plain(row.signature),
});

export const toItem = (row: AlbumItem): AlbumItem => ({
  image: plain(row.image),
  key: plain(row.key),
  signature: plain(row.signature),
});

export interface LinkRow {
  id: Uint8Array;
  owner: string;
  image: Uint8Array;
  key: Uint8Array;
  created: number;
  expires: number;
  max_downloads: number | null;
  downloads: number;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  revoked: number | boolean;
  pass_salt: Uint8Array | null;
  pass_n: number | null;
  pass_r: number | null;
  pass_p: number | null;
}

export function toLink(row: LinkRow): LinkRecord {
  const link = {
    id: plain(row.id),
    owner: row.owner,
    image: plain(row.image),
    key: plain(row.key),
    created: row.created,
    expires: row.expires,
    downloads: row.downloads,
    revoked: row.revoked === 1 || row.revoked === true,
  };
  const limited = row.max_downloads === null ? link : { ...link, maxDownloads: row.max_downloads };
  if (row.pass_salt === null || row.pass_n === null || row.pass_r === null || row.pass_p === null)
    return limited;
  const passphrase = { salt: plain(row.pass_salt), N: row.pass_n, r: row.pass_r, p: row.pass_p };
  return { ...limited, passphrase };
}
