/** s3rver in the benchmark's own process, and the upload of the generated query result to it. */
import { createReadStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { BUCKET, log } from './common.js';
import type { DataMeta } from './data.js';


export interface S3Server {
  endpoint: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverConstructor = new (o: { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] }) => S3rverInstance;

export async function startS3(directory: string): Promise<S3Server> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  await mkdir(directory, { recursive: true });
  const instance = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: BUCKET }] });
  const { port } = await instance.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    close: async () => {
      instance.httpServer?.closeAllConnections();
      await instance.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Streams the file up with one PutObject. Checksums are `WHEN_REQUIRED`: with the SDK's default the body
 * goes out `aws-chunked` with a trailing checksum, which s3rver would store framing and all. The stored
 * object's ETag must equal the file's MD5.
 */
export async function upload(s3: S3Server, meta: DataMeta, key: string): Promise<void> {
  const { S3Client, PutObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const started = performance.now();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(meta.file), ContentLength: meta.gzipBytes, ContentType: 'text/csv' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const etag = (head.ETag ?? '').replace(/"/g, '');
    if (head.ContentLength !== meta.gzipBytes || etag !== meta.md5) {
      throw new Error(`s3rver stored s3://${BUCKET}/${key} wrongly: ${head.ContentLength} bytes, ETag ${etag}; expected ${meta.gzipBytes} bytes, MD5 ${meta.md5}`);
    }
    log(`uploaded s3://${BUCKET}/${key} (${(meta.gzipBytes / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s; ETag = MD5`);
  } finally {
    client.destroy();
  }
}
