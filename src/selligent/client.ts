import { Agent as HttpAgent, validateHeaderValue } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import got, { RequestError, type Got, type Method } from 'got';
import type { Credentials } from '../config/credentials.js';
import { ConfigError, InterruptedError, TransientError } from '../errors.js';
import type { Logger } from '../log.js';
import {
  API_ROOT,
  classifyAnswer,
  failedRequestError,
  isAbsent,
  mayHaveApplied,
  redirectError,
  serviceText,
} from './answer.js';
import { BatchTooLargeError, SelligentUnavailableError, type HttpExchange } from './http-error.js';
import { emptyClientStats, type ClientStats } from './stats.js';
import { RequestPacer } from './pacer.js';
import { classify429, retryDecision, type RetryPolicy } from './retry.js';
import { parseJsonExact } from '../json-exact.js';
import type {
  FieldDefinition,
  LoadAnswer,
  LoadQuery,
  LoadResult,
  ListInfo,
  SegmentInfo,
  SegmentSummary,
} from './types.js';
import { roundSeconds } from '../rounding.js';

export type RouteName =
  | 'getOrganization'
  | 'getList'
  | 'createList'
  | 'getFields'
  | 'createFields'
  | 'listSegments'
  | 'getSegment'
  | 'createStaticSegment'
  | 'loadList'
  | 'loadSegment'
  | 'clearSegment'
  | 'countRecords'
  | 'searchList'
  | 'searchSegment'
  | 'setBusinessKey'
  | 'removeSegmentMembers';

export interface ClientOptions {
  retry: RetryPolicy;
  connectTimeoutMs: number;
  requestTimeoutMs: number;
  requestsPerMinute: number;
  /** A load that times out this many times in a row is reported as too large, so the caller can split it. */
  splitAfterTimeouts: number;
  logger: Logger;
  /** Aborts between requests (never in the middle of one). */
  signal?: AbortSignal;
  random?: () => number;
}

/** Routes that take the List's one bulk lock: a 429 on them that is not the quota means the List is busy. */
const BULK_ROUTES: ReadonlySet<RouteName> = new Set<RouteName>([
  'loadList',
  'loadSegment',
  'clearSegment',
  'removeSegmentMembers',
]);

/** Page size of the Segment listing: the service's documented default page, so a short page means the end. */
export const SEGMENT_PAGE_SIZE = 100;

/** The business key answers meaning "this tenant has no such endpoint": a warning, not a failure. */
const BUSINESS_KEY_UNSUPPORTED = [404, 405, 501];

interface SendOptions {
  query?: Record<string, string>;
  json?: unknown;
  body?: Buffer;
  /** Absence (404, or 400 with result_code NotFound) is an answer (the thing is missing), not an error. */
  absentIsAnswer?: boolean;
  /** Further statuses that are answers the caller handles, not errors. */
  accept?: number[];
  splittable?: boolean;
  /** Rows in a load body: a single row is never split for time-outs, it is retried like any request. */
  rows?: number;
  /** A mutating call: its answer's envelope is checked (`classifyAnswer`); `load` answers may fail per row. */
  envelope?: 'write' | 'load';
}

interface Answer {
  status: number;
  body: string;
  /** An earlier attempt got no usable answer and may have been applied. */
  uncertain: boolean;
  /** How long the service took to answer the attempt that counted (waits and retries before it left out). */
  attemptMs: number;
  /** The request that got this answer, for an error about its body. */
  request: { route: RouteName; method: Method; path: string; attempts: number };
}

/**
 * The exporter's Selligent V1 client: one method per endpoint it uses, every request paced against the
 * per-key budget, retried by `retryDecision`, bounded by time-outs, and counted in `stats`. Errors leave
 * here as the exporter's typed errors, trimmed to method, route, status and the service's own error text.
 */
export class SelligentClient {
  private readonly pacer: RequestPacer;
  private readonly agent: { http: HttpAgent; https: HttpsAgent };
  /** got with every option that is the same for all requests set once: less work per request. */
  private readonly got: Got;
  /** Requests, answers, retries and waits so far: the run report's HTTP figures. */
  readonly stats: ClientStats = emptyClientStats();

