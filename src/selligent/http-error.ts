import { AuthError, RefusedError, TransientError, type ErrorCode, type ErrorOptions } from '../errors.js';

/**
 * A Selligent request as it ended. A failed request's error carries it, the way got's HTTPError carries
 * its response, so callers decide on facts (`status`, `attempts`) rather than on message text.
 */
export interface HttpExchange {
  route: string;
  method: string;
  /** The path under the base URL, names encoded; no host, no query. */
  path: string;
  /** null: no answer arrived (network failure, time-out). */
  status: number | null;
  /** Node's or got's code when no answer arrived (ETIMEDOUT, ECONNRESET, ...). */
  errorCode: string | null;
  /** A success status whose envelope named a failure, or null when it named nothing readable. */
  resultCode?: string | null;
  /** Requests sent for this call, the first included. */
  attempts: number;
  /** The service's own error text, trimmed and scrubbed of known secrets; never the request. */
  body: string;
}

export interface HttpErrorOptions extends ErrorOptions {
  http: HttpExchange;
}

/** The facts callers have read from `details` since before the exchange was carried whole. */
function detailsOf(options: HttpErrorOptions): Record<string, unknown> {
  const { route, status, errorCode, resultCode, attempts } = options.http;
  return options.details ?? { route, status, errorCode, ...(resultCode !== undefined ? { resultCode } : {}), attempts };
}

/** 401 or 403: the credentials, or the account's rights on this call. */
export class SelligentAuthError extends AuthError {
  readonly http: HttpExchange;

  constructor(code: ErrorCode, message: string, options: HttpErrorOptions) {
    super(code, message, { ...options, details: detailsOf(options) });
    this.http = options.http;
  }
}

/** Still failing after the retries: 429, 5xx, 408, time-outs, network, bodies that are not an answer. */
export class SelligentUnavailableError extends TransientError {
  readonly http: HttpExchange;

  constructor(code: ErrorCode, message: string, options: HttpErrorOptions) {
    super(code, message, { ...options, details: detailsOf(options) });
    this.http = options.http;
  }
}

/** Refused for a reason retrying does not fix: 400, 404, 409, 413, a failure code in a success status. */
export class SelligentRefusedError extends RefusedError {
  readonly http: HttpExchange;

  constructor(code: ErrorCode, message: string, options: HttpErrorOptions) {
    super(code, message, { ...options, details: detailsOf(options) });
    this.http = options.http;
  }
}

/** A load the server will not take in one piece (413, or repeated time-outs): the caller splits it. */
export class BatchTooLargeError extends SelligentUnavailableError {
  /** The refusals were time-outs, so the service may have applied some attempt. */
  readonly mayHaveApplied: boolean;

  constructor(message: string, options: HttpErrorOptions & { mayHaveApplied?: boolean }) {
    super('BATCH_TOO_LARGE', message, options);
    this.mayHaveApplied = options.mayHaveApplied ?? false;
  }
}

export type SelligentHttpError = SelligentAuthError | SelligentUnavailableError | SelligentRefusedError;

export function isSelligentHttpError(error: unknown): error is SelligentHttpError {
  return (
    error instanceof SelligentAuthError ||
    error instanceof SelligentUnavailableError ||
    error instanceof SelligentRefusedError
  );
}
