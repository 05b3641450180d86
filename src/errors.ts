/**
 * The exporter's error family. Every failure a user can act on is one of these, with a stable `code`
 * (for reports, alerting and the troubleshooting table) and the process exit code it maps to. Only the
 * CLI entry turns them into `process.exit`.
 */

export const ExitCode = {
  ok: 0,
  internal: 1,
  config: 2,
  input: 3,
  auth: 4,
  transient: 5,
  partial: 6,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every error code the exporter reports, in one place: the report's `error.code`, the summary line and the
 * troubleshooting table use these strings, so they never change meaning. docs/troubleshooting.md lists each
 * one (a unit test keeps the two in step).
 */
export const ERROR_CODES = [
  'ACCOUNTING_MISMATCH',
  'BASE_URL_INVALID',
  'BASE_URL_REDIRECTS',
  'BATCH_TOO_LARGE',
  'CREDENTIALS_INVALID',
  'CREDENTIALS_MISSING',
  'FIELDS_MISSING',
  'FIELD_NAME_INVALID',
  'INPUT_COLUMNS_MISSING',
  'INPUT_CORRUPT',
  'INPUT_EMPTY',
  'INPUT_EMPTY_PREFIX',
  'INPUT_ENCODING',
  'INPUT_FORMAT_INVALID',
  'INPUT_HEADER_INVALID',
  'INPUT_HEADER_MISMATCH',
  'INPUT_MALFORMED',
  'INPUT_MISSING',
  'INPUT_NOT_FOUND',
  'INPUT_TOO_LARGE',
  'INPUT_URI_INVALID',
  'INTERNAL',
  'INTERRUPTED',
  'INVALID_ROW',
  'KEY_INDEX_MISSING',
  'LIST_NOT_FOUND',
  'LOAD_REFUSED',
  'ORGANIZATION_NOT_FOUND',
  'READ_THREADS_INVALID',
  'REJECTED_PATH_UNUSABLE',
  'REJECTIONS_OVER_TOLERANCE',
  'REPORT_ARGS_INVALID',
  'REPORT_FILE_MISSING',
  'REPORT_FILE_UNREADABLE',
  'REPORT_INVALID',
  'REPORT_NOT_JSON',
  'REPORT_PATH_UNUSABLE',
  'S3_FORCE_PATH_STYLE_INVALID',
  'SCHEMA_INVALID',
  'SCHEMA_MISMATCH',
  'SCHEMA_UNREADABLE',
  'SECRET_TOO_SHORT',
  'SEGMENT_GUARD',
  'SEGMENT_NOT_FOUND',
  'SEGMENT_NOT_STATIC',
  'SELLIGENT_BAD_RESPONSE',
  'SELLIGENT_BODY_TOO_LARGE',
  'SELLIGENT_LIST_BUSY',
  'SELLIGENT_NOT_FOUND',
  'SELLIGENT_RATE_LIMITED',
  'SELLIGENT_REQUEST_REFUSED',
  'SELLIGENT_TIMEOUT',
  'SELLIGENT_UNAUTHORIZED',
  'SELLIGENT_UNAVAILABLE',
  'SELLIGENT_UNREACHABLE',
  'SETTINGS_INVALID',
  'SETTINGS_MISSING',
  'SETTINGS_UNREADABLE',
  'STATE_CHECKSUM_MISMATCH',
  'STATE_CONFLICT',
  'STATE_NOT_FOUND',
  'STATE_PIECE_MISSING',
  'STATE_SSE_INVALID',
  'STATE_UNREADABLE',
  'STATE_URI_INVALID',
  'STATE_URI_MISSING',
  'STATE_VERSION_UNKNOWN',
  'STOPPED_ON_ERROR',
  'STORAGE_ACCESS_DENIED',
  'STORAGE_CLOSED',
  'STORAGE_ENDPOINT_INVALID',
  'STORAGE_OBJECT_CHANGED',
  'STORAGE_READ_INTERRUPTED',
  'STORAGE_REQUEST_FAILED',
  'STORAGE_UNAVAILABLE',
  'STORAGE_UNREACHABLE',
  'STORAGE_WRONG_REGION',
  'TEMP_DIR_UNUSABLE',
  'WORKER_EXITED',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN_CODES.has(value);
}

export type Stage =
  'settings' | 'read' | 'preflight' | 'list-setup' | 'segment-setup' | 'list-load' | 'segment-load' | 'report';

export interface ErrorOptions {
  cause?: unknown;
  stage?: Stage;
  /** Extra structured facts for the report (never secrets). */
  details?: Record<string, unknown>;
}

export abstract class ExporterError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: ErrorCode;
  stage: Stage | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.stage = options.stage;
    this.details = options.details;
    this.name = new.target.name;
  }
}

/**
 * Bad flags, settings or environment, or a List/field/Segment that is missing or unusable, found before
 * anything was written. A refusal by Selligent is a `RefusedError`, wherever it happens.
 */
export class ConfigError extends ExporterError {
  readonly exitCode = ExitCode.config;
}

/** Unreadable or malformed input, invalid rows with `skip_invalid_records: false`. Nothing was written. */
export class InputError extends ExporterError {
  readonly exitCode = ExitCode.input;
}

/**
 * Selligent refused a request for a reason retrying does not fix (a 400 or 404, a List or Segment gone, a
 * load answered with a failure code). Exit 2 like a configuration error; once something was written, the
 * run's outcome turns it (like any configuration or input error) into a partial failure, exit 6.
 */
export class RefusedError extends ExporterError {
  readonly exitCode = ExitCode.config;
}

/** Selligent 401/403, or object storage access denied. */
export class AuthError extends ExporterError {
  readonly exitCode = ExitCode.auth;
}

/** Still failing after retries: 429, 5xx, time-outs, network. Running again is safe. */
export class TransientError extends ExporterError {
  readonly exitCode = ExitCode.transient;
}

/** SIGTERM/SIGINT: the run stopped at a safe point (after the request in flight). */
export class InterruptedError extends TransientError {
  constructor(reason: unknown) {
    super(
      'INTERRUPTED',
      `stopped by ${typeof reason === 'string' ? reason : 'a signal'} after the work in flight; running the same export again is safe`,
      {},
    );
  }
}

/** Writes happened, then a stage failed or rejections exceeded the tolerance. */
export class PartialFailureError extends ExporterError {
  readonly exitCode = ExitCode.partial;
}

/** A bug: an invariant broke. The CLI prints the stack. */
export class InternalError extends ExporterError {
  readonly exitCode = ExitCode.internal;
}

/**
 * The run's exit code for a failure. A configuration, input or refusal error found after something was
 * written is a partial failure: Selligent's state changed, whatever the cause.
 */
export function failureExitCode(failure: ExporterError, written: boolean): ExitCode {
  return written && (failure.exitCode === ExitCode.config || failure.exitCode === ExitCode.input)
    ? ExitCode.partial
    : failure.exitCode;
}

export function isExporterError(error: unknown): error is ExporterError {
  return error instanceof ExporterError;
}

/** Any thrown value as an ExporterError; unknown errors are bugs. */
export function asExporterError(error: unknown): ExporterError {
  if (isExporterError(error)) return error;
  const message = error instanceof Error ? error.message : String(error);
  const wrapped = new InternalError('INTERNAL', `internal error: ${message}`, { cause: error });
  if (error instanceof Error && error.stack) wrapped.stack = error.stack;
  return wrapped;
}
