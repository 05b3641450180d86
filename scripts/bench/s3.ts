/** s3rver in the benchmark's own process, and the upload of the generated query result to it. */
import { createReadStream } from 'node:fs';
import { startLocalS3, type LocalS3 } from '../../src/demo/local-s3.js';
import { BUCKET, log } from './common.js';
import type { DataMeta } from './data.js';

/** The demo's local S3 server: s3rver on a free port with the benchmark's bucket. */
export type S3Server = LocalS3;

export function startS3(directory: string): Promise<S3Server> {
  return startLocalS3(directory, BUCKET);
}

/**
 * Streams the file up with one PutObject (checksums `WHEN_REQUIRED`, see local-s3.ts). The stored
 * object's ETag must equal the file's MD5.
 */
export async function upload(s3: S3Server, meta: DataMeta, key: string): Promise<void> {
  const { PutObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const client = await s3.client();
  try {
    const started = performance.now();
    await client.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: key,
        Body: createReadStream(meta.file),
        ContentLength: meta.gzipBytes,
        ContentType: 'text/csv',
      }),
    );
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const etag = (head.ETag ?? '').replace(/"/g, '');
    if (head.ContentLength !== meta.gzipBytes || etag !== meta.md5) {
      throw new Error(
        `s3rver stored s3://${BUCKET}/${key} wrongly: ${head.ContentLength} bytes, ETag ${etag}; expected ${meta.gzipBytes} bytes, MD5 ${meta.md5}`,
      );
    }
    log(
      `uploaded s3://${BUCKET}/${key} (${(meta.gzipBytes / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s; ETag = MD5`,
    );
  } finally {
    client.destroy();
  }
}
