/** The handler table: which function answers which message, before and after auth. */
import type { Handler, HandshakeHandler, HandshakeType, RequestType } from '../request.js';
import {
  addToAlbum,
  albums,
  createAlbum,
  getAlbum,
  removeFromAlbum,
  shareAlbum,
  unshareAlbum,
} from './albums.js';
import { certificate, events, list, thumbnails } from './catalogue.js';
import { download, key } from './download.js';
import { grants, share, unshare } from './grants.js';
import { deleteImage, usage } from './lifecycle.js';
import { createLink, links, revokeLink } from './links.js';
import { auth, hello, register } from './handshake.js';
import { abort, begin, chunk, end } from './upload.js';

export const HANDSHAKE_HANDLERS: { readonly [T in HandshakeType]: HandshakeHandler<T> } = {
  hello,
  register,
  auth,
};

export const REQUEST_HANDLERS: { readonly [T in RequestType]: Handler<T> } = {
  'post.begin': begin,
  'post.chunk': chunk,
  'post.end': end,
  'post.abort': abort,
  download,
  list,
  share,
  unshare,
  grants,
  'key.get': key,
  events,
  thumbnails,
  delete: deleteImage,
  usage,
  'cert.get': certificate,
  'album.create': createAlbum,
  'album.add': addToAlbum,
  'album.remove': removeFromAlbum,
  'album.share': shareAlbum,
  'album.unshare': unshareAlbum,
  albums,
  'album.get': getAlbum,
  'link.create': createLink,
  'link.revoke': revokeLink,
  links,
};
