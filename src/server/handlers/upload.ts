/**
 * post.begin / chunk / end / abort. The upload streams into a temporary blob with
 * flow control: the client may send only what the server granted, and the server
 * grants more as it writes. Nothing becomes visible until the blob is fsynced,
 * renamed and the metadata committed; only then does post.done go out.
 */
import { sealedLength } from '../../crypto/envelope.js';
import { decodeManifest, verifyManifest, type Manifest } from '../../crypto/manifest.js';
import { equalBytes, toHex } from '../../protocol/bytes.js';
import { isSispError, sispError, type SispError } from '../../protocol/errors.js';
import { SERVER_RECIPIENT, type Message, type MessageBody } from '../../protocol/messages.js';
import type { BlobWriter } from '../blobs.js';
import type { Session } from '../session.js';
import type { KeyGrant } from '../store/types.js';

export class UploadTransfer {
  readonly manifest: Manifest;
  readonly manifestBytes: Uint8Array;
  readonly signature: Uint8Array;
  readonly keys: KeyGrant[];
  readonly replace: boolean;
  readonly writer: BlobWriter;
  granted: number;
  ungranted = 0;
  /** Bytes that have arrived, counted on arrival, before they are written. */
  arrived = 0;

  constructor(fields: {
    manifest: Manifest;
    manifestBytes: Uint8Array;
    signature: Uint8Array;
    keys: KeyGrant[];
    replace: boolean;
    writer: BlobWriter;
    granted: number;
  }) {
    this.manifest = fields.manifest;
    this.manifestBytes = fields.manifestBytes;
    this.signature = fields.signature;
    this.keys = fields.keys;
    this.replace = fields.replace;
    this.writer = fields.writer;
    this.granted = fields.granted;
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
      await end(session, message.id);
      return;
    case 'post.abort': {
      const upload = session.uploads.get(message.id);
      session.uploads.delete(message.id);
      await upload?.abort();
      return;
    }
  }
}

async function begin(session: Session, id: number, body: MessageBody<'post.begin'>): Promise<void> {
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
  let manifest: Manifest;
  try {
    manifest = decodeManifest(body.manifest);
  } catch (error) {
    throw sispError('E_BAD_REQUEST', 'the manifest is malformed', { cause: error });
  }
  if (manifest.owner !== user)
    throw sispError('E_FORBIDDEN', 'you can only post images as yourself');
  const owner = await context.store.getUser(user);
  if (owner === undefined) throw sispError('E_AUTH', 'unknown user');
  if (!(await verifyManifest(owner.signingKey, body.signature, body.manifest))) {
    throw sispError('E_BAD_REQUEST', 'the manifest signature does not verify');
  }
  if (manifest.size > context.config.limits.maxImage) {
    throw sispError('E_TOO_LARGE', `images are limited to ${context.config.limits.maxImage} bytes`);
  }
  if (manifest.ctLength !== sealedLength(manifest.size))
    throw sispError('E_BAD_REQUEST', 'ctLength does not match size');
  const keys = await checkKeys(session, manifest, body.keys);
  if (
    !body.replace &&
    (await context.store.findImage(manifest.owner, manifest.name)) !== undefined
  ) {
    throw sispError(
      'E_EXISTS',
      `you already have an image named "${manifest.name}"; use --replace`,
    );
  }
  if ((await context.store.getImage(manifest.id)) !== undefined)
    throw sispError('E_BAD_REQUEST', 'image id already used');
  // Never grant beyond the declared length: a chunk past it is then a credit violation.
  const window = Math.min(context.config.limits.uploadWindow, manifest.ctLength);
  const upload = new UploadTransfer({
    manifest,
    manifestBytes: body.manifest,
    signature: body.signature,
    keys,
    replace: body.replace,
    writer: await context.blobs.begin(),
    granted: window,
  });
  session.uploads.set(id, upload);
  await session.send('post.ready', id, { credit: window });
}

/** The wrapped keys must be exactly: the owner, plus @server (public) or each named recipient. */
async function checkKeys(
  session: Session,
  manifest: Manifest,
  keys: MessageBody<'post.begin'>['keys'],
): Promise<KeyGrant[]> {
  const expected = new Set<string>([manifest.owner]);
  if (manifest.audience === 'public') expected.add(SERVER_RECIPIENT);
  else for (const name of manifest.audience) expected.add(name);
  const seen = new Set<string>();
  for (const key of keys) {
    if (seen.has(key.recipient)) throw sispError('E_BAD_REQUEST', 'duplicate recipient key');
    seen.add(key.recipient);
    if (!expected.has(key.recipient))
      throw sispError('E_BAD_REQUEST', 'a key for someone outside the audience');
  }
  if (seen.size !== expected.size)
    throw sispError('E_BAD_REQUEST', 'a wrapped key is missing for part of the audience');
  if (manifest.audience !== 'public') {
    for (const name of manifest.audience) {
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
  const received = upload.writer.length + data.length;
  try {
    if (received > upload.manifest.ctLength)
      throw sispError('E_TOO_LARGE', 'more data than the manifest declares');
    await upload.writer.write(data);
  } catch (error) {
    session.uploads.delete(id);
    await upload.abort();
    throw error;
  }
  upload.ungranted += data.length;
  // Grant in batches of half a window: fewer frames, and the pipe stays full.
  const window = session.context.config.limits.uploadWindow;
  const remaining = upload.manifest.ctLength - upload.granted;
  if (upload.ungranted >= window / 2 && remaining > 0) {
    const grant = Math.min(upload.ungranted, remaining);
    upload.granted += grant;
    upload.ungranted = 0;
    await session.send('credit', id, { bytes: grant });
  }
}

async function end(session: Session, id: number): Promise<void> {
  const { context } = session;
  const upload = session.uploads.get(id);
  if (upload === undefined) throw sispError('E_BAD_REQUEST', 'no upload in progress with that id');
  session.uploads.delete(id);
  const { manifest } = upload;
  try {
    if (upload.writer.length !== manifest.ctLength)
      throw sispError('E_BAD_REQUEST', 'the upload is shorter than declared');
    if (!equalBytes(upload.writer.digest(), manifest.sha256)) {
      throw sispError('E_TAMPERED', 'the uploaded bytes do not match the signed digest');
    }
    await upload.writer.commit(manifest.sha256);
  } catch (error) {
    await upload.abort();
    throw error;
  }
  const created = Date.now();
  const result = await context.store
    .putImage(
      {
        id: manifest.id,
        owner: manifest.owner,
        name: manifest.name,
        contentType: manifest.type,
        size: manifest.size,
        ctLength: manifest.ctLength,
        sha256: manifest.sha256,
        manifest: upload.manifestBytes,
        signature: upload.signature,
        audience: manifest.audience === 'public' ? 'public' : 'private',
        created,
      },
      upload.keys,
      upload.replace,
    )
    .catch(async (error: unknown) => {
      await removeIfUnused(session, manifest.sha256);
      throw isSispError(error)
        ? error
        : sispError('E_INTERNAL', 'could not record the image', { cause: error });
    });
  if (result === 'exists') {
    await removeIfUnused(session, manifest.sha256);
    throw sispError(
      'E_EXISTS',
      `you already have an image named "${manifest.name}"; use --replace`,
    );
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
      audience: manifest.audience === 'public' ? 'public' : 'private',
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
