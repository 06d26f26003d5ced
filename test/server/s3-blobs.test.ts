/**
 * S3BlobStore against a real S3-compatible server (s3rver, started here on a free
 * loopback port with its own directory): the BlobStore conformance suite, then what
 * only object storage does: large blobs go up as multipart uploads in bounded parts
 * and nothing is visible under the key until the whole object is there.
 */
import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { S3BlobStore } from '../../src/server/blobs/s3-blob-store.js';
import { parseBlobsUrl } from '../../src/server/blobs/s3-location.js';
import { blobStoreConformance } from '../conformance/blob-store.js';

const BUCKET = 'sisp-test';
let server: S3rver | undefined;
let endpoint = '';
const directory = mkdtempSync(join(tmpdir(), 'sisp-s3rver-'));
let prefixes = 0;

process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';

before(async () => {
  server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const { port } = (await server.run()) as { port: number };
  endpoint = `http://127.0.0.1:${port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  s3.destroy();
});
after(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});

const freshLocation = () =>
  parseBlobsUrl(
    `s3://${BUCKET}/run-${process.pid}-${prefixes++}?endpoint=${encodeURIComponent(endpoint)}`,
  );

blobStoreConformance('S3BlobStore (s3rver)', async () => {
  const location = freshLocation();
  let blobs = await S3BlobStore.open(location);
  return {
    blobs,
    async reopen() {
      await blobs.close();
      blobs = await S3BlobStore.open(location);
      return blobs;
    },
    dispose: () => blobs.close(),
  };
});

describe('S3BlobStore: object storage', () => {
  it('parses s3://bucket/prefix?endpoint=&region=', () => {
    assert.deepEqual(
      parseBlobsUrl('s3://photos/sisp?endpoint=http%3A%2F%2Fminio%3A9000&region=eu-west-1'),
      {
        bucket: 'photos',
        prefix: 'sisp/',
        region: 'eu-west-1',
        endpoint: 'http://minio:9000',
      },
    );
    assert.equal(parseBlobsUrl('s3://photos').prefix, '');
    assert.throws(() => parseBlobsUrl('https://photos/x'), { code: 'E_BAD_REQUEST' });
  });

  it('a 20 MiB blob goes up in parts and reads back exactly; nothing under its key before commit, nothing of an aborted one', async () => {
    const location = freshLocation();
    const blobs = await S3BlobStore.open(location);
    const s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true });
    try {
      const content = randomBytes(20 * 1024 * 1024 + 123);
      const key = randomBytes(16).toString('hex');
      const upload = await blobs.begin(key);
      for (let at = 0; at < content.length; at += 1024 * 1024)
        await upload.append(content.subarray(at, at + 1024 * 1024));
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${location.prefix}blobs/` }),
      );
      assert.equal(listed.KeyCount ?? 0, 0, 'nothing visible before commit');
      await upload.commit();
      const reader = await blobs.open(key);
      assert.equal(reader.length, content.length);
      const back = new Uint8Array(content.length);
      for (let at = 0; at < content.length; at += 3 * 1024 * 1024) {
        const got = await reader.read(back.subarray(at, at + 3 * 1024 * 1024), at);
        assert.ok(got > 0);
      }
      assert.ok(Buffer.from(back).equals(content));
      const temporary = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${location.prefix}tmp/` }),
      );
      assert.equal(temporary.KeyCount ?? 0, 0, 'no temporary object left');
      const dropped = await blobs.begin(randomBytes(16).toString('hex'));
      await dropped.append(content.subarray(0, 9 * 1024 * 1024));
      await dropped.abort();
      const after = await s3.send(
        new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${location.prefix}blobs/` }),
      );
      assert.deepEqual(
        (after.Contents ?? []).map((object) => object.Key),
        [`${location.prefix}blobs/${key}`],
      );
    } finally {
      s3.destroy();
      await blobs.close();
    }
  });

  it('an unreachable store is E_UNAVAILABLE at open, with no secret in the message', async () => {
    await assert.rejects(
      S3BlobStore.open(parseBlobsUrl('s3://sisp-test/x?endpoint=http%3A%2F%2F127.0.0.1%3A1')),
      (error: unknown) => {
        const failure = error as { code?: string; message?: string };
        return failure.code === 'E_UNAVAILABLE' && !String(failure.message).includes('S3RVER');
      },
    );
  });
});
