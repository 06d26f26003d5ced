/**
 * post.begin / chunk / end / abort. post.begin says what the image will be (id,
 * name, type, size, audience, wrapped keys); the envelope then streams into a new
 * blob under flow control; post.end brings the signed manifest, which must match
 * what begin declared and the length of exactly the bytes received. The server
 * does not hash the envelope: integrity is end to end (the signed manifest carries
 * its digest, which every downloader checks), and each blob is named by a random
 * key drawn here, not by its content. Nothing becomes visible until the blob and the
 * metadata are durable; only then does post.done go out.
 */
import { randomBytes } from 'node:crypto';
import { nodeSha256 } from '../../node/aead.js';
import { sealedLength } from '../../crypto/envelope.js';
import {
  decodeManifest,
  verifyManifest,
  type Audience,
  type Manifest,
} from '../../crypto/manifest.js';
import { equalBytes, toHex } from '../../protocol/bytes.js';
import { isSispError, sispError, type SispError } from '../../protocol/errors.js';
import { SERVER_RECIPIENT, type MessageBody } from '../../protocol/messages.js';
import type { ImageEvent } from '../events/types.js';
import type { RequestContext, RequestMessage } from '../request.js';
import type { ImageRecord, KeyGrant, Usage } from '../store/types.js';
import { UploadTransfer, type Declared } from '../transfers.js';

function exists(name: string): SispError {
  return sispError('E_EXISTS', `you already have an image named "${name}"; use --replace`);
}

export async function begin(
  context: RequestContext,
  message: RequestMessage<'post.begin'>,
): Promise<void> {
  const { store, blobs, config } = context.services;
  const body = message.body;
  context.transfers.checkNew(context.id);
  if (body.size > config.limits.maxImage)
    throw sispError('E_TOO_LARGE', `images are limited to ${config.limits.maxImage} bytes`);
  const keys = await checkKeys(context, body.audience, body.keys);
  const { existing, idTaken, usage } = await store.checkPost(context.user, body.name, body.image);
  if (!body.replace && existing !== undefined) throw exists(body.name);
  if (idTaken) throw sispError('E_BAD_REQUEST', 'image id already used');
  checkQuota(context, body.size, usage, existing);
  await checkSpace(context, sealedLength(body.size));
  const upload = new UploadTransfer(
    body,
    keys,
    await blobs.begin(randomBytes(16).toString('hex')),
    config.limits.uploadWindow,
    context.services.credit,
  );
  try {
    context.transfers.addUpload(context.id, upload);
  } catch (error) {
    await upload.abort();
    throw error;
  }
  await context.send('post.ready', { credit: await upload.initialCredit() });
}

/** The user's images and bytes stay within the limits, counting a replaced image out. */
function checkQuota(
  context: RequestContext,
  size: number,
  usage: Usage,
  replaced: ImageRecord | undefined,
): void {
  const { limits } = context.services.config;
  const images = usage.images + 1 - (replaced === undefined ? 0 : 1);
  const bytes = usage.bytes + size - (replaced?.size ?? 0);
  if (images > limits.imagesPerUser)
    throw sispError(
      'E_QUOTA',
      `you have ${usage.images} of the ${limits.imagesPerUser} images allowed; delete some to post more`,
    );
  if (bytes > limits.bytesPerUser)
    throw sispError(
      'E_QUOTA',
      `this image would take you to ${bytes} of the ${limits.bytesPerUser} bytes allowed ` +
        `(${usage.bytes} used); delete some to post more`,
    );
}

/** Refuses an upload that would leave the blob store with less than the configured reserve. */
async function checkSpace(context: RequestContext, ctLength: number): Promise<void> {
  const free = await context.services.blobs.freeSpace();
  if (free !== undefined && free - ctLength < context.services.config.limits.minFreeBytes) {
    context.services.log.warn({ event: 'no_space', free }, 'upload refused: storage nearly full');
    throw sispError('E_NO_SPACE', 'the server is out of storage space; try again later');
  }
}

/** The wrapped keys must be exactly: the owner, plus @server (public) or each named recipient. */
async function checkKeys(
  context: RequestContext,
  audience: Audience,
  keys: Declared['keys'],
): Promise<KeyGrant[]> {
  const expected = new Set<string>([context.user]);
  if (audience === 'public') expected.add(SERVER_RECIPIENT);
  else for (const name of audience) expected.add(name);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.recipient)) throw sispError('E_BAD_REQUEST', 'duplicate recipient key');
    seen.add(key.recipient);
    if (!expected.has(key.recipient))
      throw sispError('E_BAD_REQUEST', 'a key for someone outside the audience');
  }
  if (seen.size !== expected.size)
    throw sispError('E_BAD_REQUEST', 'a wrapped key is missing for part of the audience');
  if (audience !== 'public') {
    for (const name of audience) {
      if ((await context.services.store.getUser(name)) === undefined)
        throw sispError('E_NOT_FOUND', `no user named ${name}`);
    }
  }
  return keys.map((key) => ({ recipient: key.recipient, enc: key.enc, ct: key.ct }));
}

/**
 * Stores one chunk (already admitted within credit as it arrived). Not awaited: the
 * next frame is taken while this one is written; credit goes back only once data
 * reaches storage, so memory stays bounded by the window.
 */
export function chunk(
  context: RequestContext,
  message: RequestMessage<'post.chunk'>,
): Promise<void> {
  const upload = context.transfers.upload(context.id);
  // Already ended and answered: later chunks are dropped quietly.
  if (upload === undefined) return Promise.resolve();
  upload.write(message.body.data).then(
    (grant) => {
      if (grant > 0 && context.transfers.upload(context.id) === upload)
        void context.send('credit', { bytes: grant });
    },
    (error: unknown) => {
      if (context.transfers.upload(context.id) === upload) context.fail(error);
    },
  );
  return Promise.resolve();
}

