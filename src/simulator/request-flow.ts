/**
 * The path of one request through the simulator.
 *
 * API request: parse path -> 404/405 -> fault rules -> auth (401) -> rate limit (429) -> handler
 * (404/400/bulk lock 429/413/...) -> latency and fault delay -> answer (or drop the connection).
 * A `/__simulator/*` request goes to the control routes when they are enabled.
 */

import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { controlReply, type ControlTarget } from './control-routes.js';
import { describeFault, faultReply, listBusyReply, transientInBody, unauthorized } from './fault-replies.js';
import type { FaultController } from './faults.js';
import * as h from './handlers.js';
import {
  failure,
  isJsonContentType,
  notFound,
  ReplyError,
  readBody,
  validationFailed,
  type Reply,
} from './http-util.js';
import { stringifyExact } from '../json-exact.js';
import type { RuntimeSettings } from './options.js';
import { quotaMessage, rateLimitHeaders, type RateLimiter } from './rate-limit.js';
import { matchPath, parseQuery, type ParsedQuery, type RouteMatch } from './router.js';
import type { ListState, Store } from './state.js';
import type { CredentialOptions, RequestLogEntry, RouteName } from './types.js';

/** Routes that take the List's bulk lock. */
const BULK_ROUTES: ReadonlySet<RouteName> = new Set(['loadList', 'loadSegment', 'clearSegment', 'deleteSegmentData']);
/** Routes that answer the LoadDataResponseModel (variants V1 and V2 shape them). */
const LOAD_ROUTES: ReadonlySet<RouteName> = new Set(['loadList', 'loadSegment', 'deleteSegmentData']);

/** What the request flow reads and acts on; the lifecycle owns it. */
export interface FlowHost {
  readonly store: Store;
  readonly faults: FaultController;
  readonly settings: RuntimeSettings;
  readonly credentials: readonly CredentialOptions[];
  readonly limiter: RateLimiter | undefined;
  /** 'all', 'read-only' (the GET views) or 'off'. */
  readonly controlRoutes: 'all' | 'read-only' | 'off';
  readonly control: ControlTarget;
  /** A cancellable wait: it ends early when the simulator closes. */
  sleep(ms: number): Promise<void>;
  /** Called once per API request when its answer is done (or the connection closed). */
  record(entry: RequestLogEntry): void;
}

interface RequestContext {
  started: number;
  startedAt: string;
  method: string;
  path: string;
  query: ParsedQuery;
  route: RouteName | '__simulator' | null;
  requestBytes: number;
  responseBytes: number;
  status: number;
  fault?: string;
  logged: boolean;
  /** Data rows of a load body, for the per-row latency. */
  rows: number;
}

const NO_RESOURCE = 'No HTTP resource was found that matches the request URI';

/** Answers one request; never rejects (an unexpected error becomes a 500). */
export function handleRequest(host: FlowHost, req: IncomingMessage, res: ServerResponse): void {
  flow(host, req, res).catch((e: unknown) => internalError(res, e));
}

