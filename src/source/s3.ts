import {
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
  type GetObjectCommandOutput,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import type { Readable } from 'node:stream';
import { ConfigError, InputError, TransientError } from '../errors.js';
import { mapS3Error } from './s3-errors.js';
import { ResumingObjectReadable, type ObjectPart, type ReadLogger } from './s3-read.js';
import { formatS3Uri, parseS3Uri } from './s3-uri.js';
import type { InputLocation, InputObject } from './types.js';

import { isMarkerObject } from './markers.js';
export { parseS3Uri, type S3Uri } from './s3-uri.js';

export interface S3LocationOptions {
  /** Ranged GETs allowed per object after dropped connections (default 5). */
  maxResumeAttempts?: number;
  logger?: ReadLogger;
  /** ListObjectsV2 page size (default 1000, the S3 maximum). */
  listPageSize?: number;
  /** Delay before resume attempt `n`; exponential from 200 ms by default. */
  resumeBackoffMs?: (attempt: number) => number;
}

/** Attempts per S3 request, counting the first, made by the SDK's own retry strategy. */
export const S3_MAX_ATTEMPTS = 3;
const CONNECT_TIMEOUT_MS = 10_000;
/** A socket idle this long (no bytes either way) fails the request; an object read then resumes. */
const SOCKET_IDLE_TIMEOUT_MS = 120_000;

/** True when a listed key is not a data object: a folder marker, a manifest or job marker, or empty. */
export function isSkippedS3Object(key: string, size: number | undefined): boolean {
  // Zero-byte objects are "folder" markers (keys ending in `/`) or empty parts: no rows either way.
  return size === 0 || isMarkerObject(key);
}

/** Plain-JSON lines on stderr, for callers that pass no logger. */
const stderrLogger: ReadLogger = {
  warn: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'warn', msg, ...obj })}\n`),
  info: (obj, msg) => process.stderr.write(`${JSON.stringify({ level: 'info', msg, ...obj })}\n`),
};

export interface ResolvedS3ClientConfig {
  config: S3ClientConfig;
  /** The endpoint's origin for messages, or undefined for the SDK's default (AWS S3). */
  endpointLabel: string | undefined;
}

/**
 * The S3 client set-up from the environment.
 *
 * - Region: `AWS_REGION`, then `AWS_DEFAULT_REGION`, then the shared config profile's `region`, then
 *   `us-east-1`. `followRegionRedirects` lets a bucket in another region be read anyway.
 * - Credentials: the SDK's default provider chain (env keys and session token, SSO, shared
 *   credentials/profile, web identity, ECS/EC2 roles). Only when a caller passes an env object other than
 *   `process.env` that holds `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` are those keys given explicitly,
 *   since the SDK reads `process.env` itself.
 * - Endpoint: `AWS_ENDPOINT_URL_S3`, then `AWS_ENDPOINT_URL` (unless `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS`
 *   is true) - the same order the SDK applies, resolved here so a malformed URL is a clear ConfigError and
 *   the env object passed in is honoured; with neither, the SDK still honours a profile's `endpoint_url`.
 * - `S3_FORCE_PATH_STYLE=true` selects path-style addressing (MinIO, Ceph RGW and most S3-compatible
 *   servers without wildcard DNS).
 * - Checksums `WHEN_REQUIRED` in both directions: with the SDK's default (`WHEN_SUPPORTED`) uploads are
 *   sent `aws-chunked` with trailing checksums, which older Ceph RGW rejects and s3rver stores verbatim,
 *   and responses are expected to carry CRC headers that such servers never send. Reads are checked by
 *   length (and ETag on resume) instead.
 */
export function resolveS3ClientConfig(env: NodeJS.ProcessEnv = process.env): ResolvedS3ClientConfig {
  const config: S3ClientConfig = {
    region: nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION) ?? profileRegionOrDefault,
    followRegionRedirects: true,
    maxAttempts: S3_MAX_ATTEMPTS,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, socketTimeout: SOCKET_IDLE_TIMEOUT_MS },
  };
  let endpointLabel: string | undefined;
  const ignoreEndpoints = (env.AWS_IGNORE_CONFIGURED_ENDPOINT_URLS ?? '').toLowerCase() === 'true';
  const endpoint = ignoreEndpoints ? undefined : (nonEmpty(env.AWS_ENDPOINT_URL_S3) ?? nonEmpty(env.AWS_ENDPOINT_URL));
  if (endpoint !== undefined) {
    let url: URL;
    try {
      url = new URL(endpoint);
    } catch {
      throw endpointInvalid('is not a URL');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      throw endpointInvalid('must be an http:// or https:// URL');
    if (url.username || url.password) throw endpointInvalid('must not carry credentials');
    config.endpoint = endpoint;
    endpointLabel = url.origin;
  }
  const pathStyle = (env.S3_FORCE_PATH_STYLE ?? '').trim().toLowerCase();
  if (pathStyle === 'true' || pathStyle === '1' || pathStyle === 'yes') config.forcePathStyle = true;
  else if (pathStyle !== '' && pathStyle !== 'false' && pathStyle !== '0' && pathStyle !== 'no') {
    throw new ConfigError(
      'S3_FORCE_PATH_STYLE_INVALID',
      `S3_FORCE_PATH_STYLE must be true or false, not ${JSON.stringify(env.S3_FORCE_PATH_STYLE)}`,
      {
        stage: 'settings',
      },
    );
  }
  if (env !== process.env) {
    const accessKeyId = nonEmpty(env.AWS_ACCESS_KEY_ID);
    const secretAccessKey = nonEmpty(env.AWS_SECRET_ACCESS_KEY);
    if (accessKeyId && secretAccessKey) {
      config.credentials = { accessKeyId, secretAccessKey, sessionToken: nonEmpty(env.AWS_SESSION_TOKEN) };
    }
  }
  return { config, endpointLabel };
}

function endpointInvalid(why: string): ConfigError {
  // The value itself is not echoed: a mistyped one could hold a secret.
  return new ConfigError(
    'STORAGE_ENDPOINT_INVALID',
    `the object storage endpoint (AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL) ${why}`,
    {
      stage: 'settings',
    },
  );
}

function nonEmpty(value: string | undefined): string | undefined {
  const trimmed = value?.trim();
  return trimmed ? trimmed : undefined;
}

/** The shared config profile's region (the SDK's own region chain), else `us-east-1`. */
async function profileRegionOrDefault(): Promise<string> {
  const probe = new S3Client({});
  try {
    return await probe.config.region();
  } catch {
    return 'us-east-1';
  } finally {
    probe.destroy();
  }
}

/**
 * The SDK prints a NodeVersionSupportWarning on Node < 22 through `process.emitWarning` when the first
 * client is built. It concerns future SDK releases (the version here is pinned), not this run, so it is
 * switched off with the SDK's own opt-out variable unless the user set that variable.
 */
function quietSdkVersionWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/**
 * The input location `s3://bucket/key` (one object) or `s3://bucket/prefix/` (every data object under the
 * prefix, in key order). Throws ConfigError `INPUT_URI_INVALID` for a malformed URI; `list()` and `open()`
 * throw InputError `INPUT_NOT_FOUND` / `INPUT_EMPTY_PREFIX`, AuthError `STORAGE_ACCESS_DENIED` and
 * TransientError `STORAGE_UNREACHABLE` / `STORAGE_UNAVAILABLE` / `STORAGE_READ_INTERRUPTED` /
 * `STORAGE_OBJECT_CHANGED`.
 */
