/**
 * A local S3 server for `npm run demo -- --s3`: s3rver (a development dependency) in this process,
 * one bucket, and the environment that points the exporter at it.
 */
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { S3Client } from '@aws-sdk/client-s3';

export interface LocalS3 {
  endpoint: string;
  bucket: string;
  /** What the exporter needs to read from it (s3rver accepts any keys). */
  env: Record<string, string>;
  /** A client of it; the caller destroys it. */
  client(): Promise<S3Client>;
  put(key: string, body: string | Buffer): Promise<void>;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverConstructor = new (o: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: Array<{ name: string }>;
}) => S3rverInstance;

function loadS3rver(): S3rverConstructor {
  try {
    return createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  } catch {
    throw new Error('--s3 needs s3rver, a development dependency: run it from a clone after npm ci');
  }
}

/** Starts s3rver on `port` (0: a free one), keeping its objects in `directory` (removed on close). */
export async function startLocalS3(directory: string, bucket: string, port = 0): Promise<LocalS3> {
  const S3rver = loadS3rver();
  await mkdir(directory, { recursive: true });
  const instance = new S3rver({
    address: '127.0.0.1',
    port,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const listening = await instance.run();
  const endpoint = `http://127.0.0.1:${listening.port}`;
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  const client = async (): Promise<S3Client> => {
    // The exporter's S3 reader does the same: the SDK's notice about Node 20 says nothing about the run.
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    const { S3Client } = await import('@aws-sdk/client-s3');
    // WHEN_REQUIRED: the SDK's default aws-chunked upload would be stored by s3rver framing and all.
    return new S3Client({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
  };
  return {
    endpoint,
    bucket,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    },
    client,
    async put(key, body) {
      const { PutObjectCommand } = await import('@aws-sdk/client-s3');
      const s3 = await client();
      try {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
      } finally {
        s3.destroy();
      }
    },
    async close() {
      instance.httpServer?.closeAllConnections();
      await instance.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