async function flow(host: FlowHost, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const ctx: RequestContext = {
    started: performance.now(),
    startedAt: new Date().toISOString(),
    method: req.method ?? 'GET',
    path: q >= 0 ? url.slice(0, q) : url,
    query: parseQuery(q >= 0 ? url.slice(q + 1) : ''),
    route: null,
    requestBytes: 0,
    responseBytes: 0,
    status: 0,
    logged: false,
    rows: 0,
  };
  res.on('close', () => record(host, ctx, res));

  const m = matchPath(ctx.method, ctx.path);
  if (m.kind === 'badEncoding')
    return send(res, ctx, validationFailed('The request path is not correctly URL-encoded'));
  if (m.kind === 'control') {
    ctx.route = '__simulator';
    if (host.controlRoutes === 'off') return send(res, ctx, notFound(NO_RESOURCE));
    const body = () => readControlBody(req, ctx, host.settings.maxBodyBytes);
    const reply = await controlReply(
      host.control,
      { method: ctx.method, path: m.parts.join('/'), query: ctx.query, body },
      host.controlRoutes === 'read-only',
    );
    return send(res, ctx, reply);
  }
  if (m.kind === 'unknown') return send(res, ctx, notFound(NO_RESOURCE));
  if (m.route === null) {
    const reply = failure(405, 'Failed', `The requested resource does not support http method '${ctx.method}'.`);
    reply.headers = { Allow: m.allow.join(', ') };
    return send(res, ctx, reply);
  }
  const route = m.route;
  ctx.route = route;
  const settings = host.settings;

  // Faults come first: they stand for the network, proxies and an overloaded service.
  const fault = host.faults.match(route);
  if (fault) ctx.fault = describeFault(fault);
  if (fault && fault.status !== undefined) {
    await host.sleep(fault.delayMs ?? 0);
    let faulted = faultReply({ ...fault, status: fault.status }, settings.rateLimit);
    if (LOAD_ROUTES.has(route) && settings.variants.loadTransientInBody) faulted = transientInBody(fault, faulted);
    return send(res, ctx, faulted, fault.dropConnection);
  }

  // The status route needs no credentials and no endpoint right.
  if (route === 'status') {
    await host.sleep(settings.latencyMs + (fault?.delayMs ?? 0));
    return send(
      res,
      ctx,
      { status: 200, json: { result_code: 'Succeeded', message: 'The API is available' } },
      fault?.dropConnection,
    );
  }

  const cred = authenticate(host.credentials, req, route, m.org);
  if (!cred) return send(res, ctx, unauthorized());

  // Rate limit per API key.
  let rlHeaders: Record<string, string> | undefined;
  if (host.limiter && settings.rateLimit) {
    const d = host.limiter.take(cred.key);
    rlHeaders = rateLimitHeaders(d);
    if (!d.allowed)
      return send(res, ctx, { status: 429, text: quotaMessage(d.limit, d.windowSeconds), headers: rlHeaders });
  }

  // The latency model: a fixed part (plus jitter) per request and a part per row of a load body. Work past
  // serverTimeoutMs answers 408 once that much time has passed, with nothing applied.
  const timeoutMs = settings.variants.serverTimeoutMs;
  const baseMs = settings.latencyMs + (settings.latencyJitterMs > 0 ? Math.random() * settings.latencyJitterMs : 0);
  if (timeoutMs !== null && baseMs > timeoutMs) {
    await host.sleep(timeoutMs);
    return send(res, ctx, faultReply({ status: 408 }, settings.rateLimit));
  }
  const onRows = (rows: number): void => {
    ctx.rows = rows;
    if (timeoutMs !== null && baseMs + rows * settings.latencyPerRowMs > timeoutMs) {
      throw new ReplyError({ ...faultReply({ status: 408 }, settings.rateLimit), waitMs: timeoutMs });
    }
  };

  let release: (() => void) | undefined;
  const lock = (list: ListState): void => {
    if (list.busy) throw new ReplyError(listBusyReply(list, settings.variants.listBusy429, settings.rateLimit));
    list.busy = true;
    release = () => {
      list.busy = false;
    };
  };
  let reply: Reply;
  try {
    reply = await dispatch(host, { ...m, route }, req, ctx, onRows, lock);
  } catch (e) {
    if (!(e instanceof ReplyError)) {
      release?.();
      throw e;
    }
    reply = e.reply;
    if (BULK_ROUTES.has(route) && reply.status !== 429) h.asLoadReply(reply);
  }
  if (LOAD_ROUTES.has(route)) shapeLoadReply(reply, settings);
  if (rlHeaders && !reply.noRateHeaders) reply.headers = { ...rlHeaders, ...reply.headers };
  const wait = reply.waitMs ?? baseMs + ctx.rows * settings.latencyPerRowMs + (fault?.delayMs ?? 0);
  try {
    await host.sleep(wait);
    send(res, ctx, reply, fault?.dropConnection);
  } finally {
    release?.();
  }
}

function authenticate(
  credentials: readonly CredentialOptions[],
  req: IncomingMessage,
  route: RouteName,
  org: string,
): CredentialOptions | undefined {
  const raw = req.headers['x-apikey'];
  const header = Array.isArray(raw) ? raw[0] : raw;
  if (!header) return undefined;
  const i = header.indexOf(':');
  if (i <= 0) return undefined;
  const key = header.slice(0, i);
  const secret = header.slice(i + 1);
  const cred = credentials.find((c) => c.key === key && c.secret === secret);
  if (!cred) return undefined;
  if (cred.permissions && !cred.permissions.includes(route)) return undefined;
  if (cred.organizations && !cred.organizations.some((o) => o.toLowerCase() === org.toLowerCase())) return undefined;
  return cred;
}

