import { ConfigError, type ExporterError } from '../errors.js';
import { scrubSecrets } from '../secrets.js';
import {
  SelligentAuthError,
  SelligentRefusedError,
  SelligentUnavailableError,
  type HttpExchange,
} from './http-error.js';
import type { Envelope, LoadResult } from './types.js';

/**
 * What Selligent's answers mean: whether a request was applied, may have been applied, or failed, and
 * which error a failed request becomes. Pure functions of status, body and the attempts made, so every
 * mapping is tested without a server.
 */

export const API_ROOT = '/Portal/Api';

const RESULT_CODES = new Set([
  'Succeeded',
  'PartiallySucceeded',
  'Failed',
  'ValidationFailed',
  'NotFound',
  'ServiceUnavailable',
  'InternalServerError',
]);

/** What an answer's envelope means for the request: see `classifyAnswer`. */
export type AnswerVerdict =
  | { verdict: 'applied' }
  | { verdict: 'transient'; resultCode: string | null; asStatus: number }
  | { verdict: 'refused' };

/**
 * Reads the envelope of a mutating call's answer. The status alone says little: the service may answer
 * 200 with a failure code, or 400 with a load answer that lists the invalid rows. Only `Succeeded` and
 * `PartiallySucceeded` mean the request was applied; a load answered `Failed` with row detail (invalid
 * rows or a failure count) is a row-level answer for the caller to account, in a 200 or a 400 alike;
 * `ServiceUnavailable` and `InternalServerError` are retried like the 503 and 500 they stand for; an
 * answer without a known `result_code` is unreadable, so retried (it may hide anything, even a success);
 * every other code is a refusal of the whole request, whatever the status.
 */
export function classifyAnswer(status: number, body: string, load: boolean): AnswerVerdict {
  const envelope = parseEnvelope(body);
  const code =
    typeof envelope?.result_code === 'string' && RESULT_CODES.has(envelope.result_code)
      ? envelope.result_code
      : undefined;
  const rowLevelFailure = load && code === 'Failed' && envelope !== undefined && hasRowDetail(envelope);
  if (status >= 400) return rowLevelFailure ? { verdict: 'applied' } : { verdict: 'refused' };
  if (code === undefined) return { verdict: 'transient', resultCode: null, asStatus: 502 };
  if (code === 'Succeeded' || code === 'PartiallySucceeded' || rowLevelFailure) return { verdict: 'applied' };
  if (code === 'ServiceUnavailable') return { verdict: 'transient', resultCode: code, asStatus: 503 };
  if (code === 'InternalServerError') return { verdict: 'transient', resultCode: code, asStatus: 500 };
  return { verdict: 'refused' };
}

function parseEnvelope(body: string): Envelope | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : undefined;
}

function hasRowDetail(result: LoadResult): boolean {
  const failed = result.number_of_failed_records;
  return (
    (Array.isArray(result.invalid_records) && result.invalid_records.length > 0) ||
    (typeof failed === 'number' && failed > 0)
  );
}

/** Answers after which the service may have applied the request although it did not say so. */
export function mayHaveApplied(status: number | undefined, resultCode: string | null | undefined): boolean {
  if (status === undefined) return true;
  if (resultCode !== undefined) return resultCode !== 'ServiceUnavailable';
  return status === 408 || status === 500 || status === 502 || status === 504;
}

/** V3: the service says an object is missing with 404, or with 400 and `result_code: "NotFound"`. */
export function isAbsent(status: number, body: string): boolean {
  if (status === 404) return true;
  if (status !== 400) return false;
  return parseEnvelope(body)?.result_code === 'NotFound';
}

/** The service's own error text from an envelope (or the raw body), trimmed and scrubbed; never the request. */
export function serviceText(body: string): string {
  if (!body) return '';
  let text: string;
  try {
    const envelope = JSON.parse(body) as Envelope;
    const parts = [
      envelope.result_code,
      envelope.message,
      ...(envelope.errors ?? []).map((e) => [e.error_code, e.description].filter(Boolean).join(' ')),
    ];
    text = parts.filter(Boolean).join(': ');
  } catch {
    // Not JSON, or JSON that is not an envelope (null, an errors list that is not one): the body as it came.
    text = body;
  }
  text = scrubSecrets(text.replace(/\s+/g, ' ').trim());
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}

/** How a request ended when it failed: the exchange, and why the retries stopped. */
export interface FailedRequest {
  route: string;
  method: string;
  /** The path under API_ROOT. */
  path: string;
  /** undefined: no answer arrived. */
  status: number | undefined;
  errorCode: string | undefined;
  /** Set when a success status carried a failure code (a string) or no readable answer (null). */
  resultCode?: string | null;
  body: string;
  attempts: number;
  /** `retryDecision`'s reason for stopping ('not-retryable' for a refusal). */
  reason: string;
  /** The "List busy" 429s of the List's bulk lock, when they used up their own budget. */
  listBusy?: { attempts: number; seconds: number };
}

/**
 * The error a failed request becomes. Its class gives the exit code: 401/403 are authentication (4);
 * 429, 5xx, 408, time-outs, network failures and unreadable answers are transient (5, running again is
 * safe); every other refusal (400, 404, 409, 413, a failure code in a success status) is a refusal (2,
 * or 6 once something was written).
 */
