/**
 * A post made frame by frame with real cryptography, where a test can change one
 * thing (the bytes sent, the manifest, how it is encoded or signed) and see what
 * the server answers.
 */
import { EnvelopeEncryptor, sealedLength } from '../../src/crypto/envelope.js';
import { wrapContentKey } from '../../src/crypto/hpke.js';
import { publicIdentity, type Identity } from '../../src/crypto/keys.js';
import {
  encodeManifest,
  envelopeContext,
  signManifest,
  type Manifest,
} from '../../src/crypto/manifest.js';
import { randomBytes } from '../../src/crypto/webcrypto.js';
import { sha256Digest } from '../../src/crypto/hash.js';
import { concatBytes } from '../../src/protocol/bytes.js';
import type { Message } from '../../src/protocol/messages.js';
import type { RawPeer } from '../support/raw-peer.js';
import { pngBytes } from './images.js';

export interface RawPostOptions {
  readonly id: number;
  readonly username: string;
  readonly identity: Identity;
  readonly name?: string;
  readonly size?: number;
  /** Sends only this many envelope bytes (a short upload). */
  readonly sendBytes?: number;
  /** Changes the manifest before it is encoded. */
  readonly manifest?: (manifest: Manifest) => Manifest;
  /** Encodes the manifest (default: canonically). */
  readonly encode?: (manifest: Manifest) => Uint8Array;
  /** Signs the encoded manifest (default: the owner's key, manifest domain). */
  readonly sign?: (encoded: Uint8Array) => Promise<Uint8Array>;
  /** A (sealed) thumbnail sent in post.begin; the manifest describes it unless changed. */
  readonly thumbnail?: Uint8Array;
}

/** Posts an image privately to its owner; returns the server's answer to post.end. */
export async function rawPost(peer: RawPeer, options: RawPostOptions): Promise<Message> {
  const { id, username, identity } = options;
  const image = randomBytes(16);
  const key = randomBytes(32);
  const plaintext = pngBytes(options.size ?? 50_000);
  const encryptor = await EnvelopeEncryptor.create({ key, context: envelopeContext(image) });
  const envelope = concatBytes(
    encryptor.header(),
    ...(await encryptor.update(plaintext)),
    await encryptor.finish(),
  );
  const own = await publicIdentity(identity);
  const name = options.name ?? `raw-${id}`;
  peer.send('post.begin', id, {
    image,
    name,
    contentType: 'image/png',
    size: plaintext.length,
    audience: [username],
    keys: [
      { recipient: username, ...(await wrapContentKey(key, own.encryptionKey, image, username)) },
    ],
    replace: false,
    ...(options.thumbnail === undefined ? {} : { thumbnail: options.thumbnail }),
  });
  const ready = await peer.reply(id);
  if (ready.type !== 'post.ready') return ready;
  const sent = envelope.subarray(0, options.sendBytes ?? envelope.length);
  for (let at = 0; at < sent.length; at += 65_536)
    peer.send('post.chunk', id, { data: sent.subarray(at, at + 65_536) });
  const base: Manifest = {
    v: 1,
    id: image,
    owner: username,
    name,
    type: 'image/png',
    size: plaintext.length,
    ctLength: sealedLength(plaintext.length),
    sha256: await sha256Digest(envelope),
    created: Date.now(),
    audience: [username],
    ...(options.thumbnail === undefined
      ? {}
      : {
          thumbnail: {
            type: 'image/webp' as const,
            ctLength: options.thumbnail.length,
            sha256: await sha256Digest(options.thumbnail),
          },
        }),
  };
  const manifest = options.manifest?.(base) ?? base;
  const encoded = (options.encode ?? encodeManifest)(manifest);
  const signature = await (
    options.sign ?? ((bytes) => signManifest(identity.signing.privateKey, bytes))
  )(encoded);
  peer.send('post.end', id, { manifest: encoded, signature });
  return peer.next((message) => message.id === id && message.type !== 'credit');
}
