/** One valid body for every message type: fixed bytes, so encodings are stable. */
import type { MessageBody, MessageType } from '../../src/protocol/messages.js';

const fill = (length: number, byte: number) => new Uint8Array(length).fill(byte);

export const SAMPLES: { [T in MessageType]: MessageBody<T> } = {
  hello: { versions: [2], agent: 'sisp-cli/0.1' },
  welcome: {
    version: 2,
    nonce: fill(32, 0x4e),
    caFingerprint: fill(32, 0xca),
    serverCertificate: fill(300, 0x30),
    maxFrame: 1_049_600,
    maxImage: 1_073_741_824,
  },
  register: {
    username: 'alice',
    signingKey: fill(32, 0x51),
    encryptionKey: fill(32, 0xe1),
    proof: fill(64, 0x50),
  },
  registered: { username: 'alice', certificate: fill(400, 0x30) },
  auth: { username: 'alice', signature: fill(64, 0x5a) },
  authed: { username: 'alice', certificate: fill(400, 0x30) },
  'post.begin': {
    image: fill(16, 0x1d),
    name: 'sunset',
    contentType: 'image/png',
    size: 30605,
    audience: 'public',
    keys: [
      { recipient: '@server', enc: fill(32, 0xe0), ct: fill(48, 0xc0) },
      { recipient: 'alice', enc: fill(32, 0xe1), ct: fill(48, 0xc1) },
    ],
    replace: false,
  },
  'post.ready': { credit: 8 * 1024 * 1024 },
  'post.chunk': { data: fill(1000, 0xdd) },
  'post.end': { manifest: fill(200, 0x4d), signature: fill(64, 0x53) },
  'post.abort': {},
  'post.done': { image: fill(16, 0x1d), created: 1_764_000_000_000 },
  download: { credit: 4 * 1024 * 1024, owner: 'alice', name: 'sunset' },
  'download.begin': {
    manifest: fill(200, 0x4d),
    signature: fill(64, 0x53),
    certificate: fill(400, 0x30),
    key: { enc: fill(32, 0xe2), ct: fill(48, 0xc2) },
  },
  'download.chunk': { data: fill(1000, 0xdd) },
  'download.end': {},
  credit: { bytes: 4 * 1024 * 1024 },
  list: { after: fill(20, 0x1c), limit: 50 },
  'list.result': {
    images: [{ manifest: fill(200, 0x1d), signature: fill(64, 0x53) }],
    certificates: [{ username: 'alice', certificate: fill(400, 0x30) }],
    next: fill(20, 0x1c),
  },
  share: {
    image: fill(16, 0x1d),
    grants: [
      { recipient: 'carol', enc: fill(32, 0xe3), ct: fill(48, 0xc3), signature: fill(64, 0x47) },
    ],
  },
  'share.done': {},
  unshare: {
    image: fill(16, 0x1d),
    recipient: 'carol',
    withdrawn: 1_764_000_000_000,
    signature: fill(64, 0x57),
  },
  'unshare.done': { held: true },
  events: { after: 41, limit: 100 },
  'events.result': {
    events: [
      { kind: 'new_image', image: fill(16, 0x1d), name: 'sunset', owner: 'alice', position: 42 },
    ],
    position: 42,
    more: false,
  },
  thumbnails: { images: [fill(16, 0x1d)] },
  'thumbnails.result': {
    thumbnails: [
      {
        image: fill(16, 0x1d),
        data: fill(300, 0x7e),
        key: { enc: fill(32, 0xe2), ct: fill(48, 0xc2) },
      },
    ],
    covered: 1,
  },
  'key.get': { image: fill(16, 0x1d) },
  key: { key: { enc: fill(32, 0xe2), ct: fill(48, 0xc2) } },
  grants: { image: fill(16, 0x1d) },
  'grants.result': { recipients: ['bob', 'carol'] },
  delete: { image: fill(16, 0x1d) },
  'delete.done': {},
  usage: {},
  'usage.result': { images: 12, bytes: 3_500_000, maxImages: 10_000, maxBytes: 10_737_418_240 },
  'cert.get': { username: 'bob' },
  cert: { username: 'bob', certificate: fill(400, 0x30) },
  'event.new_image': { image: fill(16, 0x1d), name: 'sunset', owner: 'alice', position: 42 },
  'event.deleted': { image: fill(16, 0x1d), name: 'sunset', owner: 'alice', position: 42 },
  'event.unshared': { image: fill(16, 0x1d), name: 'sunset', owner: 'alice', position: 42 },
  'event.album_shared': { album: fill(16, 0xa1), name: 'holiday', owner: 'alice', position: 43 },
  'event.album_unshared': { album: fill(16, 0xa1), name: 'holiday', owner: 'alice', position: 44 },
  'album.create': {
    album: fill(16, 0xa1),
    name: 'holiday',
    key: { enc: fill(32, 0xe1), ct: fill(48, 0xc1) },
    signature: fill(64, 0x53),
  },
  'album.add': {
    album: fill(16, 0xa1),
    items: [{ image: fill(16, 0x1d), key: fill(60, 0x5e), signature: fill(64, 0x53) }],
  },
  'album.remove': { album: fill(16, 0xa1), images: [fill(16, 0x1d)] },
  'album.share': {
    album: fill(16, 0xa1),
    members: [
      { member: 'bob', enc: fill(32, 0xe2), ct: fill(48, 0xc2), signature: fill(64, 0x53) },
    ],
  },
  'album.unshare': { album: fill(16, 0xa1), member: 'bob' },
  'album.done': { changed: 1 },
  albums: {},
  'albums.result': {
    albums: [{ album: fill(16, 0xa1), name: 'holiday', owner: 'alice', images: 3, members: 2 }],
  },
  'album.get': { owner: 'alice', name: 'holiday' },
  'album.result': {
    album: fill(16, 0xa1),
    name: 'holiday',
    owner: 'alice',
    certificate: fill(400, 0x30),
    members: [
      { member: 'alice', enc: fill(32, 0xe1), ct: fill(48, 0xc1), signature: fill(64, 0x53) },
    ],
    items: [{ image: fill(16, 0x1d), key: fill(60, 0x5e), signature: fill(64, 0x53) }],
    next: fill(16, 0x1d),
  },
  error: { code: 'E_NOT_FOUND', message: 'Not found.' },
};
