/**
 * When to retry a Selligent request, and how long to wait first. A pure function of the attempt, what
 * came back and the time spent, so it can be tested without a clock or a server.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Total time across attempts and waits after which the request is given up. */
  budgetMs: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /**
   * A 429 that is not the per-key quota, on a bulk route, means another bulk operation holds the List.
   * That can last minutes (another process loading it), so it has its own time budget, and its retries
   * do not use up `maxAttempts`. Absent: such a 429 is retried like any other.
   */
  listBusy?: { budgetMs: number; baseDelayMs: number; maxDelayMs: number };
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttempts: 8,
  budgetMs: 15 * 60_000,
  baseDelayMs: 500,
  maxDelayMs: 60_000,
};

export interface AttemptOutcome {
  /** 1 for the first attempt. */
  attempt: number;
  /** HTTP status when a response arrived. */
  status?: number;
  /** Node/got error code when no response arrived (ECONNRESET, ETIMEDOUT, ...). */
  errorCode?: string;
  /** Response headers, lower-case names. */
  headers?: Record<string, string | string[] | undefined>;
  /** Time since the first attempt started. */
  elapsedMs: number;
  /**
   * Set when this outcome is a "List busy" 429 (see `classify429`): the how-many-th such answer in a row
   * (1 for the first) and the time since the first of them.
   */
  listBusy?: { attempt: number; elapsedMs: number };
}

export type RetryDecision =
  | { retry: true; delayMs: number; reason: string }
  | {
      retry: false;
      reason: 'success' | 'not-retryable' | 'attempts-exhausted' | 'budget-exhausted' | 'list-busy-budget-exhausted';
    };

const RETRYABLE_STATUS = new Set([408, 429, 500, 502, 503, 504]);
const RETRYABLE_ERRORS = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EAI_AGAIN',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ENETDOWN',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'ECONNCLOSED',
]);

export function isRetryable(outcome: Pick<AttemptOutcome, 'status' | 'errorCode'>): boolean {
  if (outcome.status !== undefined) return RETRYABLE_STATUS.has(outcome.status);
  return outcome.errorCode !== undefined && RETRYABLE_ERRORS.has(outcome.errorCode);
}

/**
 * @param random a number in [0, 1) for jitter; injected so tests are exact.
 */
export function retryDecision(
  outcome: AttemptOutcome,
  policy: RetryPolicy,
  random: number = Math.random(),
): RetryDecision {
  if (outcome.status !== undefined && outcome.status < 400) return { retry: false, reason: 'success' };
  if (!isRetryable(outcome)) return { retry: false, reason: 'not-retryable' };
  if (outcome.status === 429 && outcome.listBusy && policy.listBusy)
    return listBusyDecision(outcome, outcome.listBusy, policy.listBusy, random);
  if (outcome.attempt >= policy.maxAttempts) return { retry: false, reason: 'attempts-exhausted' };

  const serverWait =
    outcome.status === 429 || outcome.status === 503 ? serverRequestedWaitMs(outcome.headers) : undefined;
  const { delayMs, serverRequested } = nextDelay(serverWait, policy, outcome.attempt, random);
  if (outcome.elapsedMs + delayMs > policy.budgetMs) return { retry: false, reason: 'budget-exhausted' };
  return { retry: true, delayMs, reason: serverRequested ? 'server-requested wait' : 'backoff' };
}

/**
 * The server's own wait when it named one (plus a little, so its window has surely turned; no jitter
 * needed), else capped exponential backoff with "full jitter" over the upper half, which keeps retries of
 * parallel exporters apart without waiting ~0.
 */
function nextDelay(
  serverWaitMs: number | undefined,
  backoff: { baseDelayMs: number; maxDelayMs: number },
  attempt: number,
  random: number,
): { delayMs: number; serverRequested: boolean } {
  if (serverWaitMs !== undefined) return { delayMs: serverWaitMs + 250, serverRequested: true };
  const exponential = Math.min(backoff.maxDelayMs, backoff.baseDelayMs * 2 ** (attempt - 1));
  return { delayMs: Math.round(exponential / 2 + (exponential / 2) * random), serverRequested: false };
}

function listBusyDecision(
  outcome: AttemptOutcome,
  busy: NonNullable<AttemptOutcome['listBusy']>,
  policy: NonNullable<RetryPolicy['listBusy']>,
  random: number,
): RetryDecision {
  const { delayMs, serverRequested } = nextDelay(serverRequestedWaitMs(outcome.headers), policy, busy.attempt, random);
  if (busy.elapsedMs + delayMs > policy.budgetMs) return { retry: false, reason: 'list-busy-budget-exhausted' };
  return {
    retry: true,
    delayMs,
    reason: serverRequested ? 'server-requested wait (List busy)' : 'backoff (List busy)',
  };
}

/** The plain-text body of the per-key quota 429 ("API calls quota exceeded! The maximum allowed is 2500 per minute"). */
const QUOTA_TEXT = /quota exceeded/i;

/**
 * What a 429 means. The per-key quota says so in its body or with `X-RateLimit-Remaining: 0`: waiting for
 * the window to turn helps. Any other 429 on a bulk route is the one-bulk-operation-per-List lock, held
 * by another request or process: only time helps, possibly minutes. On other routes it is taken as the
 * quota (retried as before).
 */
export function classify429(
  headers: AttemptOutcome['headers'],
  body: string,
  bulkRoute: boolean,
): 'quota' | 'list-busy' {
  if (QUOTA_TEXT.test(body.slice(0, 500))) return 'quota';
  const remaining = first(headers?.['x-ratelimit-remaining'])?.split(',')[0]?.trim();
  if (remaining !== undefined && Number(remaining) === 0) return 'quota';
  return bulkRoute ? 'list-busy' : 'quota';
}

/**
 * `Retry-After` (seconds or HTTP date) when present, else `X-RateLimit-Reset` (seconds left in the window)
 * unless `X-RateLimit-Remaining` says requests are left: then the 429 is not the per-key quota (e.g. the
 * one-bulk-operation-per-List 429) and waiting for the window to turn would be pointless.
 */
export function serverRequestedWaitMs(
  headers: AttemptOutcome['headers'],
  now: number = Date.now(),
): number | undefined {
  if (!headers) return undefined;
  const retryAfter = first(headers['retry-after']);
  if (retryAfter !== undefined) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3_600) * 1000;
    // Only an HTTP-date ("Wed, 21 Oct 2026 07:28:00 GMT"): V8's Date.parse takes almost anything.
    const date = HTTP_DATE.test(retryAfter) ? Date.parse(retryAfter) : Number.NaN;
    if (!Number.isNaN(date)) return Math.max(0, Math.min(date - now, 3_600_000));
  }
  const reset = first(headers['x-ratelimit-reset']);
  const remaining = Number(first(headers['x-ratelimit-remaining'])?.split(',')[0]?.trim() ?? Number.NaN);
  if (reset !== undefined && !(Number.isFinite(remaining) && remaining > 0)) {
    const seconds = Number(reset);
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 3_600) * 1000;
  }
  return undefined;
}

const HTTP_DATE = /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/;

function first(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}
