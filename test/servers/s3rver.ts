/**
 * An S3 server for tests. By default an in-process s3rver on 127.0.0.1 (port 0) over a temporary
 * directory. When S3_TEST_ENDPOINT is set, that external server is used instead (Ceph RGW from
 * test/servers/ceph-rgw.sh, MinIO, ...), with S3_TEST_ACCESS_KEY, S3_TEST_SECRET_KEY, S3_TEST_BUCKET
 * (default `exporter-test`) and S3_TEST_REGION (default `us-east-1`); the bucket is created if missing.
 */
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestS3Server {
  /** `http://127.0.0.1:PORT` */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  bucket: string;
  /** `s3rver` or `external`. */
  kind: 's3rver' | 'external';
  /** A client with the settings the product uses (path-style, checksums WHEN_REQUIRED). */
  client(): S3Client;
  /** The env an `s3Location` needs to reach this server. */
  env(): NodeJS.ProcessEnv;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number; address: string }>;
  close(): Promise<void>;
  httpServer?: Server;
}
type S3rverConstructor = new (options: {
  address: string;
  port: number;
  directory: string;
  silent: boolean;
  configureBuckets: { name: string }[];
  resetOnClose?: boolean;
}) => S3rverInstance;

export async function startTestS3(env: NodeJS.ProcessEnv = process.env): Promise<TestS3Server> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const external = env.S3_TEST_ENDPOINT?.trim();
  if (external) {
    const server = describe({
      endpoint: external.replace(/\/+$/, ''),
      accessKeyId: required(env, 'S3_TEST_ACCESS_KEY'),
      secretAccessKey: required(env, 'S3_TEST_SECRET_KEY'),
      region: env.S3_TEST_REGION?.trim() || 'us-east-1',
      bucket: env.S3_TEST_BUCKET?.trim() || 'exporter-test',
      kind: 'external',
      close: async () => {},
    });
    const client = server.client();
    try {
      await client.send(new HeadBucketCommand({ Bucket: server.bucket })).catch(async () => {
        await client.send(new CreateBucketCommand({ Bucket: server.bucket }));
      });
    } finally {
      client.destroy();
    }
    return server;
  }

  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  const directory = await mkdtemp(join(tmpdir(), 's3rver-'));
  const bucket = 'exporter-test';
  const instance = new S3rver({
    address: '127.0.0.1',
    port: 0,
    directory,
    silent: true,
    configureBuckets: [{ name: bucket }],
  });
  const { port } = await instance.run();
  let closed = false;
  return describe({
    endpoint: `http://127.0.0.1:${port}`,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    region: 'us-east-1',
    bucket,
    kind: 's3rver',
    close: async () => {
      if (closed) return;
      closed = true;
      instance.httpServer?.closeAllConnections();
      await instance.close();
      await rm(directory, { recursive: true, force: true });
    },
  });
}

function describe(base: Omit<TestS3Server, 'client' | 'env'>): TestS3Server {
  return {
    ...base,
    client: () =>
      new S3Client({
        endpoint: base.endpoint,
        region: base.region,
        forcePathStyle: true,
        credentials: { accessKeyId: base.accessKeyId, secretAccessKey: base.secretAccessKey },
        requestChecksumCalculation: 'WHEN_REQUIRED',
        responseChecksumValidation: 'WHEN_REQUIRED',
      }),
    env: () => ({
      AWS_ENDPOINT_URL_S3: base.endpoint,
      AWS_REGION: base.region,
      AWS_ACCESS_KEY_ID: base.accessKeyId,
      AWS_SECRET_ACCESS_KEY: base.secretAccessKey,
      S3_FORCE_PATH_STYLE: 'true',
    }),
  };
}

function required(env: NodeJS.ProcessEnv, name: string): string {
  const value = env[name]?.trim();
  if (!value) throw new Error(`${name} must be set when S3_TEST_ENDPOINT is`);
  return value;
}

/** Same as startTestS3: s3rver in-process unless S3_TEST_ENDPOINT names an external server. */
export const startS3rver = startTestS3;
