/**
 * The BlobStore port on S3-compatible object storage, for several nodes: an upload
 * streams as a multipart upload straight to `<prefix>blobs/<key>` (parts of 8 MiB,
 * one in flight, so memory stays bounded whatever the image's size), which commit()
 * completes; a small blob is one PUT. Keys are drawn per upload, so nothing else
 * writes there, and S3 shows nothing under a key until the whole object is there.
 * Reads are ranged GETs. Multipart uploads a crashed node abandoned (and the
 * temporary objects of versions that copied into place) are removed after a day, by
 * whichever node opens the store: safe with several nodes, since no upload lives
 * that long.
 */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { sispError, type SispError } from '../../protocol/errors.js';
import type { S3Location } from './s3-location.js';
import {
  BLOB_KEY_PATTERN,
  type BlobReader,
  type BlobStore,
  type BlobUpload,
  type ListedBlob,
} from './types.js';

const PART_SIZE = 8 * 1024 * 1024;
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** An S3 failure as one of ours: the detail goes to the log, never to a client. */
function s3Failure(what: string, error: unknown): SispError {
  if (statusOf(error) === 404) return sispError('E_NOT_FOUND', 'no such blob');
  return sispError('E_UNAVAILABLE', `the blob store failed to ${what}`, {
    detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  });
}

function checkKey(key: string): void {
  if (!BLOB_KEY_PATTERN.test(key)) throw sispError('E_BAD_REQUEST', 'not a blob key');
}

export class S3BlobStore implements BlobStore {
  readonly #s3: S3Client;
  readonly #location: S3Location;

  private constructor(s3: S3Client, location: S3Location) {
    this.#s3 = s3;
    this.#location = location;
  }

  static async open(location: S3Location): Promise<S3BlobStore> {
    const s3 = new S3Client({
      region: location.region,
      ...(location.endpoint === undefined
        ? {}
        : { endpoint: location.endpoint, forcePathStyle: true }),
      // Checksums only where S3 requires them: S3-compatible servers differ on the rest.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    try {
      await s3.send(new HeadBucketCommand({ Bucket: location.bucket }));
    } catch (error) {
      s3.destroy();
      // Not "no such blob": a missing bucket is the operator's to fix.
      throw sispError(
        'E_UNAVAILABLE',
        `the blob store failed to reach the bucket ${location.bucket}`,
        {
          detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        },
      );
    }
    const store = new S3BlobStore(s3, location);
    await store.#removeAbandoned();
    return store;
  }

  get client(): S3Client {
    return this.#s3;
  }

  objectKey(key: string): string {
    return `${this.#location.prefix}blobs/${key}`;
  }

  get bucket(): string {
    return this.#location.bucket;
  }

  begin(key: string): Promise<BlobUpload> {
    return Promise.resolve(key).then((checked) => {
      checkKey(checked);
      return new S3Upload(this, checked);
    });
  }

  async open(key: string): Promise<BlobReader> {
    checkKey(key);
    const Key = this.objectKey(key);
    let length: number;
    try {
      const head = await this.#s3.send(new HeadObjectCommand({ Bucket: this.bucket, Key }));
      length = head.ContentLength ?? 0;
    } catch (error) {
      throw s3Failure('open a blob', error);
    }
    const s3 = this.#s3;
    const Bucket = this.bucket;
    return {
      length,
      async read(target, position) {
        const count = Math.min(target.length, length - position);
        if (count <= 0) return 0;
        const Range = `bytes=${position}-${position + count - 1}`;
        try {
          const reply = await s3.send(new GetObjectCommand({ Bucket, Key, Range }));
          let bytes = await reply.Body?.transformToByteArray();
          // HTTP lets a server ignore Range and send the whole object (some
          // S3-compatible servers do, for bytes=0-0): take the part asked for.
          if (bytes?.length === length && length !== count)
            bytes = bytes.subarray(position, position + count);
          if (bytes?.length !== count) throw new Error(`a short ranged read (${Range})`);
          target.set(bytes);
          return count;
        } catch (error) {
          throw s3Failure('read a blob', error);
        }
      },
      close: () => Promise.resolve(),
    };
  }

  async remove(key: string): Promise<void> {
    checkKey(key);
    await this.deleteObject(this.objectKey(key));
  }

  async deleteObject(Key: string): Promise<void> {
    try {
      await this.#s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key }));
    } catch (error) {
      if (statusOf(error) !== 404) throw s3Failure('remove a blob', error);
    }
  }

  async *list(): AsyncIterable<ListedBlob> {
    const Prefix = `${this.#location.prefix}blobs/`;
    let ContinuationToken: string | undefined;
    do {
      const page = await this.#s3.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix, ContinuationToken }),
      );
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(Prefix.length) ?? '';
        if (BLOB_KEY_PATTERN.test(key))
          yield { key, modified: object.LastModified?.getTime() ?? Date.now() };
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (ContinuationToken !== undefined);
  }

  /** Object storage has no fill level to report. */
  freeSpace(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  close(): Promise<void> {
    this.#s3.destroy();
    return Promise.resolve();
  }

  /** Multipart uploads (and older versions' temporary objects) a day old: a crashed node's. */
  async #removeAbandoned(): Promise<void> {
    const before = Date.now() - ABANDONED_AFTER_MS;
    const temporary = `${this.#location.prefix}tmp/`;
    const page = await this.#s3.send(
      new ListObjectsV2Command({ Bucket: this.bucket, Prefix: temporary }),
    );
    for (const object of page.Contents ?? [])
      if (object.Key !== undefined && (object.LastModified?.getTime() ?? 0) < before)
        await this.deleteObject(object.Key);
    try {
      // Only under sisp's own prefixes: the bucket may hold others' uploads too.
      for (const Prefix of [`${this.#location.prefix}blobs/`, temporary]) {
        const uploads = await this.#s3.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix }),
        );
        for (const upload of uploads.Uploads ?? [])
          if ((upload.Initiated?.getTime() ?? 0) < before)
            await this.#s3.send(
              new AbortMultipartUploadCommand({
                Bucket: this.bucket,
                Key: upload.Key,
                UploadId: upload.UploadId,
              }),
            );
      }
    } catch (error) {
      // Some S3-compatible servers have no multipart listing; their parts expire by policy.
      if (statusOf(error) !== 501 && statusOf(error) !== 405)
        throw s3Failure('list uploads', error);
    }
  }
}

