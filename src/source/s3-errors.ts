import { AuthError, ConfigError, InputError, TransientError, isExporterError } from '../errors.js';

/**
 * Turns an object-storage failure into the exporter's error family. Messages are built here from the
 * error's name and HTTP status only: S3 error bodies can carry the access key id (InvalidAccessKeyId,
 * SignatureDoesNotMatch), the string to sign or the caller's ARN, so neither the SDK's message nor the SDK
 * error itself is passed on; `cause` is a stripped summary.
 */

export interface S3ErrorContext {
  /** The URI being read (the object's, or the location's for a listing). */
  uri: string;
  bucket: string;
  /** The endpoint host, for "unreachable" messages; never carries credentials. */
  endpoint?: string;
}

const NOT_FOUND = new Set(['NoSuchBucket', 'NoSuchKey', 'NotFound', 'NoSuchVersion']);
const ACCESS_DENIED = new Set([
  'AccessDenied',
  'Forbidden',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'AllAccessDisabled',
  'AccountProblem',
  'InvalidSecurity',
  'RequestTimeTooSkewed',
  'AuthorizationHeaderMalformed',
  'Unauthorized',
]);
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ECONNABORTED',
  'EHOSTDOWN',
  'EPROTO',
  'ERR_STREAM_PREMATURE_CLOSE',
  'UND_ERR_SOCKET',
]);
const UNAVAILABLE = new Set([
  'SlowDown',
  'ServiceUnavailable',
  'InternalError',
  'RequestTimeout',
  'ThrottlingException',
  'Throttling',
]);

const HINTS: Record<string, string> = {
  InvalidAccessKeyId: 'the access key id is not known to this endpoint',
  SignatureDoesNotMatch: 'the secret access key does not match the access key id',
  ExpiredToken: 'the session token has expired',
  InvalidToken: 'the session token is invalid',
  TokenRefreshRequired: 'the session token must be refreshed',
  RequestTimeTooSkewed: "this machine's clock differs too much from the server's",
  AuthorizationHeaderMalformed: 'the request was signed for another region (check AWS_REGION)',
  AccessDenied: 'the credentials are not allowed s3:ListBucket / s3:GetObject here',
};

interface ErrorFacts {
  name: string | undefined;
  code: string | undefined;
  status: number | undefined;
  requestId: string | undefined;
}

function facts(error: unknown): ErrorFacts {
  const e = (error ?? {}) as {
    name?: unknown;
    code?: unknown;
    Code?: unknown;
    $metadata?: { httpStatusCode?: unknown; requestId?: unknown };
    $response?: { statusCode?: unknown };
    cause?: unknown;
    errors?: unknown;
  };
  let code = typeof e.code === 'string' ? e.code : typeof e.Code === 'string' ? e.Code : undefined;
  // Network failures may arrive wrapped (AggregateError from happy-eyeballs connects, or a `cause`).
  if (code === undefined && Array.isArray(e.errors) && e.errors.length > 0) code = facts(e.errors[0]).code;
  if (code === undefined && e.cause !== undefined && e.cause !== error) code = facts(e.cause).code;
  const statusRaw = e.$metadata?.httpStatusCode ?? e.$response?.statusCode;
  return {
    name: typeof e.name === 'string' ? e.name : undefined,
    code,
    status: typeof statusRaw === 'number' ? statusRaw : undefined,
    requestId: typeof e.$metadata?.requestId === 'string' ? e.$metadata.requestId : undefined,
  };
}

/** The error's name, status and request id only: safe to log and to keep as a `cause`. */
export function describeS3Failure(error: unknown): string {
  const f = facts(error);
  const parts: string[] = [];
  const label = f.name && f.name !== 'Error' ? f.name : f.code;
  if (label) parts.push(label);
  if (f.code && f.code !== label) parts.push(f.code);
  if (f.status !== undefined) parts.push(`HTTP ${f.status}`);
  if (f.requestId) parts.push(`request id ${f.requestId}`);
  return parts.length > 0 ? parts.join(', ') : 'unknown error';
}

function strippedCause(error: unknown): Error {
  const cause = new Error(describeS3Failure(error));
  cause.name = 'ObjectStorageFailure';
  delete cause.stack;
  return cause;
}

export function isNetworkFailure(error: unknown): boolean {
  const f = facts(error);
  return (f.code !== undefined && NETWORK_CODES.has(f.code)) || f.name === 'TimeoutError';
}

/**
 * Maps any failure of an object-storage call to an ExporterError (exit 2-5). An ExporterError passes
 * through; anything that is not recognisably a storage or network failure is returned unchanged (a bug).
 */
export function mapS3Error(error: unknown, context: S3ErrorContext): unknown {
  if (isExporterError(error)) return error;
  const { uri, bucket } = context;
  const options = { stage: 'read' as const, details: { uri, bucket }, cause: strippedCause(error) };
  const f = facts(error);
  const label =
    f.name && f.name !== 'Error' && f.name !== 'S3ServiceException' ? f.name : (f.code ?? `HTTP ${f.status ?? '?'}`);

  if ((f.name && NOT_FOUND.has(f.name)) || f.status === 404) {
    const what =
      f.name === 'NoSuchBucket'
        ? `bucket "${bucket}" does not exist`
        : f.name === 'NoSuchKey' || f.name === 'NoSuchVersion'
          ? 'no such object'
          : 'not found (no such bucket or object)';
    return new InputError('INPUT_NOT_FOUND', `input ${uri}: ${what}`, options);
  }
  if ((f.name && ACCESS_DENIED.has(f.name)) || f.status === 401 || f.status === 403) {
    const hint = (f.name && HINTS[f.name]) ?? 'check the credentials, their permissions, the region and the endpoint';
    return new AuthError(
      'STORAGE_ACCESS_DENIED',
      `object storage denied access to bucket "${bucket}" (${label}): ${hint}`,
      options,
    );
  }
  if (f.name === 'CredentialsProviderError') {
    return new AuthError(
      'STORAGE_ACCESS_DENIED',
      `no credentials for object storage (bucket "${bucket}"): set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, AWS_PROFILE, or run with a role`,
      options,
    );
  }
  if (f.name === 'PreconditionFailed' || f.status === 412) {
    return new TransientError(
      'STORAGE_OBJECT_CHANGED',
      `input ${uri}: the object changed while it was being read; run the export again`,
      options,
    );
  }
  if (isNetworkFailure(error)) {
    const where = context.endpoint ? `endpoint ${context.endpoint}` : 'endpoint';
    return new TransientError(
      'STORAGE_UNREACHABLE',
      `object storage ${where} unreachable (${f.code ?? f.name ?? 'network error'}) reading bucket "${bucket}"; it was retried`,
      options,
    );
  }
  if ((f.name && UNAVAILABLE.has(f.name)) || (f.status !== undefined && f.status >= 500)) {
    return new TransientError(
      'STORAGE_UNAVAILABLE',
      `object storage failed reading bucket "${bucket}" (${label}); it was retried`,
      options,
    );
  }
  if (f.name === 'PermanentRedirect' || f.status === 301) {
    return new ConfigError(
      'STORAGE_WRONG_REGION',
      `bucket "${bucket}" is in another region than the one configured (${label}): set AWS_REGION`,
      options,
    );
  }
  if (f.status !== undefined && f.status >= 400) {
    return new InputError(
      'STORAGE_REQUEST_FAILED',
      `input ${uri}: object storage refused the request (${label})`,
      options,
    );
  }
  return error;
}