  constructor(
    private readonly credentials: Credentials,
    private readonly options: ClientOptions,
  ) {
    checkHeaderCredentials(credentials);
    this.pacer = new RequestPacer(options.requestsPerMinute);
    this.agent = {
      http: new HttpAgent({ keepAlive: true, maxSockets: 8 }),
      https: new HttpsAgent({ keepAlive: true, maxSockets: 8 }),
    };
    this.got = got.extend({
      headers: { 'X-ApiKey': `${credentials.apiKey}:${credentials.apiSecret}`, accept: 'application/json' },
      responseType: 'text',
      throwHttpErrors: false,
      followRedirect: false,
      retry: { limit: 0 },
      agent: this.agent,
      timeout: {
        connect: options.connectTimeoutMs,
        socket: options.requestTimeoutMs,
        request: options.requestTimeoutMs,
      },
    });
  }

  close(): void {
    this.agent.http.destroy();
    this.agent.https.destroy();
  }

  async getOrganization(org: string): Promise<Record<string, unknown> | undefined> {
    const answer = await this.send('getOrganization', 'GET', orgPath(org), { absentIsAnswer: true });
    return answer.status >= 400 ? undefined : (parseJson(answer) as Record<string, unknown>);
  }

  async getList(org: string, list: string): Promise<ListInfo | undefined> {
    const answer = await this.send('getList', 'GET', `${orgPath(org)}/lists/${enc(list)}`, { absentIsAnswer: true });
    return answer.status >= 400 ? undefined : (parseJson(answer) as ListInfo);
  }

  async createList(
    org: string,
    list: { api_name: string; name: string; type: string; description?: string },
  ): Promise<void> {
    await this.send('createList', 'POST', `${orgPath(org)}/lists`, { json: list, envelope: 'write' });
  }

  async getFields(org: string, list: string): Promise<FieldDefinition[]> {
    const answer = await this.send('getFields', 'GET', `${orgPath(org)}/lists/${enc(list)}/fields`);
    if (answer.status === 204 || answer.body.trim() === '') return [];
    const parsed = parseJson(answer) as { fields?: FieldDefinition[] };
    return parsed.fields ?? [];
  }

  async createFields(org: string, list: string, fields: FieldDefinition[]): Promise<void> {
    await this.send('createFields', 'POST', `${orgPath(org)}/lists/${enc(list)}/fields`, {
      json: { fields },
      envelope: 'write',
    });
  }

  /**
   * Defines the List's unique key over `fields`, in that order. Returns the status when the tenant has no
   * such endpoint (404, 405, 501: not rolled out there), so the caller can go on with a warning.
   */
  async setBusinessKey(org: string, list: string, fields: string[]): Promise<{ unsupported: number } | undefined> {
    const answer = await this.send('setBusinessKey', 'PUT', `${orgPath(org)}/lists/${enc(list)}/businesskey`, {
      json: { fields },
      envelope: 'write',
      accept: BUSINESS_KEY_UNSUPPORTED,
    });
    return answer.status >= 400 ? { unsupported: answer.status } : undefined;
  }

  /**
   * Every Segment of the List. The listing may be paged (`skip`/`take`, a default page when `take` is
   * absent, `segment_count` = the total), so `take` is always sent and pages are read until the count is
   * reached, or a page comes back short (or adds nothing) when the service gives no count.
   */
  async listSegments(org: string, list: string): Promise<SegmentSummary[]> {
    const found = new Map<string, SegmentSummary>();
    for (let skip = 0; ;) {
      const answer = await this.send('listSegments', 'GET', `${orgPath(org)}/lists/${enc(list)}/segments`, {
        query: { skip: String(skip), take: String(SEGMENT_PAGE_SIZE) },
      });
      if (answer.status === 204 || answer.body.trim() === '') break;
      const page = parseJson(answer) as { segments?: SegmentSummary[] | null; segment_count?: number };
      const segments = page.segments ?? [];
      const before = found.size;
      for (const segment of segments)
        if (!found.has(segment.api_name.toLowerCase())) found.set(segment.api_name.toLowerCase(), segment);
      skip += segments.length;
      const total = typeof page.segment_count === 'number' ? page.segment_count : undefined;
      if (segments.length === 0 || found.size === before) break;
      if (total !== undefined ? skip >= total : segments.length < SEGMENT_PAGE_SIZE) break;
    }
    return [...found.values()];
  }

