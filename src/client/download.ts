/**
 * Downloading an image, with every check of docs/PROTOCOL.md 4.2 in order: the
 * owner's certificate and pinned key, the manifest and its signature, the wrapped
 * key and the key commitment, every chunk tag, then length and digest. Plaintext
 * goes to a temporary file that is renamed into place only after all of that;
 * on any failure the temporary file is removed and nothing is left.
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvelopeDecryptor } from '../crypto/envelope.js';
import { unwrapContentKey } from '../crypto/hpke.js';
import {
  decodeManifest,
  envelopeContext,
  verifyManifest,
  type Manifest,
} from '../crypto/manifest.js';
import { nodeAes256Gcm, nodeSha256 } from '../node/aead.js';
import { equalBytes } from '../protocol/bytes.js';
import { isSispError, sispError, type SispError } from '../protocol/errors.js';
import type { Message } from '../protocol/messages.js';
import type { SispClient } from './client.js';
import { EXTENSIONS } from './image.js';

const WINDOW = 8 * 1024 * 1024;
const FLUSH_EVERY = 32 * 1024 * 1024;

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
  let decryptor: EnvelopeDecryptor | undefined;
  let file: FileHandle | undefined;
  let temporary: string | undefined;
  let ownerFingerprint = '';
  const hash = nodeSha256();
  let received = 0;
  let written = 0;
  let unacknowledged = 0;

  const pendingWrites = new Set<Promise<void>>();
  let writeFailure: Error | undefined;
  let position = 0;
  const settleWrites = async (): Promise<void> => {
    await Promise.allSettled([...pendingWrites]);
    if (writeFailure !== undefined) throw writeFailure;
  };
  const acknowledge = (bytes: number): void => {
    unacknowledged += bytes;
    if (unacknowledged < WINDOW / 2 || failure !== undefined) return;
    const grant = unacknowledged;
    unacknowledged = 0;
    connection.send('credit', requestId, { bytes: grant }).catch(() => undefined);
  };

  // Flush to disk as we go, so the final fsync before the rename has little left.
  let flushing: Promise<void> | undefined;
  let flushedAt = 0;
  const flushInBackground = (): void => {
    if (file === undefined || flushing !== undefined || written - flushedAt < FLUSH_EVERY) return;
    flushedAt = written;
    flushing = file
      .datasync()
      .catch(() => undefined) // the final sync reports any real failure
      .finally(() => {
        flushing = undefined;
      });
  };

  const cleanUp = async (): Promise<void> => {
    await Promise.allSettled([...pendingWrites]);
    await flushing;
    await file?.close().catch(() => undefined);
    file = undefined;
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
        ownerFingerprint = (await client.home.readPins())[owner.username]?.fingerprint ?? '';
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
        decryptor = new EnvelopeDecryptor({
          key,
          context: envelopeContext(manifest.id),
          aead: nodeAes256Gcm,
        });
        temporary = join(outDir, `.${nodeRandomBytes(8).toString('hex')}.partial`);
        file = await open(temporary, 'wx', 0o600);
        return;
      }
      case 'download.chunk': {
        if (decryptor === undefined || file === undefined || manifest === undefined)
          throw tampered('data before the manifest');
        const data = message.body.data;
        received += data.length;
        if (received > manifest.ctLength) throw tampered('more data than the manifest declares');
        hash.update(data);
        // 4. Every chunk's tag; plaintext only ever reaches the temporary file.
        const plain = await decryptor.update(data);
        const length = plain.reduce((sum, piece) => sum + piece.length, 0);
        onProgress?.(received, manifest.ctLength);
        if (length === 0) {
          acknowledge(data.length);
          return;
        }
        // Written at its own position without waiting, so the next frame is decrypted
        // meanwhile; credit returns only once the write is done, which bounds memory.
        const at = position;
        position += length;
        const pending = file.writev(plain, at).then(
          () => {
            written += length;
            acknowledge(data.length);
            flushInBackground();
          },
          (error: unknown) => {
            writeFailure ??= error instanceof Error ? error : new Error('write failed');
          },
        );
        pendingWrites.add(pending);
        void pending.finally(() => pendingWrites.delete(pending));
        return;
      }
      case 'download.end': {
        if (
          decryptor === undefined ||
          file === undefined ||
          manifest === undefined ||
          temporary === undefined
        ) {
          throw tampered('end before the manifest');
        }
        await settleWrites();
        for (const plain of await decryptor.finish()) {
          await file.write(plain, 0, plain.length, position);
          position += plain.length;
          written += plain.length;
        }
        // 5. Length and digest.
        if (received !== manifest.ctLength) throw tampered('wrong length');
        if (!equalBytes(hash.digest(), manifest.sha256)) throw tampered('digest mismatch');
        if (written !== manifest.size) throw tampered('wrong plaintext size');
        await flushing;
        await file.sync();
        await file.close();
        file = undefined;
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

  const requestId = connection.stream((message) => {
    chain = chain
      .then(() => handle(message))
      .catch(async (error: unknown) => {
        if (failure !== undefined) return;
        failure = isSispError(error) ? error : tampered('decryption failed', error);
        await cleanUp();
        reject?.(failure);
      });
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
