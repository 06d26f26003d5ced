/**
 * post.begin / chunk / end / abort. post.begin says what the image will be (id,
 * name, type, size, audience, wrapped keys); the envelope then streams into a
 * temporary blob under flow control (the client may have in flight only what the
 * server granted, checked as frames arrive); post.end brings the signed manifest,
 * which must match what begin declared and commit to the digest of exactly the
 * bytes received. Nothing becomes visible until the blob is fsynced and renamed
 * and the metadata committed; only then does post.done go out.
 */
import { sealedLength } from '../../crypto/envelope.js';
import {
  decodeManifest,
  verifyManifest,
  type Audience,
  type Manifest,
} from '../../crypto/manifest.js';
import { equalBytes, toHex } from '../../protocol/bytes.js';
import { isSispError, sispError, type SispError } from '../../protocol/errors.js';
import { SERVER_RECIPIENT, type Message, type MessageBody } from '../../protocol/messages.js';
import type { BlobWriter } from '../blobs.js';
import type { Session } from '../session.js';
import type { KeyGrant } from '../store/types.js';

type Declared = MessageBody<'post.begin'>;

export class UploadTransfer {
  readonly declared: Declared;
  readonly ctLength: number;
  readonly keys: KeyGrant[];
  readonly writer: BlobWriter;
  granted: number;
  ungranted = 0;
  /** Bytes that have arrived, counted on arrival, before they are written. */
  arrived = 0;

  constructor(declared: Declared, keys: KeyGrant[], writer: BlobWriter, granted: number) {
    this.declared = declared;
    this.ctLength = sealedLength(declared.size);
    this.keys = keys;
    this.writer = writer;
    this.granted = granted;
  }

  async abort(): Promise<void> {
    await this.writer.abort();
  }
}

type UploadMessage = Extract<
  Message,
  { type: 'post.begin' | 'post.chunk' | 'post.end' | 'post.abort' }
>;

export async function handleUpload(session: Session, message: UploadMessage): Promise<void> {
  switch (message.type) {
    case 'post.begin':
      await begin(session, message.id, message.body);
      return;
    case 'post.chunk':
      await chunk(session, message.id, message.body.data);
      return;
    case 'post.end':
      await end(session, message.id, message.body);
      return;
    case 'post.abort': {
      const upload = session.uploads.get(message.id);
      session.uploads.delete(message.id);
      await upload?.abort();
      return;
    }
  }
}

function exists(name: string): SispError {
  return sispError('E_EXISTS', `you already have an image named "${name}"; use --replace`);
}

async function begin(session: Session, id: number, body: Declared): Promise<void> {
  const { context } = session;
  const user = session.user ?? '';
  if (session.uploads.has(id) || session.downloads.has(id))
    throw sispError('E_BAD_REQUEST', 'request id in use');
  if (
    session.uploads.size + session.downloads.size >=
    context.config.limits.transfersPerConnection
  ) {
    throw sispError('E_RATE_LIMITED', 'too many transfers on this connection');
  }
  if (body.size > context.config.limits.maxImage) {
    throw sispError('E_TOO_LARGE', `images are limited to ${context.config.limits.maxImage} bytes`);
  }
  const keys = await checkKeys(session, user, body.audience, body.keys);
  if (!body.replace && (await context.store.findImage(user, body.name)) !== undefined)
    throw exists(body.name);
  if ((await context.store.getImage(body.image)) !== undefined)
    throw sispError('E_BAD_REQUEST', 'image id already used');
  // Never grant beyond the declared length: a chunk past it is then a credit violation.
  const window = Math.min(context.config.limits.uploadWindow, sealedLength(body.size));
  session.uploads.set(id, new UploadTransfer(body, keys, await context.blobs.begin(), window));
  await session.send('post.ready', id, { credit: window });
}

/** The wrapped keys must be exactly: the owner, plus @server (public) or each named recipient. */
async function checkKeys(
  session: Session,
  owner: string,
  audience: Audience,
  keys: Declared['keys'],
): Promise<KeyGrant[]> {
  const expected = new Set<string>([owner]);
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
      if ((await session.context.store.getUser(name)) === undefined)
        throw sispError('E_NOT_FOUND', `no user named ${name}`);
    }
  }
  return keys.map((key) => ({ recipient: key.recipient, enc: key.enc, ct: key.ct }));
}

/**
 * Called as each chunk arrives, before it is queued: a client may have in flight
 * only what it was granted, which is what bounds the memory one upload can take.
 */
export function admitChunk(session: Session, id: number, length: number): SispError | undefined {
  const upload = session.uploads.get(id);
  if (upload === undefined) return sispError('E_BAD_REQUEST', 'no upload in progress with that id');
  upload.arrived += length;
  if (upload.arrived > upload.granted) {
    session.uploads.delete(id);
    void upload.abort();
    return sispError('E_BAD_REQUEST', 'sent more than the granted credit');
  }
  return undefined;
}