  async getSegment(org: string, list: string, segment: string): Promise<SegmentInfo | undefined> {
    const answer = await this.send('getSegment', 'GET', `${orgPath(org)}/lists/${enc(list)}/segments/${enc(segment)}`, {
      absentIsAnswer: true,
    });
    return answer.status >= 400 ? undefined : (parseJson(answer) as SegmentInfo);
  }

  async createStaticSegment(
    org: string,
    list: string,
    segment: { api_name: string; name: string; description?: string },
  ): Promise<void> {
    await this.send('createStaticSegment', 'POST', `${orgPath(org)}/lists/${enc(list)}/segments/static`, {
      json: segment,
      envelope: 'write',
    });
  }

  async clearSegment(org: string, list: string, segment: string): Promise<void> {
    await this.send(
      'clearSegment',
      'DELETE',
      `${orgPath(org)}/lists/${enc(list)}/segments/${enc(segment)}/data/clear`,
      { envelope: 'write' },
    );
  }

  async countRecords(org: string, list: string): Promise<number> {
    const answer = await this.send('countRecords', 'GET', `${orgPath(org)}/lists/${enc(list)}/records`);
    return Number((parseJson(answer) as { count?: number }).count ?? 0);
  }

  async loadList(org: string, list: string, query: LoadQuery, body: Buffer, rows?: number): Promise<LoadAnswer> {
    const answer = await this.send('loadList', 'POST', `${orgPath(org)}/lists/${enc(list)}/data/load`, {
      query: loadQuery(query),
      body,
      splittable: true,
      rows,
      envelope: 'load',
    });
    return { result: parseJson(answer) as LoadResult, uncertain: answer.uncertain, attemptMs: answer.attemptMs };
  }

  async loadSegment(
    org: string,
    list: string,
    segment: string,
    query: LoadQuery,
    body: Buffer,
    rows?: number,
  ): Promise<LoadAnswer> {
    const path = `${orgPath(org)}/lists/${enc(list)}/segments/${enc(segment)}/data/load`;
    const answer = await this.send('loadSegment', 'POST', path, {
      query: loadQuery(query),
      body,
      splittable: true,
      rows,
      envelope: 'load',
    });
    return { result: parseJson(answer) as LoadResult, uncertain: answer.uncertain, attemptMs: answer.attemptMs };
  }

