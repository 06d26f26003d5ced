/**
 * Downloading an image, with every check of docs/PROTOCOL.md 4.2 in order: the
 * owner's certificate and pinned key, the manifest and its signature, the wrapped
 * key and the key commitment, every chunk tag, then length and digest. Plaintext
 * goes to a temporary file that is renamed into place only after all of that;
 * on any failure the temporary file is removed and nothing is left.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { unwrapContentKey } from '../crypto/hpke.js';
import { decodeManifest, verifyManifest, type Manifest } from '../crypto/manifest.js';
import { equalBytes } from '../protocol/bytes.js';
import { isSispError, sispError, type SispError } from '../protocol/errors.js';
import type { Message } from '../protocol/messages.js';
import type { SispClient } from './client.js';
import { EXTENSIONS } from './image.js';
import { EnvelopeToFile } from './open-file.js';

const WINDOW = 8 * 1024 * 1024;

export type ImageRef =
  { readonly owner: string; readonly name: string } | { readonly image: Uint8Array };

export interface DownloadResult {
  readonly path: string;
  readonly manifest: Manifest;
  readonly ownerFingerprint: string;
}

function tampered(why: string, cause?: unknown): SispError {
  return sispError('E_TAMPERED', `the image failed verification (${why}); nothing was written`, {
    cause,
  });
}

/**
 * A failure on this machine rather than in what was received (every check of the
 * received data throws its own SispError): a file error such as a full disk, or a bug.
 */
function localFailure(error: unknown): SispError {
  const code = (error as NodeJS.ErrnoException).code;
  const what =
    typeof code === 'string'
      ? `cannot write the downloaded image (${code})`
      : 'the download failed unexpectedly';
  return sispError('E_INTERNAL', `${what}; nothing was kept`, { cause: error });
}

export async function downloadImage(
  client: SispClient,
  ref: ImageRef,
  outDir: string,
  onProgress?: (received: number, total: number) => void,
): Promise<DownloadResult> {
  const identity = client.identity;
  if (identity === undefined) throw sispError('E_AUTH', 'not logged in');
  await mkdir(outDir, { recursive: true, mode: 0o700 });
  const connection = client.connection;

  // Frames are handled strictly in order, one at a time.
  let chain: Promise<void> = Promise.resolve();
  let failure: SispError | undefined;
  let finish: ((value: DownloadResult) => void) | undefined;
  let reject: ((error: SispError) => void) | undefined;
  const result = new Promise<DownloadResult>((resolve, rejectPromise) => {
    finish = resolve;
    reject = rejectPromise;
  });

  let manifest: Manifest | undefined;
  let sink: EnvelopeToFile | undefined;
  let temporary: string | undefined;
  let ownerFingerprint = '';
  let received = 0;
  let unacknowledged = 0;

  const acknowledge = (bytes: number): void => {
    unacknowledged += bytes;
    if (unacknowledged < WINDOW / 2 || failure !== undefined) return;
    const grant = unacknowledged;
    unacknowledged = 0;
    connection.send('credit', requestId, { bytes: grant }).catch(() => undefined);
  };

  const cleanUp = async (): Promise<void> => {
    await sink?.abort().catch(() => undefined);
    sink = undefined;
    if (temporary !== undefined) await unlink(temporary).catch(() => undefined);
  };

  const handle = async (message: Message): Promise<void> => {
    if (failure !== undefined) return;
    switch (message.type) {
      case 'download.begin': {
        // 1. Certificate and pin. 2. Manifest and signature.
        try {
          manifest = decodeManifest(message.body.manifest);
        } catch (error) {
          throw tampered('malformed manifest', error);
        }
        const owner = await client.verifyPeer(message.body.certificate, manifest.owner);
        ownerFingerprint = owner.fingerprint;
        if (
          'image' in ref
            ? !equalBytes(ref.image, manifest.id)
            : ref.owner !== manifest.owner || ref.name !== manifest.name
        ) {
          throw tampered('the server sent a different image');
        }
        if (
          !(await verifyManifest(owner.signingKey, message.body.signature, message.body.manifest))
        ) {
          throw tampered("the owner's signature does not verify");
        }
        // 3. Wrapped key, then (at the header) the key commitment.
        const key = await unwrapContentKey(
          message.body.key,
          identity.encryption.privateKey,
          manifest.id,
          client.username,
        );
        temporary = join(outDir, `.${nodeRandomBytes(8).toString('hex')}.partial`);
        sink = await EnvelopeToFile.create(
          { key, imageId: manifest.id, path: temporary },
          {
            onWritten: acknowledge,
            onFailure: (error) => {
              void fail(error);
            },
          },
        );
        return;
      }
      case 'download.chunk': {
        if (sink === undefined || manifest === undefined)
          throw tampered('data before the manifest');
        const data = message.body.data;
        received += data.length;
        if (received > manifest.ctLength) throw tampered('more data than the manifest declares');
        onProgress?.(received, manifest.ctLength);
        // 4. Every chunk's tag; plaintext only ever reaches the temporary file.
        await sink.write(data);
        return;
      }
      case 'download.end': {
        if (sink === undefined || manifest === undefined || temporary === undefined)
          throw tampered('end before the manifest');
        const opened = await sink.finish();
        sink = undefined;
        // 5. Length and digest.
        if (received !== manifest.ctLength) throw tampered('wrong length');
        if (!equalBytes(opened.digest, manifest.sha256)) throw tampered('digest mismatch');
        if (opened.written !== manifest.size) throw tampered('wrong plaintext size');
        const path = join(outDir, `${manifest.name}.${EXTENSIONS[manifest.type]}`);
        await rename(temporary, path);
        temporary = undefined;
        finish?.({ path, manifest, ownerFingerprint });
        return;
      }
      case 'error':
        throw sispError(message.body.code, message.body.message);
      default:
        throw sispError('E_BAD_FRAME', `unexpected ${message.type} during a download`);
    }
  };

  /** The first failure ends the download: nothing more is handled, the file goes. */
  async function fail(error: unknown): Promise<void> {
    if (failure !== undefined) return;
    failure = isSispError(error) ? error : localFailure(error);
    await cleanUp();
    reject?.(failure);
  }

  const requestId = connection.stream((message) => {
    chain = chain.then(() => handle(message)).catch(fail);
  });
  try {
    const request =
      'image' in ref
        ? { credit: WINDOW, image: ref.image }
        : { credit: WINDOW, owner: ref.owner, name: ref.name };
    await connection.send('download', requestId, request);
    return await result;
  } finally {
    connection.release(requestId);
    await chain.catch(() => undefined);
    if (failure !== undefined) await cleanUp();
  }
}
