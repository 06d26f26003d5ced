/**
 * `sisp serve --blobs s3://...` against a real S3-compatible server (s3rver on a
 * free loopback port): images go to the bucket, never to the data directory, and
 * come back byte for byte; metadata stays in SQLite.
 */
import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { largeJpeg, registered, startServer, tempDir, type ServerProcess } from './harness.js';

const BUCKET = 'sisp-e2e';
const CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

describe('blobs in S3-compatible storage', () => {
  const directory = mkdtempSync(join(tmpdir(), 'sisp-s3rver-'));
  let s3rver: S3rver;
  let endpoint: string;
  let s3: S3Client;
  let server: ServerProcess | undefined;

  before(async () => {
    s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
    endpoint = `http://127.0.0.1:${(await s3rver.run()).port}`;
    s3 = new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  after(async () => {
    await server?.stop();
    s3.destroy();
    await s3rver.close();
    rmSync(directory, { recursive: true, force: true });
  });

  it('posts go to the bucket (multipart when large) and download byte for byte', async () => {
    server = await startServer({
      env: {
        ...CREDENTIALS,
        SISP_BLOBS: `s3://${BUCKET}/node-a?endpoint=${encodeURIComponent(endpoint)}`,
      },
    });
    const [alice, bob] = await registered(server, 'alice', 'bob');
    const image = largeJpeg(12 * 1024 * 1024);
    const posted = await alice.run(['post', 'big', image]);
    assert.equal(posted.code, 0, posted.stderr);
    const out = join(tempDir('out'), 'big.jpg');
    const fetched = await bob.run(['download', 'alice/big', '--out', out]);
    assert.equal(fetched.code, 0, fetched.stderr);
    assert.ok(readFileSync(out).equals(readFileSync(image)));
    const blobsDir = join(server.dataDir, 'blobs');
    assert.ok(!existsSync(blobsDir) || readdirSync(blobsDir).length === 0, 'nothing on local disk');
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'node-a/' }));
    const keys = (listed.Contents ?? []).map((object) => object.Key ?? '');
    assert.equal(keys.length, 1, keys.join(', '));
    assert.match(keys[0] ?? '', /^node-a\/blobs\/[0-9a-f]{32}$/);
  });

  it('a bucket that is not there stops the server at start, saying so', async () => {
    const failed = await startServer({
      env: {
        ...CREDENTIALS,
        SISP_BLOBS: `s3://no-such-bucket/x?endpoint=${encodeURIComponent(endpoint)}`,
      },
    }).then(
      () => 'started',
      (error: unknown) => String(error),
    );
    assert.match(failed, /blob store failed to reach the bucket no-such-bucket/);
    assert.doesNotMatch(failed, /S3RVER/);
  });
});