async function chunk(session: Session, id: number, data: Uint8Array): Promise<void> {
  const upload = session.uploads.get(id);
  // Already failed and answered (see admitChunk): later chunks are dropped quietly.
  if (upload === undefined) return;
  if (upload.writer.length + data.length > upload.ctLength) {
    session.uploads.delete(id);
    await upload.abort();
    throw sispError('E_TOO_LARGE', 'more data than the declared size');
  }
  // Not awaited: the next frame is taken while this one is written. Credit comes
  // back only once data reaches the file, so memory stays bounded by the window.
  upload.writer.write(data).then(
    () => {
      grantCredit(session, id, upload, data.length);
    },
    async (error: unknown) => {
      if (session.uploads.get(id) !== upload) return;
      session.uploads.delete(id);
      await upload.abort();
      session.requestFailed(id, 'post.chunk', error);
    },
  );
}

function grantCredit(session: Session, id: number, upload: UploadTransfer, written: number): void {
  if (session.uploads.get(id) !== upload) return;
  upload.ungranted += written;
  // Grant in batches of half a window: fewer frames, and the pipe stays full.
  const window = session.context.config.limits.uploadWindow;
  const remaining = upload.ctLength - upload.granted;
  if (upload.ungranted >= window / 2 && remaining > 0) {
    const grant = Math.min(upload.ungranted, remaining);
    upload.granted += grant;
    upload.ungranted = 0;
    void session.send('credit', id, { bytes: grant });
  }
}

function sameAudience(a: Audience, b: Audience): boolean {
  if (a === 'public' || b === 'public') return a === b;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/** The manifest must say what begin declared, about exactly the bytes received. */
async function checkManifest(
  session: Session,
  upload: UploadTransfer,
  body: MessageBody<'post.end'>,
  digest: Uint8Array,
): Promise<Manifest> {
  const user = session.user ?? '';
  let manifest: Manifest;
  try {
    manifest = decodeManifest(body.manifest);
  } catch (error) {
    throw sispError('E_BAD_REQUEST', 'the manifest is malformed', { cause: error });
  }
  if (manifest.owner !== user)
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
    throw sispError('E_BAD_REQUEST', 'the manifest does not match what post.begin declared');
  if (!equalBytes(manifest.sha256, digest))
    throw sispError('E_TAMPERED', 'the uploaded bytes do not match the signed digest');
  const owner = await session.context.store.getUser(user);
  if (owner === undefined) throw sispError('E_AUTH', 'unknown user');
  if (!(await verifyManifest(owner.signingKey, body.signature, body.manifest))) {
    throw sispError('E_BAD_REQUEST', 'the manifest signature does not verify');
  }
  return manifest;
}

async function end(session: Session, id: number, body: MessageBody<'post.end'>): Promise<void> {
  const { context } = session;
  const upload = session.uploads.get(id);
  if (upload === undefined) throw sispError('E_BAD_REQUEST', 'no upload in progress with that id');
  session.uploads.delete(id);
  let manifest: Manifest;
  try {
    if (upload.writer.length !== upload.ctLength)
      throw sispError('E_BAD_REQUEST', 'the upload is shorter than declared');
    manifest = await checkManifest(session, upload, body, upload.writer.digest());
    await upload.writer.commit(manifest.sha256);
  } catch (error) {
    await upload.abort();
    throw error;
  }
  const created = Date.now();
  const record = {
    id: manifest.id,
    owner: manifest.owner,
    name: manifest.name,
    contentType: manifest.type,
    size: manifest.size,
    ctLength: manifest.ctLength,
    sha256: manifest.sha256,
    manifest: body.manifest,
    signature: body.signature,
    audience: manifest.audience === 'public' ? ('public' as const) : ('private' as const),
    created,
  };
  const result = await context.store
    .putImage(record, upload.keys, upload.declared.replace)
    .catch(async (error: unknown) => {
      await removeIfUnused(session, manifest.sha256);
      throw isSispError(error)
        ? error
        : sispError('E_INTERNAL', 'could not record the image', { cause: error });
    });
  if (result === 'exists') {
    await removeIfUnused(session, manifest.sha256);
    throw exists(manifest.name);
  }
  if (result.replacedBlob !== null && !equalBytes(result.replacedBlob, manifest.sha256)) {
    await removeIfUnused(session, result.replacedBlob);
  }
  context.log.info(
    {
      event: 'post',
      session: session.id,
      owner: manifest.owner,
      name: manifest.name,
      image: toHex(manifest.id),
      size: manifest.size,
      audience: record.audience,
      replaced: result.replacedBlob !== null,
    },
    'image posted',
  );
  await session.send('post.done', id, { image: manifest.id, created });
  const notified = context.events.publish({
    image: manifest.id,
    name: manifest.name,
    owner: manifest.owner,
    notify: manifest.audience === 'public' ? 'public' : [manifest.owner, ...manifest.audience],
  });
  context.log.info(
    { event: 'notify', image: toHex(manifest.id), sessions: notified },
    'new image announced',
  );
}

async function removeIfUnused(session: Session, sha256: Uint8Array): Promise<void> {
  if (!(await session.context.store.blobInUse(sha256))) await session.context.blobs.remove(sha256);
}
