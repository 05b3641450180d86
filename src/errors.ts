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

export type Stage =
  | 'settings'
  | 'read'
  | 'preflight'
  | 'list-setup'
  | 'segment-setup'
  | 'list-load'
  | 'segment-load'
  | 'report';

export interface ErrorOptions {
  cause?: unknown;
  stage?: Stage;
  /** Extra structured facts for the report (never secrets). */
  details?: Record<string, unknown>;
}

export abstract class ExporterError extends Error {
  abstract readonly exitCode: ExitCode;
  readonly code: string;
  stage: Stage | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, options: ErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.stage = options.stage;
    this.details = options.details;
    this.name = new.target.name;
  }
}

/** Bad flags, settings or environment, or a List/field/Segment that is missing or unusable. Nothing was written. */
export class ConfigError extends ExporterError {
  readonly exitCode = ExitCode.config;
}

/** Unreadable or malformed input, invalid rows with `skip_invalid_records: false`. Nothing was written. */
export class InputError extends ExporterError {
  readonly exitCode = ExitCode.input;
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
    super('INTERRUPTED', `stopped by ${typeof reason === 'string' ? reason : 'a signal'} after the work in flight; running the same export again is safe`, {});
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