/** One upload: a part buffer filling, at most one part in flight, appends in call order. */
class S3Upload implements BlobUpload {
  readonly key: string;
  readonly #store: S3BlobStore;
  #buffer = new Uint8Array(PART_SIZE);
  #filled = 0;
  #length = 0;
  #queue: Promise<void> = Promise.resolve();
  #failure: SispError | undefined;
  #multipart: { id: string; parts: { PartNumber: number; ETag: string }[] } | undefined;
  #done = false;

  constructor(store: S3BlobStore, key: string) {
    this.#store = store;
    this.key = key;
  }

  get length(): number {
    return this.#length;
  }

  append(data: Uint8Array): Promise<void> {
    if (this.#done) return Promise.reject(sispError('E_INTERNAL', 'append after the end'));
    this.#length += data.length;
    const step = this.#queue.then(() => this.#take(data));
    this.#queue = step.catch((error: unknown) => {
      this.#failure ??= error as SispError;
    });
    return step;
  }

  async #take(data: Uint8Array): Promise<void> {
    if (this.#failure !== undefined) throw this.#failure;
    let offset = 0;
    while (offset < data.length) {
      const take = Math.min(PART_SIZE - this.#filled, data.length - offset);
      this.#buffer.set(data.subarray(offset, offset + take), this.#filled);
      this.#filled += take;
      offset += take;
      if (this.#filled === PART_SIZE) await this.#sendPart();
    }
  }

  async #sendPart(): Promise<void> {
    const s3 = this.#store.client;
    const Bucket = this.#store.bucket;
    try {
      const Key = this.#store.objectKey(this.key);
      if (this.#multipart === undefined) {
        const created = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key }));
        this.#multipart = { id: created.UploadId ?? '', parts: [] };
      }
      const { id, parts } = this.#multipart;
      const PartNumber = parts.length + 1;
      const body = this.#buffer.subarray(0, this.#filled);
      const sent = await s3.send(
        new UploadPartCommand({ Bucket, Key, UploadId: id, PartNumber, Body: body }),
      );
      parts.push({ PartNumber, ETag: sent.ETag ?? '' });
      this.#filled = 0;
    } catch (error) {
      throw s3Failure('store a part', error);
    }
  }

  async commit(): Promise<void> {
    await this.#queue;
    if (this.#failure !== undefined) throw this.#failure;
    this.#done = true;
    const s3 = this.#store.client;
    const Bucket = this.#store.bucket;
    const Key = this.#store.objectKey(this.key);
    try {
      if (this.#multipart === undefined) {
        const Body = this.#buffer.subarray(0, this.#filled);
        await s3.send(new PutObjectCommand({ Bucket, Key, Body, ContentLength: Body.length }));
        return;
      }
      if (this.#filled > 0) await this.#sendPart();
      const { id, parts } = this.#multipart;
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket,
          Key,
          UploadId: id,
          MultipartUpload: { Parts: parts },
        }),
      );
      this.#multipart = undefined;
    } catch (error) {
      await this.abort();
      throw error instanceof Error && error.name === 'SispError'
        ? error
        : s3Failure('commit a blob', error);
    } finally {
      this.#buffer = new Uint8Array(0);
    }
  }

  async abort(): Promise<void> {
    this.#done = true;
    // A part in flight finishes first; then nothing more is sent.
    await this.#queue;
    this.#buffer = new Uint8Array(0);
    const multipart = this.#multipart;
    this.#multipart = undefined;
    if (multipart === undefined) return;
    try {
      await this.#store.client.send(
        new AbortMultipartUploadCommand({
          Bucket: this.#store.bucket,
          Key: this.#store.objectKey(this.key),
          UploadId: multipart.id,
        }),
      );
    } catch {
      // Left for the day-old sweep (and the bucket's lifecycle policy).
    }
  }
}