  private async send(route: RouteName, method: Method, path: string, options: SendOptions = {}): Promise<Answer> {
    const { retry, logger } = this.options;
    const http = this.stats;
    const started = performance.now();
    const url = `${this.credentials.baseUrl}${API_ROOT}${path}`;
    const where = `${method} ${API_ROOT}${path}`;
    let timeouts = 0;
    let uncertain = false;
    // "List busy" 429s have their own budget and do not use up the attempts of other failures.
    let busyAttempts = 0;
    let busySince = 0;
    for (let attempt = 1; ; attempt++) {
      this.throwIfAborted();
      await this.pace();
      this.pacer.record();
      http.requests++;
      http.by_route[route] = (http.by_route[route] ?? 0) + 1;

      let status: number | undefined;
      let errorCode: string | undefined;
      let headers: Record<string, string | string[] | undefined> | undefined;
      let body = '';
      const attemptStarted = performance.now();
      try {
        const response = await this.got(url, {
          method,
          searchParams: options.query,
          ...(options.body || options.json !== undefined ? { headers: { 'content-type': 'application/json' } } : {}),
          body: options.body ?? (options.json !== undefined ? JSON.stringify(options.json) : undefined),
        });
        status = response.statusCode;
        headers = response.headers;
        body = response.body;
      } catch (error) {
        if (!(error instanceof RequestError)) throw error;
        errorCode = error.code;
        timeouts = errorCode === 'ETIMEDOUT' ? timeouts + 1 : 0;
      }
      // A result code in a success status that stands for a failure, or null when the body is unreadable.
      let resultCode: string | null | undefined;
      let retryAs = status;
      if (status !== undefined) {
        // A server or proxy time-out on a large body is a client time-out that came back as a status.
        timeouts = status === 408 || status === 504 ? timeouts + 1 : 0;
        http.by_status[String(status)] = (http.by_status[String(status)] ?? 0) + 1;
        if (headers) this.pacer.observe(headers);
        if (status >= 300 && status < 400)
          throw redirectError(where, status, headers?.location, url, `${API_ROOT}${path}`, this.credentials.baseUrl);
        if (options.envelope && (status < 300 || (status === 400 && options.envelope === 'load'))) {
          const verdict = classifyAnswer(status, body, options.envelope === 'load');
          if (verdict.verdict === 'applied')
            return {
              status,
              body,
              uncertain,
              attemptMs: performance.now() - attemptStarted,
              request: { route, method, path, attempts: attempt },
            };
          if (verdict.verdict === 'refused')
            throw failedRequestError({
              route,
              method,
              path,
              status,
              errorCode,
              body,
              attempts: attempt,
              reason: 'not-retryable',
            });
          resultCode = verdict.resultCode;
          retryAs = verdict.asStatus;
        } else if (status < 400) {
          return {
            status,
            body,
            uncertain,
            attemptMs: performance.now() - attemptStarted,
            request: { route, method, path, attempts: attempt },
          };
        }
        if ((options.absentIsAnswer && isAbsent(status, body)) || options.accept?.includes(status))
          return {
            status,
            body,
            uncertain,
            attemptMs: performance.now() - attemptStarted,
            request: { route, method, path, attempts: attempt },
          };
        if (status === 429) http.rate_limited++;
        if (status === 413 && options.splittable) {
          throw new BatchTooLargeError(`${where}: the service refused the request body as too large (413)`, {
            http: exchange(route, method, path, status, errorCode, body, attempt),
          });
        }
      } else {
        http.by_status[errorCode ?? 'error'] = (http.by_status[errorCode ?? 'error'] ?? 0) + 1;
      }
      uncertain ||= mayHaveApplied(status, resultCode);
      if (options.splittable && (options.rows ?? 2) > 1 && timeouts >= this.options.splitAfterTimeouts) {
        throw new BatchTooLargeError(`${where}: timed out ${timeouts} times in a row`, {
          http: exchange(route, method, path, status, errorCode, body, attempt),
          mayHaveApplied: true,
        });
      }

      const busy = status === 429 && classify429(headers, body, BULK_ROUTES.has(route)) === 'list-busy';
      if (busy) {
        if (busyAttempts === 0) busySince = performance.now();
        busyAttempts++;
      }
      const decision = retryDecision(
        {
          attempt: attempt - busyAttempts + (busy ? 1 : 0),
          status: retryAs,
          errorCode,
          headers,
          elapsedMs: performance.now() - started,
          ...(busy ? { listBusy: { attempt: busyAttempts, elapsedMs: performance.now() - busySince } } : {}),
        },
        retry,
        (this.options.random ?? Math.random)(),
      );
      if (!decision.retry) {
        const listBusy =
          busy && decision.reason === 'list-busy-budget-exhausted'
            ? { attempts: busyAttempts, seconds: roundSeconds((performance.now() - busySince) / 1000) }
            : undefined;
        throw failedRequestError({
          route,
          method,
          path,
          status,
          errorCode,
          resultCode,
          body,
          attempts: attempt,
          reason: decision.reason,
          ...(listBusy ? { listBusy } : {}),
        });
      }
      http.retries++;
      if (busy) {
        http.list_busy_waits++;
        http.list_busy_wait_seconds = roundSeconds(http.list_busy_wait_seconds + decision.delayMs / 1000);
        logger.warn(
          {
            route,
            status,
            busyAttempt: busyAttempts,
            waitSeconds: roundSeconds(decision.delayMs / 1000),
            busyBudgetSeconds: roundSeconds((retry.listBusy?.budgetMs ?? 0) / 1000),
          },
          `${where} answered 429 with requests left in the quota: another process holds this List's bulk lock; waiting ${roundSeconds(decision.delayMs / 1000)} s (busy for ${roundSeconds((performance.now() - busySince) / 1000)} s so far)`,
        );
        await this.wait(decision.delayMs);
        continue;
      }
      if (status === 429) {
        http.rate_limit_waits++;
        http.rate_limit_wait_seconds = roundSeconds(http.rate_limit_wait_seconds + decision.delayMs / 1000);
      }
      logger.warn(
        {
          route,
          status: status ?? errorCode,
          resultCode,
          attempt,
          maxAttempts: retry.maxAttempts,
          waitSeconds: roundSeconds(decision.delayMs / 1000),
        },
        `${where} answered ${status ?? errorCode}${resultCode !== undefined ? ` ${resultCode ?? 'without a valid result_code'}` : ''}: retry ${attempt} of ${retry.maxAttempts - 1} in ${roundSeconds(decision.delayMs / 1000)} s`,
      );
      await this.wait(decision.delayMs);
    }
  }