async function readJsonBody(req: IncomingMessage, ctx: RequestContext, maxBodyBytes: number): Promise<unknown> {
  const raw = await readRawJsonBody(req, ctx, maxBodyBytes);
  if (raw.length === 0) throw new ReplyError(validationFailed('The request body is empty'));
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw new ReplyError(validationFailed(`The request body is not valid JSON: ${(e as Error).message}`));
  }
}

/** A load body is parsed by the handler (exact digits for Long values). */
async function readRawJsonBody(req: IncomingMessage, ctx: RequestContext, maxBodyBytes: number): Promise<Buffer> {
  const r = await readBody(req, maxBodyBytes);
  ctx.requestBytes = r.bytes;
  if (r.kind === 'tooLarge') {
    throw new ReplyError({
      status: 413,
      text: `Request body too large: the limit is ${maxBodyBytes} bytes`,
      close: true,
    });
  }
  if (r.kind === 'aborted') throw new ReplyError({ status: 400, text: 'The request was aborted', close: true });
  if (!isJsonContentType(req.headers['content-type'])) {
    throw new ReplyError(validationFailed('The request body must be sent with Content-Type: application/json'));
  }
  return r.body;
}

async function readControlBody(req: IncomingMessage, ctx: RequestContext, maxBodyBytes: number): Promise<unknown> {
  const r = await readBody(req, maxBodyBytes);
  ctx.requestBytes = r.bytes;
  if (r.kind !== 'ok')
    throw new ReplyError({ status: r.kind === 'tooLarge' ? 413 : 400, text: 'bad body', close: true });
  if (r.body.length === 0) return undefined;
  try {
    return JSON.parse(r.body.toString('utf8'));
  } catch {
    throw new ReplyError({ status: 400, json: { error: 'the body is not valid JSON' } });
  }
}

async function dispatch(
  host: FlowHost,
  m: RouteMatch & { route: RouteName },
  req: IncomingMessage,
  ctx: RequestContext,
  onRows: (rows: number) => void,
  lock: (list: ListState) => void,
): Promise<Reply> {
  const route = m.route;
  const v = host.settings.variants;
  const maxBody = host.settings.maxBodyBytes;
  const json = () => readJsonBody(req, ctx, maxBody);
  const raw = () => readRawJsonBody(req, ctx, maxBody);
  if (route === 'getOrganization' && v.organizationGet === 401) {
    // The service account has rights on lists and data only (variant V12).
    return unauthorized();
  }
  if (route === 'setBusinessKey' && (v.businessKey === 404 || v.businessKey === 405)) {
    // The endpoint is not rolled out on this tenant (variant V5).
    if (v.businessKey === 404) return notFound(NO_RESOURCE);
    return failure(405, 'Failed', "The requested resource does not support http method 'PUT'.");
  }
  const missing = v.notFoundStatus;
  const org = h.requireOrg(host.store, m.org, missing);
  if (route === 'getOrganization') return h.getOrganization(org);
  if (route === 'createList') return h.createList(host.store, org, await json());
  if (m.list === undefined) throw new Error(`route ${route} matched without a list`);
  const list = h.requireList(org, m.list, missing);
  const settings: h.HandlerSettings = {
    segmentSemantics: host.settings.segmentSemantics,
    keyIndexGuard: v.keyIndexGuard,
    acceptStrings: v.stringValues === 'accept',
    onRows,
  };
  switch (route) {
    case 'getList':
      return h.getList(list);
    case 'getFields':
      return h.getFields(list);
    case 'createFields':
      return h.createFields(list, await json());
    case 'listSegments':
      return h.listSegments(list, ctx.query, v.segmentsPageSize, v.staticSegmentType);
    case 'countRecords':
      return h.countRecords(list);
    case 'setBusinessKey':
      return h.setBusinessKey(list, await json(), v.businessKey === 'max3' ? h.MAX_BUSINESS_KEY_FIELDS : Infinity);
    case 'createStaticSegment':
      return h.createStaticSegment(list, await json());
    case 'searchList':
      return h.handleSearch(list, undefined, await json());
    case 'loadList':
      h.parseLoadOptions(ctx.query, false);
      lock(list);
      return h.handleLoadList(list, ctx.query, await raw(), settings);
    default:
      break; // a Segment's route: below
  }
  if (m.segment === undefined) throw new Error(`route ${route} matched without a segment`);
  const seg = h.requireSegment(list, m.segment, missing);
  switch (route) {
    case 'getSegment':
      return h.getSegment(seg, v.staticSegmentType);
    case 'searchSegment':
      return h.handleSearch(list, seg, await json());
    case 'clearSegment':
      h.requireStatic(seg);
      lock(list);
      return h.clearSegment(seg);
    case 'loadSegment':
      h.requireStatic(seg);
      h.parseLoadOptions(ctx.query, true);
      lock(list);
      return h.handleLoadSegment(list, seg, ctx.query, await raw(), settings);
    case 'deleteSegmentData':
      h.requireStatic(seg);
      h.parseLoadOptions(ctx.query, true);
      lock(list);
      return h.handleDeleteSegmentData(list, seg, ctx.query, await raw(), settings);
    default:
      throw new Error(`unhandled route ${route}`);
  }
}

