import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import { randomUUID } from 'node:crypto';
import { ConfigError, isExporterError } from '../errors.js';
import { mapS3Error } from '../source/s3-errors.js';
import { resolveS3ClientConfig } from '../source/s3.js';
import { parseS3Uri } from '../source/s3-uri.js';
import { StateConflictError } from './errors.js';
import { POINTER_NAME } from './format.js';
import type { StateEncryption } from './encryption.js';
import type { CommitGuarantee, PointerRead, StateStore } from './store.js';

export interface S3StateStoreOptions {
  env?: NodeJS.ProcessEnv;
  encryption?: StateEncryption;
  /** A client to use instead of one built from `env` (the caller keeps ownership). */
  client?: S3Client;
}

/**
 * A state under `s3://bucket/prefix/`, through the same client set-up (region, credentials, endpoint,
 * path style) as the input. Every write carries the chosen server-side encryption.
 */
export function s3StateStore(uri: string, options: S3StateStoreOptions = {}): StateStore {
  const target = parseStateUri(uri.endsWith('/') ? uri : `${uri}/`);
  const prefix = target.key;
  const bucket = target.bucket;
  const location = `s3://${bucket}/${prefix}`;
  const resolved = options.client ? undefined : resolveS3ClientConfig(options.env ?? process.env);
  if (!options.client) process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const client = options.client ?? new S3Client(resolved!.config);
  const endpoint = resolved?.endpointLabel;
  const encryption = encryptionParameters(options.encryption);
  let conditional: Promise<ETagForm | undefined> | undefined;

  const fail = (error: unknown, name: string): never => {
    const mapped = mapS3Error(error, { uri: `${location}${name}`, bucket, endpoint });
    if (isExporterError(mapped)) mapped.message = mapped.message.replace(/^input /, 'state ');
    throw mapped;
  };

  /** An object's GET answer, its body not read yet, or undefined when it does not exist. */
  async function sendGet(name: string): Promise<GetObjectCommandOutput | undefined> {
    try {
      return await client.send(new GetObjectCommand({ Bucket: bucket, Key: prefix + name }));
    } catch (error) {
      if (isAbsent(error)) return undefined;
      return fail(error, name);
    }
  }

  async function getObject(name: string): Promise<{ body: Buffer; etag: string } | undefined> {
    const output = await sendGet(name);
    if (!output) return undefined;
    const bytes = await output.Body!.transformToByteArray().catch((error: unknown) => fail(error, name));
    return { body: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), etag: output.ETag ?? '' };
  }

  async function putObject(name: string, body: Buffer, extra: Partial<PutObjectCommandInput> = {}): Promise<void> {
    await client.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: prefix + name,
        Body: body,
        ContentLength: body.length,
        ...encryption,
        ...extra,
      }),
    );
  }

  /**
   * How the server treats a PUT's If-None-Match / If-Match, found out on a scratch object: AWS S3 refuses
   * a condition that does not hold and takes the ETag as read (quoted); Ceph RGW (Pacific) refuses too but
   * matches If-Match only against the ETag without its quotes; many S3-compatible servers ignore the
   * headers and write anyway. `undefined`: no conditional write to rely on.
   */
  async function probeConditionalWrites(): Promise<ETagForm | undefined> {
    const name = `.probe-${randomUUID()}`;
    const empty = Buffer.alloc(0);
    const refused = async (extra: Partial<PutObjectCommandInput>): Promise<boolean> => {
      try {
        await putObject(name, empty, extra);
        return false;
      } catch (error) {
        if (isPreconditionFailure(error)) return true;
        if (statusOf(error) === 501 || nameOf(error) === 'NotImplemented') return false;
        return fail(error, name);
      }
    };
    try {
      await putObject(name, empty).catch((error: unknown) => fail(error, name));
      const written = await getObject(name);
      if (!written?.etag) return undefined;
      if (!(await refused({ IfNoneMatch: '*' }))) return undefined;
      if (!(await refused({ IfMatch: '"00000000000000000000000000000000"' }))) return undefined;
      for (const form of ['quoted', 'bare'] as const) {
        if (!(await refused({ IfMatch: inETagForm(written.etag, form) }))) return form;
      }
      return undefined;
    } finally {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: prefix + name })).catch(() => undefined);
    }
  }

  return {
    location,
    kind: 's3',
    async readPointer(): Promise<PointerRead | undefined> {
      const found = await getObject(POINTER_NAME);
      return found && { body: found.body, token: found.etag };
    },
    async get(name: string): Promise<Buffer | undefined> {
      return (await getObject(name))?.body;
    },
    async open(name: string): Promise<AsyncIterable<Buffer> | undefined> {
      const output = await sendGet(name);
      if (!output) return undefined;
      // On Node the SDK's body is the HTTP response, a Readable of Buffers.
      const body = output.Body as unknown as AsyncIterable<Buffer>;
      return (async function* () {
        try {
          yield* body;
        } catch (error) {
          fail(error, name);
        }
      })();
    },
    async put(name: string, body: Buffer): Promise<void> {
      await putObject(name, body).catch((error: unknown) => fail(error, name));
    },
    async replacePointer(body: Buffer, expected: string | undefined): Promise<CommitGuarantee> {
      conditional ??= probeConditionalWrites();
      const etagForm = await conditional;
      if (etagForm) {
        try {
          await putObject(
            POINTER_NAME,
            body,
            expected === undefined ? { IfNoneMatch: '*' } : { IfMatch: inETagForm(expected, etagForm) },
          );
        } catch (error) {
          if (isPreconditionFailure(error))
            throw new StateConflictError(location, 'the pointer changed after this run read it');
          return fail(error, POINTER_NAME);
        }
        return 'conditional-write';
      }
      const before = await getObject(POINTER_NAME);
      if (before?.etag !== expected) {
        throw new StateConflictError(
          location,
          before === undefined ? 'the state was removed' : 'the pointer changed after this run read it',
        );
      }
      await putObject(POINTER_NAME, body).catch((error: unknown) => fail(error, POINTER_NAME));
      const after = await getObject(POINTER_NAME);
      if (!after || !after.body.equals(body))
        throw new StateConflictError(location, 'another run replaced the pointer at the same time');
      return 'read-compare';
    },
    async listDirectories(): Promise<string[]> {
      const names: string[] = [];
      let token: string | undefined;
      do {
        const page = await client
          .send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix || undefined,
              Delimiter: '/',
              ContinuationToken: token,
            }),
          )
          .catch((error: unknown) => fail(error, ''));
        for (const common of page.CommonPrefixes ?? []) {
          if (common.Prefix) names.push(common.Prefix.slice(prefix.length).replace(/\/$/, ''));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return names;
    },
    async removeDirectory(name: string): Promise<void> {
      let token: string | undefined;
      do {
        const page = await client
          .send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}${name}/`, ContinuationToken: token }))
          .catch((error: unknown) => fail(error, `${name}/`));
        const keys = (page.Contents ?? []).flatMap((item) => (item.Key ? [{ Key: item.Key }] : []));
        if (keys.length > 0) {
          await client
            .send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }))
            .catch((error: unknown) => fail(error, `${name}/`));
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },
    close(): Promise<void> {
      if (!options.client) client.destroy();
      return Promise.resolve();
    },
  };
}

/** How a server wants an ETag written in If-Match: as read (quoted), or without its quotes. */
type ETagForm = 'quoted' | 'bare';

function inETagForm(etag: string, form: ETagForm): string {
  const bare = etag.replace(/^(W\/)?"(.*)"$/, '$2');
  return form === 'bare' ? bare : `"${bare}"`;
}

function parseStateUri(uri: string): ReturnType<typeof parseS3Uri> {
  try {
    return parseS3Uri(uri);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw new ConfigError('STATE_URI_INVALID', error.message.replace(/^input URI/, 'state_uri'), { stage: 'settings' });
  }
}

function encryptionParameters(encryption: StateEncryption | undefined): Partial<PutObjectCommandInput> {
  if (!encryption) return {};
  if (encryption.algorithm === 'AES256') return { ServerSideEncryption: 'AES256' };
  return { ServerSideEncryption: 'aws:kms', ...(encryption.kmsKeyId ? { SSEKMSKeyId: encryption.kmsKeyId } : {}) };
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { $metadata?: { httpStatusCode?: unknown } } | undefined)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function nameOf(error: unknown): string | undefined {
  const name = (error as { name?: unknown } | undefined)?.name;
  return typeof name === 'string' ? name : undefined;
}

function isAbsent(error: unknown): boolean {
  const name = nameOf(error);
  // A missing bucket is a configuration problem, not a state never written.
  return name !== 'NoSuchBucket' && (name === 'NoSuchKey' || name === 'NotFound' || statusOf(error) === 404);
}

/** 412, or 409 when S3 saw a concurrent conditional write to the same key. */
function isPreconditionFailure(error: unknown): boolean {
  const name = nameOf(error);
  const status = statusOf(error);
  return name === 'PreconditionFailed' || name === 'ConditionalRequestConflict' || status === 412 || status === 409;
}