  private async pace(): Promise<void> {
    const delay = this.pacer.delayMs();
    if (delay <= 0) return;
    this.stats.pacing_wait_seconds = roundSeconds(this.stats.pacing_wait_seconds + delay / 1000);
    if (delay > 1000)
      this.options.logger.info(
        { waitSeconds: roundSeconds(delay / 1000), budgetPerMinute: this.pacer.budget },
        'pacing requests to stay within the per-key request budget',
      );
    await this.wait(delay);
  }

  private async wait(ms: number): Promise<void> {
    try {
      await sleep(ms, undefined, { signal: this.options.signal });
    } catch {
      this.throwIfAborted();
    }
  }

  private throwIfAborted(): void {
    if (this.options.signal?.aborted) throw new InterruptedError(this.options.signal.reason);
  }

  /**
   * One page of a static Segment's members: the key fields only, in a stable order. The service does not
   * publish its default or largest page, so `take` is always sent. Long values keep their exact digits.
   */
  async searchSegmentMembers(
    org: string,
    list: string,
    segment: string,
    keyFields: string[],
    page: SearchPage,
  ): Promise<SearchAnswer> {
    const path = `${orgPath(org)}/lists/${enc(list)}/segments/${enc(segment)}/data/search`;
    const json = {
      fields: keyFields,
      skip: page.skip,
      take: page.take,
      order_by: page.orderBy ?? keyFields[0],
      order_by_direction: 'ASC',
    };
    const answer = await this.send('searchSegment', 'POST', path, { json, envelope: 'write' });
    return searchAnswer(answer.body, keyFields);
  }

  /**
   * Every member of a static Segment, a page at a time: pages of `take` rows (1,000 by default), `skip`
   * moved on by the rows received, until a page comes back shorter than `take`.
   */
  async *segmentMemberPages(
    org: string,
    list: string,
    segment: string,
    keyFields: string[],
    options: { take?: number; orderBy?: string } = {},
  ): AsyncGenerator<SearchValue[][]> {
    const take = options.take ?? MEMBER_PAGE_SIZE;
    for (let skip = 0; ;) {
      const page = await this.searchSegmentMembers(org, list, segment, keyFields, {
        skip,
        take,
        orderBy: options.orderBy,
      });
      if (page.rows.length > 0) yield page.rows;
      if (page.rows.length < take) return;
      skip += page.rows.length;
    }
  }

  /**
   * Removes the members named by key rows from a static Segment (`DELETE .../segments/{segment}/data`); the
   * List records stay. A bulk operation like a load: it waits for the List's bulk lock, is retried, split
   * and checked like one (a 200 answering Failed is no success), and answers the load model.
   */
  async removeSegmentMembers(
    org: string,
    list: string,
    segment: string,
    query: RemoveQuery,
    body: Buffer,
    rows?: number,
  ): Promise<LoadAnswer> {
    const path = `${orgPath(org)}/lists/${enc(list)}/segments/${enc(segment)}/data`;
    const params = { keyFields: query.keyFields.join(','), fields: query.fields.join(','), mode: query.mode };
    const answer = await this.send('removeSegmentMembers', 'DELETE', path, {
      query: params,
      body,
      splittable: true,
      rows,
      envelope: 'load',
    });
    return { result: parseJson(answer) as LoadResult, uncertain: answer.uncertain, attemptMs: answer.attemptMs };
  }
}

/** Node refuses such a header value; got would report it as a network error on every attempt. */
function checkHeaderCredentials(credentials: Credentials): void {
  for (const [name, value] of [
    ['SELLIGENT_API_KEY', credentials.apiKey],
    ['SELLIGENT_API_SECRET', credentials.apiSecret],
  ] as const) {
    try {
      validateHeaderValue('X-ApiKey', value);
    } catch {
      // The character itself is part of a secret: only its kind and position are named.
      const at = [...value].findIndex((char) => /[^\t\x20-\x7e\x80-\xff]/.test(char));
      const char = [...value][at] ?? '';
      const kind = /[\r\n]/.test(char)
        ? 'a line break'
        : char.charCodeAt(0) < 0x20 || char === '\x7f'
          ? 'a control character'
          : 'a character outside Latin-1';
      throw new ConfigError(
        'CREDENTIALS_INVALID',
        `${name} contains ${kind} (character ${at + 1}), which cannot be sent in the X-ApiKey header; copy the value again without it`,
        { stage: 'settings', details: { variable: name, position: at + 1 } },
      );
    }
  }
}

