/**
 * Where the S3 blob store is, from `--blobs s3://BUCKET/PREFIX?endpoint=URL&region=R`.
 * Apart from the store itself so that reading the flag does not load the AWS SDK.
 */
import { sispError } from '../../protocol/errors.js';

export interface S3Location {
  readonly bucket: string;
  /** Ends with "/" unless empty. */
  readonly prefix: string;
  readonly region: string;
  readonly endpoint?: string;
}

/** s3://bucket/prefix?endpoint=URL&region=R (credentials from the usual AWS variables or files). */
export function parseBlobsUrl(text: string): S3Location {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw sispError('E_BAD_REQUEST', `not a blob store URL: ${text}`);
  }
  if (url.protocol !== 's3:' || url.hostname === '')
    throw sispError(
      'E_BAD_REQUEST',
      'the blob store URL is s3://BUCKET/PREFIX?endpoint=URL&region=R',
    );
  const path = decodeURIComponent(url.pathname).replace(/^\/+/, '');
  const endpoint = url.searchParams.get('endpoint') ?? undefined;
  return {
    bucket: url.hostname,
    prefix: path === '' || path.endsWith('/') ? path : `${path}/`,
    region: url.searchParams.get('region') ?? process.env.AWS_REGION ?? 'us-east-1',
    ...(endpoint === undefined ? {} : { endpoint }),
  };
}