/** Variants V1 (request-level failures in a 200) and V2 (failed rows counted, not listed). */
function shapeLoadReply(reply: Reply, settings: RuntimeSettings): void {
  const v = settings.variants;
  const json = reply.json as Record<string, unknown> | undefined;
  if (!json || typeof json !== 'object' || Array.isArray(json) || typeof json.result_code !== 'string') return;
  if (v.loadFailureStatus === 200 && (reply.status === 400 || reply.status === 404)) reply.status = 200;
  if (v.failedRowDetail === 'count-only' && 'invalid_records' in json) json.invalid_records = null;
}

// ----------------------------------------------------------------------------------------- answer

function send(res: ServerResponse, ctx: RequestContext, reply: Reply, drop = false): void {
  if (res.headersSent || res.destroyed || res.socket?.destroyed) return;
  let body: Buffer | undefined;
  const headers: Record<string, string> = {};
  if (reply.status !== 204) {
    if (reply.json !== undefined) {
      body = Buffer.from(stringifyExact(reply.json));
      headers['Content-Type'] = 'application/json; charset=utf-8';
    } else if (reply.text !== undefined) {
      body = Buffer.from(reply.text);
      headers['Content-Type'] = 'text/plain; charset=utf-8';
    } else {
      body = Buffer.alloc(0);
    }
  }
  if (reply.headers) {
    for (const [k, v] of Object.entries(reply.headers)) {
      for (const existing of Object.keys(headers))
        if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
      headers[k] = v;
    }
  }
  if (body) headers['Content-Length'] = String(body.length);
  if (reply.close) headers['Connection'] = 'close';
  ctx.status = reply.status;
  res.writeHead(reply.status, headers);
  if (drop) {
    const socket = res.socket;
    const part = body ? body.subarray(0, Math.floor(body.length / 2)) : Buffer.alloc(0);
    ctx.responseBytes = part.length;
    res.write(part, () => socket?.destroy());
    if (part.length === 0) res.flushHeaders();
    return;
  }
  ctx.responseBytes = body ? body.length : 0;
  res.end(body);
  if (reply.close) {
    // Stop reading an oversized or aborted body: close once the answer is out.
    res.once('finish', () => setImmediate(() => res.socket?.destroy()));
  }
}

function internalError(res: ServerResponse, e: unknown): void {
  if (!res.headersSent && !res.destroyed) {
    const body = JSON.stringify({
      result_code: 'InternalServerError',
      message: `Simulator error: ${e instanceof Error ? e.message : String(e)}`,
    });
    res.writeHead(500, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': String(Buffer.byteLength(body)),
    });
    res.end(body);
  } else {
    res.destroy();
  }
}

function record(host: FlowHost, ctx: RequestContext, res: ServerResponse): void {
  // Control routes are not part of the API traffic and are not logged.
  if (ctx.logged || ctx.route === '__simulator') return;
  ctx.logged = true;
  const entry: RequestLogEntry = {
    method: ctx.method,
    path: ctx.path,
    query: ctx.query.raw,
    status: ctx.status || res.statusCode,
    durationMs: Math.round((performance.now() - ctx.started) * 1000) / 1000,
    requestBytes: ctx.requestBytes,
    responseBytes: ctx.responseBytes,
    startedAt: ctx.startedAt,
    route: ctx.route,
  };
  if (ctx.fault) entry.fault = ctx.fault;
  host.record(entry);
}