/** The request as it ended, for an error that carries it. */
function exchange(
  route: RouteName,
  method: string,
  path: string,
  status: number | undefined,
  errorCode: string | undefined,
  body: string,
  attempts: number,
): HttpExchange {
  return {
    route,
    method,
    path,
    status: status ?? null,
    errorCode: errorCode ?? null,
    attempts,
    body: serviceText(body),
  };
}

function orgPath(org: string): string {
  return `/organizations/${enc(org)}`;
}

/** Names never reach a URL unencoded: a slash or ".." in a name stays inside its path segment. */
function enc(name: string): string {
  return encodeURIComponent(name).replace(/\./g, '%2E');
}

function loadQuery(query: LoadQuery): Record<string, string> {
  const params: Record<string, string> = {
    keyFields: query.keyFields.join(','),
    fields: query.fields.join(','),
    mode: query.mode,
    deduplication: query.deduplication,
  };
  // The service's own default is kept unless the user asked to stop on the first invalid row.
  if (query.errorHandling === 'StopOnError') params.errorHandling = query.errorHandling;
  if (query.dataImportOption) params.data_import_option = query.dataImportOption;
  return params;
}

function parseJson(answer: Answer): unknown {
  try {
    return JSON.parse(answer.body);
  } catch {
    const { route, method, path, attempts } = answer.request;
    const http = exchange(route, method, path, answer.status, undefined, answer.body, attempts);
    throw new SelligentUnavailableError(
      'SELLIGENT_BAD_RESPONSE',
      `${route}: the service answered with a body that is not JSON: ${JSON.stringify(answer.body.slice(0, 200))}`,
      { http },
    );
  }
}

/** The search's page size: the largest page the project relies on (section 7 of the API contract). */
export const MEMBER_PAGE_SIZE = 1_000;

/** A value in a search answer; a Long past 2^53 comes as a bigint, with its exact digits. */
export type SearchValue = string | number | bigint | boolean | null;

export interface SearchPage {
  skip: number;
  take: number;
  /** A field whose order is stable between pages (unique, like the record id ID); default the first key field. */
  orderBy?: string;
}

export interface SearchAnswer {
  fields: string[];
  /** Rows in the order of the fields asked for, whatever order the answer named them in. */
  rows: SearchValue[][];
}

export interface RemoveQuery {
  keyFields: string[];
  fields: string[];
  mode: string;
}

/** A search answer's rows, reordered to `asked` when the service named its fields in another order. */
function searchAnswer(body: string, asked: string[]): SearchAnswer {
  if (body.trim() === '') return { fields: asked, rows: [] };
  let parsed: { fields?: unknown; data?: unknown };
  try {
    parsed = parseJsonExact(body) as { fields?: unknown; data?: unknown };
  } catch {
    throw new TransientError(
      'SELLIGENT_BAD_RESPONSE',
      `searchSegment: the service answered with a body that is not JSON: ${JSON.stringify(body.slice(0, 200))}`,
      {},
    );
  }
  const data = parsed?.data ?? [];
  if (!Array.isArray(data))
    throw new TransientError('SELLIGENT_BAD_RESPONSE', 'searchSegment: the answer has no data array', {});
  const named = Array.isArray(parsed.fields)
    ? parsed.fields.map((field) => String(field).toUpperCase())
    : asked.map((field) => field.toUpperCase());
  const order = asked.map((field) => named.indexOf(field.toUpperCase()));
  const missing = asked.filter((_, i) => order[i] === -1);
  if (missing.length > 0)
    throw new TransientError(
      'SELLIGENT_BAD_RESPONSE',
      `searchSegment: the answer lacks the field(s) ${missing.join(', ')}`,
      {},
    );
  const rows = (data as unknown[]).map((row) => {
    if (!Array.isArray(row))
      throw new TransientError('SELLIGENT_BAD_RESPONSE', 'searchSegment: a data row is not an array', {});
    return order.map((at) => row[at] as SearchValue);
  });
  return { fields: asked, rows };
}