export function s3Location(
  uri: string,
  env: NodeJS.ProcessEnv = process.env,
  options: S3LocationOptions = {},
): InputLocation {
  const target = parseS3Uri(uri);
  const { config, endpointLabel } = resolveS3ClientConfig(env);
  const logger = options.logger ?? stderrLogger;
  const maxResumeAttempts = options.maxResumeAttempts ?? 5;
  const pageSize = options.listPageSize ?? 1000;
  quietSdkVersionWarning();
  let client: S3Client | undefined = new S3Client(config);
  const live = (): S3Client => {
    if (!client)
      throw new TransientError('STORAGE_CLOSED', `input ${uri}: the object storage client was closed`, {
        stage: 'read',
        details: { uri, bucket: target.bucket },
      });
    return client;
  };
  const fail = (error: unknown, objectUri: string, bucket: string): never => {
    throw mapS3Error(error, { uri: objectUri, bucket, endpoint: endpointLabel });
  };

  async function listPrefix(): Promise<InputObject[]> {
    const found: { key: string; size: number | undefined }[] = [];
    let skipped = 0;
    let token: string | undefined;
    do {
      const page = await live()
        .send(
          new ListObjectsV2Command({
            Bucket: target.bucket,
            Prefix: target.key || undefined,
            ContinuationToken: token,
            MaxKeys: pageSize,
          }),
        )
        .catch((error: unknown) => fail(error, uri, target.bucket));
      for (const item of page.Contents ?? []) {
        if (item.Key === undefined) continue;
        if (isSkippedS3Object(item.Key, item.Size)) skipped += 1;
        else found.push({ key: item.Key, size: item.Size });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    if (found.length === 0) {
      throw new InputError(
        'INPUT_EMPTY_PREFIX',
        `input ${uri}: no data objects under this prefix${skipped > 0 ? ` (${skipped} marker, folder or empty object${skipped === 1 ? '' : 's'} skipped)` : ''}`,
        { stage: 'read', details: { uri, bucket: target.bucket } },
      );
    }
    // S3 lists in UTF-8 byte order; sort again in that order so every server agrees.
    found.sort((a, b) => Buffer.compare(Buffer.from(a.key, 'utf8'), Buffer.from(b.key, 'utf8')));
    return found.map(({ key, size }) => ({
      uri: formatS3Uri(target.bucket, key),
      ...(size === undefined ? {} : { size }),
    }));
  }

  async function listOne(): Promise<InputObject[]> {
    try {
      const head = await live().send(new HeadObjectCommand({ Bucket: target.bucket, Key: target.key }));
      return [
        {
          uri: formatS3Uri(target.bucket, target.key),
          ...(head.ContentLength === undefined ? {} : { size: head.ContentLength }),
        },
      ];
    } catch (error) {
      const mapped = mapS3Error(error, { uri, bucket: target.bucket, endpoint: endpointLabel });
      if (mapped instanceof Error && (mapped as { code?: string }).code === 'INPUT_NOT_FOUND') {
        // A HEAD 404 does not say whether the bucket or the key is missing; ask, and spot a forgotten slash.
        const detail = await explainMissing().catch(() => undefined);
        if (detail) mapped.message = `input ${uri}: ${detail}`;
      }
      throw mapped;
    }
  }

  async function explainMissing(): Promise<string | undefined> {
    const page = await live().send(
      new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `${target.key}/`, MaxKeys: 1 }),
    );
    if ((page.KeyCount ?? page.Contents?.length ?? 0) > 0) {
      return `no such object, but objects exist under ${uri}/ (end the URI with "/" to read a prefix)`;
    }
    return 'no such object';
  }

  return {
    uri,
    kind: 's3',
    async list(): Promise<InputObject[]> {
      return target.isPrefix ? listPrefix() : listOne();
    },
    async open(object: InputObject): Promise<Readable> {
      const { bucket, key, isPrefix } = parseS3Uri(object.uri);
      if (isPrefix)
        throw new ConfigError('INPUT_URI_INVALID', `cannot open ${object.uri}: it names a prefix, not an object`, {
          stage: 'read',
          details: { uri: object.uri, bucket },
        });
      const get = async (
        start: number,
        pin: { etag?: string; versionId?: string },
        signal?: AbortSignal,
      ): Promise<ObjectPart> => {
        const output: GetObjectCommandOutput = await live().send(
          new GetObjectCommand({
            Bucket: bucket,
            Key: key,
            ...(start > 0 ? { Range: `bytes=${start}-` } : {}),
            ...(pin.etag ? { IfMatch: pin.etag } : {}),
            ...(pin.versionId ? { VersionId: pin.versionId } : {}),
          }),
          signal ? { abortSignal: signal } : {},
        );
        if (!output.Body)
          throw Object.assign(new Error('GetObject returned no body'), {
            name: 'InternalError',
            $metadata: output.$metadata,
          });
        return {
          body: output.Body as unknown as Readable,
          contentLength: output.ContentLength,
          contentRange: output.ContentRange,
          etag: output.ETag,
          versionId: output.VersionId,
        };
      };
      let first: ObjectPart;
      try {
        first = await get(0, {});
      } catch (error) {
        return fail(error, object.uri, bucket);
      }
      return new ResumingObjectReadable({
        uri: object.uri,
        bucket,
        endpoint: endpointLabel,
        first,
        fetchFrom: (start, pin, signal) => get(start, pin, signal),
        maxResumeAttempts,
        logger,
        backoffMs: options.resumeBackoffMs,
      });
    },
    close(): Promise<void> {
      client?.destroy();
      client = undefined;
      return Promise.resolve();
    },
  };
}
