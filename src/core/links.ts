/**
 * Links for people without an account (docs/PROTOCOL.md 4.9). Making one: the
 * owner's client picks an id and a secret, seals the image's content key under the
 * link key (the secret, or the secret bound to a passphrase) and tells the server
 * the id, the sealed key and the limits; the secret goes only into the URL's
 * fragment. Opening one: the info document is checked by the secret itself (the
 * sealed key binds the link, the image and the CA), then the owner's certificate,
 * the manifest and its signature, then every chunk, as any download.
 */
import { loadCertificates } from './verified.js';
import {
  certificateFingerprint,
  keyFingerprint,
  readableFingerprint,
} from '../crypto/fingerprint.js';
import { linkKey, newLinkPassphrase, openLinkKey, sealLinkKey } from '../crypto/links.js';
import { decodeManifest, verifyManifest, type Manifest } from '../crypto/manifest.js';
import { randomBytes } from '../crypto/webcrypto.js';
import { equalBytes } from '../protocol/bytes.js';
import { decodeStrict } from '../protocol/cbor.js';
import { isSispError, sispError } from '../protocol/errors.js';
import {
  formatLinkUrl,
  fromBase64Url,
  LINK_ID_LENGTH,
  LINK_SECRET_LENGTH,
  linkInfoSchema,
  MAX_LINK_INFO,
  parseLinkUrl,
  type LinkInfo,
} from '../protocol/link.js';
import type { MessageBody } from '../protocol/messages.js';
import type { SispClient } from './client.js';
import { WEB_CRYPTO, type CryptoBackend } from './platform.js';
import { EnvelopeReceiver } from './receive.js';
import { contentKey, ownImage } from './sharing.js';
import type { ImageSink } from './sink.js';

export type LinkSummary = MessageBody<'links.result'>['links'][number];

/** How a link's bytes are fetched: plain HTTPS in Node (client/) and in browsers (fetch). */
export interface LinkFetcher {
  /** The info document's bytes (at most MAX_LINK_INFO), or a SispError with the server's code. */
  info(origin: string, id: Uint8Array): Promise<Uint8Array>;
  /** The envelope, from a connection that trusts exactly `caDer`. */
  blob(origin: string, id: Uint8Array, caDer: Uint8Array): AsyncIterable<Uint8Array>;
}

export interface LinkOptions {
  readonly expires: number;
  readonly maxDownloads?: number;
  readonly passphrase?: string;
}

/** https://HOST:PORT, from the server's wss:// address. */
function originOf(server: string): string {
  const url = new URL(server);
  return `https://${url.host}`;
}

export async function createLink(
  client: SispClient,
  reference: string,
  options: LinkOptions,
): Promise<{ url: string; id: Uint8Array; name: string }> {
  const image = await ownImage(client, reference, 'make a link to');
  const id = randomBytes(LINK_ID_LENGTH);
  const secret = randomBytes(LINK_SECRET_LENGTH);
  const params = options.passphrase === undefined ? undefined : newLinkPassphrase();
  const key = await linkKey(
    secret,
    params === undefined || options.passphrase === undefined
      ? undefined
      : { text: options.passphrase, params },
  );
  const binding = {
    link: id,
    image: image.image,
    caFingerprint: await certificateFingerprint(client.endpoint.caDer),
  };
  const imageKey = await contentKey(client, image);
  const sealed = await sealLinkKey(key, binding, imageKey).finally(() => imageKey.fill(0));
  const reply = await client.connection.request('link.create', {
    link: id,
    image: image.image,
    key: sealed,
    expires: options.expires,
    ...(options.maxDownloads === undefined ? {} : { maxDownloads: options.maxDownloads }),
    ...(params === undefined ? {} : { passphrase: params }),
  });
  if (reply.type !== 'link.done') throw sispError('E_BAD_FRAME', 'unexpected reply to link.create');
  return { url: formatLinkUrl(originOf(client.endpoint.url), id, secret), id, name: image.name };
}

export async function listLinks(client: SispClient): Promise<LinkSummary[]> {
  const reply = await client.connection.request('links', {});
  if (reply.type !== 'links.result') throw sispError('E_BAD_FRAME', 'unexpected reply to links');
  return reply.body.links;
}

/** Revokes a link by its id (as `link list` shows it) or its whole URL. */
export async function revokeLink(client: SispClient, idOrUrl: string): Promise<void> {
  const id = idOrUrl.includes('/')
    ? parseLinkUrl(idOrUrl).id
    : fromBase64Url(idOrUrl, LINK_ID_LENGTH);
  if (id === undefined)
    throw sispError('E_BAD_REQUEST', 'not a link id: copy it from sisp link list');
  const reply = await client.connection.request('link.revoke', { link: id });
  if (reply.type !== 'link.done') throw sispError('E_BAD_FRAME', 'unexpected reply to link.revoke');
}