export async function abort(
  context: RequestContext,
  _message: RequestMessage<'post.abort'>,
): Promise<void> {
  await context.transfers.takeUpload(context.id)?.abort();
}

function sameAudience(a: Audience, b: Audience): boolean {
  if (a === 'public' || b === 'public') return a === b;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** The manifest must say what begin declared, about exactly the bytes received, signed by the owner. */
async function checkManifest(
  context: RequestContext,
  upload: UploadTransfer,
  body: MessageBody<'post.end'>,
): Promise<Manifest> {
  if (upload.received !== upload.ctLength)
    throw sispError('E_INCOMPLETE', 'the upload is shorter than declared');
  const manifest = decodeManifest(body.manifest);
  if (manifest.owner !== context.user)
    throw sispError('E_FORBIDDEN', 'you can only post images as yourself');
  const declared = upload.declared;
  const matches =
    equalBytes(manifest.id, declared.image) &&
    manifest.name === declared.name &&
    manifest.type === declared.contentType &&
    manifest.size === declared.size &&
    manifest.ctLength === upload.ctLength &&
    sameAudience(manifest.audience, declared.audience);
  if (!matches)
    throw sispError('E_MANIFEST_MISMATCH', 'the manifest does not match what post.begin declared');
  if (!describesThumbnail(manifest, declared.thumbnail))
    throw sispError('E_MANIFEST_MISMATCH', 'the manifest does not describe the thumbnail sent');
  const skew = context.services.config.limits.clockSkewMs;
  if (Math.abs(manifest.created - Date.now()) > skew)
    throw sispError(
      'E_CLOCK_SKEW',
      `the manifest's creation time is more than ${Math.round(skew / 60_000)} minutes from the server's clock; check this computer's clock`,
    );
  // The key this session signed in with: no store round trip per post.
  if (!(await verifyManifest(context.signingKey, body.signature, body.manifest)))
    throw sispError('E_TAMPERED', "the manifest's signature does not verify with your key");
  return manifest;
}

/** OpenSSL directly: WebCrypto's job and promise cost more than hashing a few KiB. */
function thumbnailDigest(sealed: Uint8Array): Uint8Array {
  const hash = nodeSha256();
  hash.update(sealed);
  return hash.digest();
}

/** The manifest's thumbnail entry is exactly the sealed thumbnail sent in begin (or both are absent). */
function describesThumbnail(manifest: Manifest, sent: Uint8Array | undefined): boolean {
  const described = manifest.thumbnail;
  if (described === undefined || sent === undefined) return described === sent;
  return described.ctLength === sent.length && equalBytes(described.sha256, thumbnailDigest(sent));
}

function imageRecord(
  manifest: Manifest,
  body: MessageBody<'post.end'>,
  upload: UploadTransfer,
): ImageRecord {
  const thumbnail = upload.declared.thumbnail;
  return {
    ...(thumbnail === undefined ? {} : { thumbnail }),
    id: manifest.id,
    owner: manifest.owner,
    name: manifest.name,
    contentType: manifest.type,
    size: manifest.size,
    ctLength: manifest.ctLength,
    sha256: manifest.sha256,
    blob: upload.blobKey,
    manifest: body.manifest,
    signature: body.signature,
    audience: manifest.audience === 'public' ? 'public' : 'private',
    // As the owner signed it (checked within the clock skew above).
    created: manifest.created,
  };
}

export async function end(
  context: RequestContext,
  message: RequestMessage<'post.end'>,
): Promise<void> {
  const upload = context.transfers.takeUpload(context.id);
  if (upload === undefined) throw sispError('E_BAD_REQUEST', 'no upload in progress with that id');
  let manifest: Manifest;
  try {
    manifest = await checkManifest(context, upload, message.body);
    await upload.commit();
  } catch (error) {
    await upload.abort();
    throw error;
  }
  const record = imageRecord(manifest, message.body, upload);
  const { replaced, event } = await recordImage(context, record, upload);
  context.services.log.info(
    {
      event: 'post',
      session: context.session.id,
      owner: manifest.owner,
      name: manifest.name,
      image: toHex(manifest.id),
      size: manifest.size,
      audience: record.audience,
      replaced,
    },
    'image posted',
  );
  await context.send('post.done', { image: manifest.id, created: record.created });
  // Written to the event log with the image, in one transaction; now told to those online.
  await context.services.events.publish(event);
  const notify = event.notify;
  context.services.log.info(
    {
      event: 'notify',
      image: toHex(manifest.id),
      audience: notify === 'public' ? 'public' : notify.length,
    },
    'new image announced',
  );
}

/** Commits the metadata and its event; removes blobs nothing refers to any more. */
async function recordImage(
  context: RequestContext,
  record: ImageRecord,
  upload: UploadTransfer,
): Promise<{ replaced: boolean; event: ImageEvent }> {
  const result = await context.services.store
    .putImage(record, upload.keys, upload.declared.replace)
    .catch(async (error: unknown) => {
      await removeIfUnused(context, record.blob);
      throw isSispError(error)
        ? error
        : sispError('E_INTERNAL', 'could not record the image', { cause: error });
    });
  if (result === 'exists') {
    await removeIfUnused(context, record.blob);
    throw exists(record.name);
  }
  if (result.replacedBlob !== null) await removeIfUnused(context, result.replacedBlob);
  return { replaced: result.replacedBlob !== null, event: result.event };
}

async function removeIfUnused(context: RequestContext, key: string): Promise<void> {
  const { store, blobs } = context.services;
  if (!(await store.blobInUse(key))) await blobs.remove(key);
}
