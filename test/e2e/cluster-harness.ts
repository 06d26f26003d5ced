/**
 * Two `sisp serve` nodes on one PostgreSQL schema (test/support/postgres.ts) and one
 * S3-compatible bucket (s3rver on a free loopback port), with one identity: node B's
 * data directory starts from copies of node A's CA, TLS and wrap keys, as
 * OPERATIONS.md says to deploy.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { freshSchema, testPostgres } from '../support/postgres.js';
import { startServer, tempDir, type ServerProcess } from './harness.js';

const KEY_FILES = ['ca.pem', 'ca-key.pem', 'tls-key.pem', 'wrap-key.pem'];

export interface Cluster {
  readonly nodeA: ServerProcess;
  readonly nodeB: ServerProcess;
  /** Keys of the blobs in the bucket (objects under PREFIX/blobs/). */
  blobKeys(): Promise<string[]>;
  stop(): Promise<void>;
}

/** `extraEnv` goes to both nodes (a benchmark raises the rate limits). */
export async function startCluster(
  label: string,
  extraEnv: Record<string, string> = {},
): Promise<Cluster> {
  const database = await freshSchema(await testPostgres(), label);
  const directory = mkdtempSync(join(tmpdir(), 'sisp-s3rver-'));
  const s3rver = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory });
  const endpoint = `http://127.0.0.1:${(await s3rver.run()).port}`;
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const bucket = `sisp-${label}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const env = {
    SISP_DB: database.url,
    SISP_BLOBS: `s3://${bucket}/${label}?endpoint=${encodeURIComponent(endpoint)}`,
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    ...extraEnv,
  };
  const nodeA = await startServer({ env });
  const dataB = tempDir('data-b');
  for (const file of KEY_FILES) copyFileSync(join(nodeA.dataDir, file), join(dataB, file));
  const nodeB = await startServer({ env, dataDir: dataB });
  return {
    nodeA,
    nodeB,
    async blobKeys() {
      const listed = await s3.send(
        new ListObjectsV2Command({ Bucket: bucket, Prefix: `${label}/blobs/` }),
      );
      return (listed.Contents ?? []).map((object) => object.Key ?? '');
    },
    async stop() {
      await Promise.all([nodeA.stop(), nodeB.stop()]);
      s3.destroy();
      await s3rver.close();
      rmSync(directory, { recursive: true, force: true });
      await database.drop();
    },
  };
}