export function failedRequestError(failed: FailedRequest): ExporterError {
  const { route, status, errorCode, body, attempts, reason } = failed;
  const where = `${failed.method} ${API_ROOT}${failed.path}`;
  const said = serviceText(body);
  const detail = said ? ` (${said})` : '';
  const tried = attempts > 1 ? ` after ${attempts} attempts` : '';
  const http: HttpExchange = {
    route,
    method: failed.method,
    path: failed.path,
    status: status ?? null,
    errorCode: errorCode ?? null,
    ...(failed.resultCode !== undefined ? { resultCode: failed.resultCode } : {}),
    attempts,
    body: said,
  };
  if (failed.listBusy) {
    const { attempts: busyAttempts, seconds } = failed.listBusy;
    return new SelligentUnavailableError(
      'SELLIGENT_LIST_BUSY',
      `${where} answered 429 ${busyAttempts} time(s) over ${seconds} s: another process holds this List's bulk lock (Selligent allows one bulk operation per List at a time); run again when it is done, or raise list_busy_retry_seconds${detail}`,
      { http, details: { route, status, attempts, busyAttempts } },
    );
  }
  if (status === undefined) {
    const what = errorCode === 'ETIMEDOUT' ? 'timed out' : `failed (${errorCode ?? 'network error'})`;
    const code = errorCode === 'ETIMEDOUT' ? 'SELLIGENT_TIMEOUT' : 'SELLIGENT_UNREACHABLE';
    return new SelligentUnavailableError(
      code,
      `${where} ${what}${tried}${reason === 'budget-exhausted' ? ' (retry time budget spent)' : ''}`,
      { http },
    );
  }
  if (failed.resultCode !== undefined) {
    if (failed.resultCode !== null) {
      return new SelligentUnavailableError(
        'SELLIGENT_UNAVAILABLE',
        `${where} answered ${status} with result_code ${failed.resultCode}${tried}${detail}`,
        { http },
      );
    }
    return new SelligentUnavailableError(
      'SELLIGENT_BAD_RESPONSE',
      `${where} answered ${status} with a body that is not a Selligent answer (no valid result_code)${tried}: ${JSON.stringify(scrubSecrets(body.slice(0, 200)))}`,
      { http },
    );
  }
  if (status === 401 || status === 403) {
    return new SelligentAuthError(
      'SELLIGENT_UNAUTHORIZED',
      `${where} answered ${status}: Selligent refused the credentials (wrong SELLIGENT_API_KEY/SELLIGENT_API_SECRET, or the service account may not call this endpoint or organization)${detail}`,
      { http },
    );
  }
  if (status === 429)
    return new SelligentUnavailableError(
      'SELLIGENT_RATE_LIMITED',
      `${where} answered 429 (rate limit)${tried}; lower requests_per_minute if other jobs share this API key${detail}`,
      { http },
    );
  if (status >= 500 || status === 408)
    return new SelligentUnavailableError('SELLIGENT_UNAVAILABLE', `${where} answered ${status}${tried}${detail}`, {
      http,
    });
  if (status === 413)
    return new SelligentRefusedError(
      'SELLIGENT_BODY_TOO_LARGE',
      `${where} answered 413: the request body is too large${detail}`,
      { http },
    );
  if (/key index|business ?key|unique index/i.test(body)) {
    return new SelligentRefusedError(
      'KEY_INDEX_MISSING',
      `${where} answered ${status}: the List has no unique key index over the key fields${detail}. Fix: define it once with PUT .../lists/{list}/businesskey {"fields": [...key_fields]} (or in the Selligent UI), then run again`,
      { http },
    );
  }
  if (status === 404)
    return new SelligentRefusedError('SELLIGENT_NOT_FOUND', `${where} answered 404: not found${detail}`, { http });
  return new SelligentRefusedError('SELLIGENT_REQUEST_REFUSED', `${where} answered ${status}${detail}`, { http });
}

/**
 * Redirects are not followed, so the X-ApiKey header never goes to another host; a base URL that
 * redirects (http to https, an old tenant domain) is a configuration to fix, named with its target. The
 * target is shown without user info, query or fragment, which could carry secrets.
 */
export function redirectError(
  where: string,
  status: number,
  location: string | string[] | undefined,
  requested: string,
  apiPath: string,
  baseUrl: string,
): ConfigError {
  const raw = Array.isArray(location) ? location[0] : location;
  let target: URL | undefined;
  try {
    target = raw ? new URL(raw, requested) : undefined;
  } catch {
    target = undefined;
  }
  const shown = target ? `${target.origin}${target.pathname}` : undefined;
  const base =
    target && target.pathname.toLowerCase().endsWith(apiPath.toLowerCase())
      ? `${target.origin}${target.pathname.slice(0, target.pathname.length - apiPath.length)}`
      : undefined;
  const message = shown
    ? `${where} answered ${status}: SELLIGENT_BASE_URL ${baseUrl} redirects to ${shown}; set SELLIGENT_BASE_URL to ${base ? base : "the tenant's API address"} (redirects are not followed, so the credentials never go to another address)`
    : `${where} answered ${status} (a redirect without a usable Location): SELLIGENT_BASE_URL ${baseUrl} is not the tenant's API address`;
  return new ConfigError('BASE_URL_REDIRECTS', message, { details: { status, location: shown ?? null } });
}