function decodeInfo(bytes: Uint8Array): LinkInfo {
  if (bytes.length > MAX_LINK_INFO) throw sispError('E_TAMPERED', 'the link info is too large');
  try {
    return linkInfoSchema(decodeStrict(bytes, { maxBytes: MAX_LINK_INFO, maxDepth: 4 }), 'info');
  } catch (cause) {
    throw sispError('E_TAMPERED', 'the link info is malformed', { cause });
  }
}

export interface OpenedLink<R> {
  readonly manifest: Manifest;
  readonly ownerFingerprint: string;
  readonly result: R;
}

export interface OpenOptions {
  /** Asked only when the link needs a passphrase. */
  readonly passphrase?: () => Promise<string>;
  readonly crypto?: CryptoBackend;
  readonly onProgress?: (received: number, total: number) => void;
  readonly signal?: AbortSignal;
}

/** The content key, once the secret (and passphrase) open it for this link, image and CA. */
async function openKey(
  info: LinkInfo,
  id: Uint8Array,
  secret: Uint8Array,
  manifest: Manifest,
  options: OpenOptions,
) {
  let passphrase: { text: string; params: NonNullable<LinkInfo['passphrase']> } | undefined;
  if (info.passphrase !== undefined) {
    if (options.passphrase === undefined)
      throw sispError('E_PASSPHRASE', 'the link needs a passphrase from whoever sent it');
    passphrase = { text: await options.passphrase(), params: info.passphrase };
  }
  const binding = {
    link: id,
    image: manifest.id,
    caFingerprint: await certificateFingerprint(info.ca),
  };
  try {
    return await openLinkKey(await linkKey(secret, passphrase), binding, info.key);
  } catch (error) {
    if (!isSispError(error, 'E_TAMPERED')) throw error;
    if (passphrase !== undefined)
      throw sispError('E_PASSPHRASE', 'wrong passphrase (or a damaged link)');
    throw sispError(
      'E_TAMPERED',
      'the link is damaged or was tampered with: its secret does not open it',
    );
  }
}

/** Checks and opens a link's image into `sink`; nothing reaches the sink unverified. */
export async function openLink<R>(
  fetcher: LinkFetcher,
  url: string,
  sink: ImageSink<R>,
  options: OpenOptions = {},
): Promise<OpenedLink<R>> {
  const { origin, id, secret } = parseLinkUrl(url);
  const info = decodeInfo(await fetcher.info(origin, id));
  let manifest: Manifest;
  try {
    manifest = decodeManifest(info.manifest);
  } catch (cause) {
    throw sispError('E_TAMPERED', 'the link carries a malformed manifest', { cause });
  }
  const key = await openKey(info, id, secret, manifest, options);
  // Loaded here: the X.509 parser stays out of the client's start-up (core/verified.ts).
  const { verifyUserCertificate } = await loadCertificates();
  const owner = await verifyUserCertificate(info.certificate, info.ca, {
    username: manifest.owner,
  });
  if (
    owner.username !== info.owner ||
    !(await verifyManifest(owner.signingKey, info.signature, info.manifest))
  )
    throw sispError('E_TAMPERED', "the owner's signature does not verify");
  const ownerFingerprint = readableFingerprint(
    await keyFingerprint(owner.signingKey, owner.encryptionKey),
  );
  return receive(
    fetcher,
    { origin, id, caDer: info.ca },
    { manifest, ownerFingerprint, key },
    sink,
    options,
  );
}

async function receive<R>(
  fetcher: LinkFetcher,
  from: { origin: string; id: Uint8Array; caDer: Uint8Array },
  image: { manifest: Manifest; ownerFingerprint: string; key: Uint8Array },
  sink: ImageSink<R>,
  options: OpenOptions,
): Promise<OpenedLink<R>> {
  const { manifest, ownerFingerprint } = image;
  const receiver = new EnvelopeReceiver(
    { key: image.key, imageId: manifest.id, crypto: options.crypto ?? WEB_CRYPTO },
    sink,
    { onWritten: () => undefined, onFailure: () => undefined },
  );
  await sink.begin({ manifest, ownerFingerprint });
  try {
    let received = 0;
    for await (const piece of fetcher.blob(from.origin, from.id, from.caDer)) {
      if (options.signal?.aborted === true) throw sispError('E_CANCELLED', 'download cancelled');
      received += piece.length;
      if (received > manifest.ctLength) throw sispError('E_TAMPERED', 'the link sent too much');
      await receiver.write(piece);
      // The sink has each piece before the next is fetched: memory stays at one piece.
      await receiver.settle();
      options.onProgress?.(received, manifest.ctLength);
    }
    const done = await receiver.finish();
    if (
      received !== manifest.ctLength ||
      !equalBytes(done.digest, manifest.sha256) ||
      done.written !== manifest.size
    )
      throw sispError('E_TAMPERED', 'the image is not the one its owner signed');
    return { manifest, ownerFingerprint, result: await sink.commit() };
  } catch (error) {
    await sink.abort().catch(() => undefined);
    throw error;
  } finally {
    image.key.fill(0);
  }
}
