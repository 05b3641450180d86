/**
 * The simulator's HTTP server: request flow, auth, rate limit, per-list bulk lock, faults, latency, request
 * log and the optional /__simulator/ control routes.
 *
 * Flow of an API request: parse path -> 404/405 -> fault rules -> auth (401) -> rate limit (429) ->
 * handler (404/400/bulk lock 429/413/...) -> latency and fault delay -> answer (or drop the connection).
 */

import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import { FaultController, FaultValidationError, normalizeRule } from './faults.js';
import * as h from './handlers.js';
import { failure, isJsonContentType, notFound, ReplyError, readBody, validationFailed, type Reply } from './http-util.js';
import { loadStateFile, saveStateFile, snapshot } from './persist.js';
import { quotaMessage, RateLimiter, rateLimitHeaders } from './rate-limit.js';
import { matchPath, parseQuery, type ParsedQuery, type RouteMatch } from './router.js';
import { SeedError, Store, type ListState } from './state.js';
import type {
  ConfigurablePatch,
  CredentialOptions,
  FaultRule,
  RateLimitOptions,
  RequestLogEntry,
  SeedState,
  SegmentSemantics,
  SimulatorHandle,
  SimulatorOptions,
  Watermarks,
} from './types.js';
import { stringifyExact } from './json-exact.js';
import { checkVariants, DEFAULT_VARIANTS, type Variants } from './variants.js';

export const DEV_API_KEY = 'simulator-key';
export const DEV_API_SECRET = 'simulator-secret';
export const DEFAULT_ORGANIZATION = 'my_org';
export const DEFAULT_MAX_BODY_BYTES = 32 * 1024 * 1024;
export const DEFAULT_RATE_LIMIT: RateLimitOptions = { limit: 2500, windowMs: 60_000 };
export const DEFAULT_REQUEST_LOG_SIZE = 100_000;

const BULK_ROUTES = new Set(['loadList', 'loadSegment', 'clearSegment', 'deleteSegmentData']);
/** Routes that answer the LoadDataResponseModel (variants V1 and V2 shape them). */
const LOAD_ROUTES = new Set(['loadList', 'loadSegment', 'deleteSegmentData']);

/** Bounded ring of request log entries. */
class Ring<T> {
  private items: T[] = [];
  private next = 0;
  constructor(private readonly capacity: number) {}
  push(item: T): void {
    if (this.items.length < this.capacity) this.items.push(item);
    else {
      this.items[this.next] = item;
      this.next = (this.next + 1) % this.capacity;
    }
  }
  toArray(): T[] {
    return this.next === 0 ? this.items.slice() : [...this.items.slice(this.next), ...this.items.slice(0, this.next)];
  }
  clear(): void {
    this.items = [];
    this.next = 0;
  }
}

interface RequestContext {
  started: number;
  startedAt: string;
  method: string;
  path: string;
  query: ParsedQuery;
  route: string | null;
  requestBytes: number;
  responseBytes: number;
  status: number;
  fault?: string;
  logged: boolean;
  /** Data rows of a load body, for the per-row latency. */
  rows: number;
}

interface Settings {
  rateLimit: RateLimitOptions | false;
  segmentSemantics: SegmentSemantics;
  maxBodyBytes: number;
  latencyMs: number;
  latencyJitterMs: number;
  latencyPerRowMs: number;
  variants: Variants;
}

function positiveInt(v: unknown, name: string, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < (allowZero ? 0 : 1)) throw new Error(`${name} must be ${allowZero ? 'a non-negative' : 'a positive'} integer`);
  return v;
}

function checkPatch(patch: ConfigurablePatch): void {
  const known = new Set(['rateLimit', 'segmentSemantics', 'requireBusinessKey', 'maxBodyBytes', 'latencyMs', 'latencyJitterMs', 'latencyPerRowMs', 'variants']);
  for (const k of Object.keys(patch)) if (!known.has(k)) throw new Error(`unknown setting ${k}`);
  if (patch.rateLimit !== undefined && patch.rateLimit !== false) {
    const r = patch.rateLimit as RateLimitOptions;
    if (!r || typeof r !== 'object') throw new Error('rateLimit must be {limit, windowMs} or false');
    positiveInt(r.limit, 'rateLimit.limit');
    positiveInt(r.windowMs, 'rateLimit.windowMs');
  }
  if (patch.segmentSemantics !== undefined && patch.segmentSemantics !== 'match' && patch.segmentSemantics !== 'upsert') {
    throw new Error("segmentSemantics must be 'match' or 'upsert'");
  }
  if (patch.requireBusinessKey !== undefined && typeof patch.requireBusinessKey !== 'boolean') throw new Error('requireBusinessKey must be a boolean');
  if (patch.maxBodyBytes !== undefined) positiveInt(patch.maxBodyBytes, 'maxBodyBytes');
  if (patch.latencyMs !== undefined) positiveInt(patch.latencyMs, 'latencyMs', true);
  if (patch.latencyJitterMs !== undefined) positiveInt(patch.latencyJitterMs, 'latencyJitterMs', true);
  if (patch.latencyPerRowMs !== undefined && (typeof patch.latencyPerRowMs !== 'number' || !Number.isFinite(patch.latencyPerRowMs) || patch.latencyPerRowMs < 0)) {
    throw new Error('latencyPerRowMs must be a non-negative number');
  }
  if (patch.variants !== undefined) checkVariants(patch.variants);
}

export class SimulatorServer implements SimulatorHandle {
  readonly store = new Store();
  readonly faults = new FaultController();
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly log: Ring<RequestLogEntry>;
  private readonly settings: Settings;
  private limiter: RateLimiter | undefined;
  private readonly organizations: string[];
  private readonly credentials: CredentialOptions[];
  private readonly seedState: SeedState | undefined;
  private readonly statePath: string | undefined;
  private readonly controlRoutes: boolean;
  private readonly logRequests: boolean;
  private closed = false;
  private _port = 0;
  private host: string;

  constructor(private readonly options: SimulatorOptions = {}) {
    this.host = options.host ?? '127.0.0.1';
    this.organizations = options.organizations?.length ? options.organizations.slice() : [DEFAULT_ORGANIZATION];
    this.credentials = options.credentials?.length ? options.credentials.map((c) => ({ ...c })) : [{ key: DEV_API_KEY, secret: DEV_API_SECRET }];
    for (const c of this.credentials) {
      if (!c.key || c.key.includes(':') || typeof c.secret !== 'string') throw new Error('each credential needs a key (without ":") and a secret');
    }
    const patch: ConfigurablePatch = {
      rateLimit: options.rateLimit,
      segmentSemantics: options.segmentSemantics,
      requireBusinessKey: options.requireBusinessKey,
      maxBodyBytes: options.maxBodyBytes,
      latencyMs: options.latencyMs,
      latencyJitterMs: options.latencyJitterMs,
      latencyPerRowMs: options.latencyPerRowMs,
      variants: options.variants,
    };
    for (const k of Object.keys(patch) as Array<keyof ConfigurablePatch>) if (patch[k] === undefined) delete patch[k];
    checkPatch(patch);
    const variants: Variants = { ...DEFAULT_VARIANTS, ...checkVariants(options.variants ?? {}) };
    if (options.variants?.keyIndexGuard === undefined && options.requireBusinessKey) variants.keyIndexGuard = 'exact';
    this.settings = {
      rateLimit: options.rateLimit === undefined ? { ...DEFAULT_RATE_LIMIT } : options.rateLimit,
      segmentSemantics: options.segmentSemantics ?? 'match',
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      latencyMs: options.latencyMs ?? 0,
      latencyJitterMs: options.latencyJitterMs ?? 0,
      latencyPerRowMs: options.latencyPerRowMs ?? 0,
      variants,
    };
    this.limiter = this.newLimiter();
    this.seedState = options.seed;
    this.statePath = options.statePath;
    this.controlRoutes = options.enableControlRoutes ?? false;
    this.logRequests = options.logRequests ?? true;
    this.log = new Ring(options.requestLogSize ?? DEFAULT_REQUEST_LOG_SIZE);
    this.server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
      this.handle(req, res).catch((e) => this.internalError(res, e));
    });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    this.server.on('clientError', (_err, socket) => {
      if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
      else socket.destroy();
    });
  }

  async start(): Promise<void> {
    this.initialState();
    if (this.statePath) {
      const saved = await loadStateFile(this.statePath);
      if (saved) {
        this.store.clear();
        for (const o of this.organizations) this.store.ensureOrg(o);
        this.store.seed(saved, this.organizations[0]);
      }
    }
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port ?? 8080, this.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    this._port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  private initialState(): void {
    this.store.clear();
    for (const o of this.organizations) this.store.ensureOrg(o);
    if (this.seedState) this.store.seed(this.seedState, this.organizations[0]);
  }

  // ----------------------------------------------------------------------------------------- handle API

  get port(): number {
    return this._port;
  }

  get baseUrl(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `http://${host}:${this._port}`;
  }

  // Inspection views. A missing organization, list or segment gives an empty array (use hasList to tell).

  listRecords(org: string, list: string): Array<Record<string, unknown>> {
    const l = this.store.list(org, list);
    return l ? [...l.records.values()].map((v) => l.recordObject(v)) : [];
  }

  listFields(org: string, list: string): Array<{ name: string; data_type: string; length?: number }> {
    const l = this.store.list(org, list);
    if (!l) return [];
    return l.fields.map((f) => {
      const out: { name: string; data_type: string; length?: number; allow_null: boolean } = { name: f.name, data_type: f.dataType, allow_null: f.allowNull };
      if (f.length !== null) out.length = f.length;
      return out;
    });
  }

  segmentMembers(org: string, list: string, segment: string): Array<Record<string, unknown>> {
    const l = this.store.list(org, list);
    const s = l?.segment(segment);
    if (!l || !s) return [];
    return [...s.members]
      .sort((a, b) => a - b)
      .map((id) => l.records.get(id))
      .filter((v): v is unknown[] => v !== undefined)
      .map((v) => l.recordObject(v));
  }

  segments(org: string, list: string): Array<{ api_name: string; type: string }> {
    const l = this.store.list(org, list);
    return l ? [...l.segments.values()].map((s) => ({ api_name: s.apiName, type: s.type })) : [];
  }

  hasList(org: string, list: string): boolean {
    return this.store.list(org, list) !== undefined;
  }

  businessKey(org: string, list: string): string[] | undefined {
    const bk = this.store.list(org, list)?.businessKey;
    return bk ? bk.slice() : undefined;
  }

  seed(state: SeedState): void {
    this.store.seed(state, this.organizations[0]);
  }

  reset(): void {
    this.initialState();
    this.faults.clear();
    this.log.clear();
    this.limiter?.reset();
  }

  requestLog(): RequestLogEntry[] {
    return this.log.toArray();
  }

  clearRequestLog(): void {
    this.log.clear();
  }

  configure(patch: ConfigurablePatch): void {
    checkPatch(patch);
    if (patch.rateLimit !== undefined) {
      this.settings.rateLimit = patch.rateLimit === false ? false : { ...patch.rateLimit };
      this.limiter = this.newLimiter();
    }
    if (patch.segmentSemantics !== undefined) this.settings.segmentSemantics = patch.segmentSemantics;
    if (patch.requireBusinessKey !== undefined) this.settings.variants.keyIndexGuard = patch.requireBusinessKey ? 'exact' : 'none';
    if (patch.maxBodyBytes !== undefined) this.settings.maxBodyBytes = patch.maxBodyBytes;
    if (patch.latencyMs !== undefined) this.settings.latencyMs = patch.latencyMs;
    if (patch.latencyJitterMs !== undefined) this.settings.latencyJitterMs = patch.latencyJitterMs;
    if (patch.latencyPerRowMs !== undefined) this.settings.latencyPerRowMs = patch.latencyPerRowMs;
    if (patch.variants !== undefined) this.setVariants(patch.variants);
  }

  watermarks(org?: string): Watermarks {
    const o = this.store.org(org ?? this.organizations[0]);
    const out: Watermarks = {};
    for (const list of o?.lists.values() ?? []) {
      const segs: Watermarks[string] = {};
      for (const seg of list.segments.values()) segs[seg.apiName] = { min: Math.min(seg.lowWater, seg.members.size), current: seg.members.size };
      out[list.apiName] = segs;
    }
    return out;
  }

  resetWatermarks(): void {
    for (const o of this.store.organizations.values()) for (const l of o.lists.values()) for (const s of l.segments.values()) s.markWater();
  }

  variants(): Variants {
    return { ...this.settings.variants };
  }

  setVariants(patch: Partial<Variants>): Variants {
    const checked = checkVariants(patch);
    const windowChanged = checked.quotaWindow !== undefined && checked.quotaWindow !== this.settings.variants.quotaWindow;
    Object.assign(this.settings.variants, checked);
    if (windowChanged) this.limiter = this.newLimiter();
    return this.variants();
  }

  private newLimiter(): RateLimiter | undefined {
    return this.settings.rateLimit ? new RateLimiter(this.settings.rateLimit, this.settings.variants.quotaWindow) : undefined;
  }

  effectiveConfig(): Record<string, unknown> {
    return {
      ...this.settings,
      variants: this.variants(),
      requireBusinessKey: this.settings.variants.keyIndexGuard !== 'none',
      organizations: this.organizations,
      statePath: this.statePath ?? null,
      enableControlRoutes: this.controlRoutes,
      logRequests: this.logRequests,
    };
  }

  async save(): Promise<void> {
    if (!this.statePath) throw new Error('the simulator was started without statePath');
    await saveStateFile(this.store, this.statePath);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const [t, resolve] of this.timers) {
      clearTimeout(t);
      resolve();
    }
    this.timers.clear();
    const closing = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.server.closeAllConnections();
    for (const s of this.sockets) s.destroy();
    await closing;
    if (this.statePath) await this.save();
  }

  // ----------------------------------------------------------------------------------------- request flow

  private sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
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
    res.on('close', () => this.record(ctx, res));

    const m = matchPath(ctx.method, ctx.path);
    if (m.kind === 'badEncoding') return this.send(res, ctx, validationFailed('The request path is not correctly URL-encoded'));
    if (m.kind === 'control') {
      ctx.route = '__simulator';
      if (this.controlRoutes) return this.send(res, ctx, await this.control(m.parts, req, ctx));
      return this.send(res, ctx, notFound('No HTTP resource was found that matches the request URI'));
    }
    if (m.kind === 'unknown') return this.send(res, ctx, notFound('No HTTP resource was found that matches the request URI'));
    if (m.route === null) {
      const reply = failure(405, 'Failed', `The requested resource does not support http method '${ctx.method}'.`);
      reply.headers = { Allow: m.allow.join(', ') };
      return this.send(res, ctx, reply);
    }
    ctx.route = m.route;

    // Faults come first: they stand for the network, proxies and an overloaded service.
    const fault = this.faults.match(m.route);
    if (fault) ctx.fault = describeFault(fault);
    if (fault && fault.status !== undefined) {
      await this.sleep(fault.delayMs ?? 0);
      let faulted = this.faultReply(fault);
      if (LOAD_ROUTES.has(m.route) && this.settings.variants.loadTransientInBody) faulted = transientInBody(fault, faulted);
      return this.send(res, ctx, faulted, fault.dropConnection);
    }

    // The status route needs no credentials and no endpoint right.
    if (m.route === 'status') {
      await this.sleep(this.settings.latencyMs + (fault?.delayMs ?? 0));
      return this.send(res, ctx, { status: 200, json: { result_code: 'Succeeded', message: 'The API is available' } }, fault?.dropConnection);
    }

    // Auth.
    const cred = this.authenticate(req, m);
    if (!cred) {
      return this.send(res, ctx, { status: 401, json: { message: 'Authorization has been denied for this request.' } });
    }

    // Rate limit per API key.
    let rlHeaders: Record<string, string> | undefined;
    if (this.limiter && this.settings.rateLimit) {
      const d = this.limiter.take(cred.key);
      rlHeaders = rateLimitHeaders(d);
      if (!d.allowed) {
        return this.send(res, ctx, { status: 429, text: quotaMessage(d.limit, d.windowSeconds), headers: rlHeaders });
      }
    }

    // The latency model: a fixed part (plus jitter) per request and a part per row of a load body. Work past
    // serverTimeoutMs answers 408 once that much time has passed, with nothing applied.
    const timeoutMs = this.settings.variants.serverTimeoutMs;
    const baseMs = this.settings.latencyMs + (this.settings.latencyJitterMs > 0 ? Math.random() * this.settings.latencyJitterMs : 0);
    if (timeoutMs !== null && baseMs > timeoutMs) {
      await this.sleep(timeoutMs);
      return this.send(res, ctx, this.faultReply({ status: 408 }));
    }
    const onRows = (rows: number): void => {
      ctx.rows = rows;
      if (timeoutMs !== null && baseMs + rows * this.settings.latencyPerRowMs > timeoutMs) {
        throw new ReplyError({ ...this.faultReply({ status: 408 }), waitMs: timeoutMs });
      }
    };

    let release: (() => void) | undefined;
    let reply: Reply;
    try {
      reply = await this.dispatch(m, req, ctx, onRows, (list) => {
        if (list.busy) throw new ReplyError(this.listBusyReply(list));
        list.busy = true;
        release = () => {
          list.busy = false;
        };
      });
    } catch (e) {
      if (!(e instanceof ReplyError)) {
        release?.();
        throw e;
      }
      reply = e.reply;
      if (BULK_ROUTES.has(m.route) && reply.status !== 429) h.asLoadReply(reply);
    }
    if (LOAD_ROUTES.has(m.route)) this.shapeLoadReply(reply);
    if (rlHeaders && !reply.noRateHeaders) reply.headers = { ...rlHeaders, ...reply.headers };
    const wait = reply.waitMs ?? baseMs + ctx.rows * this.settings.latencyPerRowMs + (fault?.delayMs ?? 0);
    try {
      await this.sleep(wait);
      this.send(res, ctx, reply, fault?.dropConnection);
    } finally {
      release?.();
    }
  }

  /** Variants V1 (request-level failures in a 200) and V2 (failed rows counted, not listed). */
  private shapeLoadReply(reply: Reply): void {
    const v = this.settings.variants;
    const json = reply.json as Record<string, unknown> | undefined;
    if (!json || typeof json !== 'object' || Array.isArray(json) || typeof json.result_code !== 'string') return;
    if (v.loadFailureStatus === 200 && (reply.status === 400 || reply.status === 404)) reply.status = 200;
    if (v.failedRowDetail === 'count-only' && 'invalid_records' in json) json.invalid_records = null;
  }

  /** The 429 for a second bulk operation on a busy List, in the shape of variant V7. */
  private listBusyReply(list: ListState): Reply {
    switch (this.settings.variants.listBusy429) {
      case 'quota-text': {
        const rl = this.settings.rateLimit || DEFAULT_RATE_LIMIT;
        return { status: 429, text: quotaMessage(rl.limit, Math.max(1, Math.round(rl.windowMs / 1000))) };
      }
      case 'no-headers': {
        const reply = this.listBusyEnvelope(list);
        reply.noRateHeaders = true;
        return reply;
      }
      default:
        return this.listBusyEnvelope(list);
    }
  }

  private listBusyEnvelope(list: ListState): Reply {
    return failure(429, 'Failed', `Another bulk operation is in progress on list ${list.apiName}; retry later`, [
      { error_code: 'ERR_BULK_OPERATION_IN_PROGRESS', description: `Only one bulk operation per list at a time (list ${list.apiName})` },
    ]);
  }

  private authenticate(req: IncomingMessage, m: RouteMatch): CredentialOptions | undefined {
    const raw = req.headers['x-apikey'];
    const header = Array.isArray(raw) ? raw[0] : raw;
    if (!header) return undefined;
    const i = header.indexOf(':');
    if (i <= 0) return undefined;
    const key = header.slice(0, i);
    const secret = header.slice(i + 1);
    const cred = this.credentials.find((c) => c.key === key && c.secret === secret);
    if (!cred) return undefined;
    if (cred.permissions && !cred.permissions.includes(m.route as string)) return undefined;
    if (cred.organizations && !cred.organizations.some((o) => o.toLowerCase() === m.org.toLowerCase())) return undefined;
    return cred;
  }

  private async readJsonBody(req: IncomingMessage, ctx: RequestContext, raw = false): Promise<unknown> {
    const r = await readBody(req, this.settings.maxBodyBytes);
    ctx.requestBytes = r.bytes;
    if (r.kind === 'tooLarge') {
      throw new ReplyError({
        status: 413,
        text: `Request body too large: the limit is ${this.settings.maxBodyBytes} bytes`,
        close: true,
      });
    }
    if (r.kind === 'aborted') throw new ReplyError({ status: 400, text: 'The request was aborted', close: true });
    if (!isJsonContentType(req.headers['content-type'])) {
      throw new ReplyError(validationFailed('The request body must be sent with Content-Type: application/json'));
    }
    if (raw) return r.body;
    if (r.body.length === 0) throw new ReplyError(validationFailed('The request body is empty'));
    try {
      return JSON.parse(r.body.toString('utf8'));
    } catch (e) {
      throw new ReplyError(validationFailed(`The request body is not valid JSON: ${(e as Error).message}`));
    }
  }

  private async dispatch(
    m: RouteMatch,
    req: IncomingMessage,
    ctx: RequestContext,
    onRows: (rows: number) => void,
    lock: (list: ListState) => void,
  ): Promise<Reply> {
    const route = m.route as string;
    const v = this.settings.variants;
    if (route === 'getOrganization' && v.organizationGet === 401) {
      // The service account has rights on lists and data only (variant V12).
      return { status: 401, json: { message: 'Authorization has been denied for this request.' } };
    }
    if (route === 'setBusinessKey' && (v.businessKey === 404 || v.businessKey === 405)) {
      // The endpoint is not rolled out on this tenant (variant V5).
      if (v.businessKey === 404) return notFound('No HTTP resource was found that matches the request URI');
      return failure(405, 'Failed', "The requested resource does not support http method 'PUT'.");
    }
    const missing = v.notFoundStatus;
    const org = h.requireOrg(this.store, m.org, missing);
    if (route === 'getOrganization') return h.getOrganization(org);
    if (route === 'createList') return h.createList(this.store, org, await this.readJsonBody(req, ctx));
    const list = h.requireList(org, m.list as string, missing);
    const settings: h.HandlerSettings = {
      segmentSemantics: this.settings.segmentSemantics,
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
        return h.createFields(list, await this.readJsonBody(req, ctx));
      case 'listSegments':
        return h.listSegments(list, ctx.query, v.segmentsPageSize, v.staticSegmentType);
      case 'countRecords':
        return h.countRecords(list);
      case 'setBusinessKey':
        return h.setBusinessKey(list, await this.readJsonBody(req, ctx), v.businessKey === 'max3' ? h.MAX_BUSINESS_KEY_FIELDS : Infinity);
      case 'createStaticSegment':
        return h.createStaticSegment(list, await this.readJsonBody(req, ctx));
      case 'searchList':
        return h.handleSearch(list, undefined, await this.readJsonBody(req, ctx));
      case 'loadList': {
        h.parseLoadOptions(ctx.query, false);
        lock(list);
        const body = (await this.readJsonBody(req, ctx, true)) as Buffer;
        return h.handleLoadList(list, ctx.query, body, settings);
      }
    }
    const seg = h.requireSegment(list, m.segment as string, missing);
    switch (route) {
      case 'getSegment':
        return h.getSegment(seg, v.staticSegmentType);
      case 'searchSegment':
        return h.handleSearch(list, seg, await this.readJsonBody(req, ctx));
      case 'clearSegment':
        h.requireStatic(seg);
        lock(list);
        return h.clearSegment(seg);
      case 'loadSegment': {
        h.requireStatic(seg);
        h.parseLoadOptions(ctx.query, true);
        lock(list);
        const body = (await this.readJsonBody(req, ctx, true)) as Buffer;
        return h.handleLoadSegment(list, seg, ctx.query, body, settings);
      }
      case 'deleteSegmentData': {
        h.requireStatic(seg);
        h.parseLoadOptions(ctx.query, true);
        lock(list);
        const body = (await this.readJsonBody(req, ctx, true)) as Buffer;
        return h.handleDeleteSegmentData(list, seg, ctx.query, body, settings);
      }
    }
    throw new Error(`unhandled route ${route}`);
  }

  private faultReply(fault: FaultRule): Reply {
    const status = fault.status as number;
    let reply: Reply;
    switch (status) {
      case 429: {
        const rl = this.settings.rateLimit || DEFAULT_RATE_LIMIT;
        const windowSeconds = Math.max(1, Math.round(rl.windowMs / 1000));
        reply = {
          status,
          text: quotaMessage(rl.limit, windowSeconds),
          headers: rateLimitHeaders({ limit: rl.limit, windowSeconds, remaining: 0, resetSeconds: 1 }),
        };
        break;
      }
      case 401:
        reply = { status, json: { message: 'Authorization has been denied for this request.' } };
        break;
      case 500:
        reply = failure(500, 'InternalServerError', 'An error has occurred.');
        break;
      case 503:
        reply = failure(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.');
        break;
      default:
        reply = {
          status,
          text: `<html><head><title>${status} ${http.STATUS_CODES[status] ?? ''}</title></head><body><h1>${status} ${http.STATUS_CODES[status] ?? ''}</h1></body></html>`,
          headers: { 'Content-Type': 'text/html' },
        };
    }
    if (fault.headers !== undefined) reply.headers = { ...fault.headers };
    if (fault.body !== undefined) {
      reply.json = undefined;
      reply.text = fault.body;
      if (!reply.headers || !Object.keys(reply.headers).some((k) => k.toLowerCase() === 'content-type')) {
        reply.headers = { ...reply.headers, 'Content-Type': 'text/plain; charset=utf-8' };
      }
    }
    return reply;
  }

  // ----------------------------------------------------------------------------------------- answer

  private send(res: ServerResponse, ctx: RequestContext, reply: Reply, drop = false): void {
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
        for (const existing of Object.keys(headers)) if (existing.toLowerCase() === k.toLowerCase()) delete headers[existing];
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

  private internalError(res: ServerResponse, e: unknown): void {
    if (!res.headersSent && !res.destroyed) {
      const body = JSON.stringify({ result_code: 'InternalServerError', message: `Simulator error: ${(e as Error)?.message ?? String(e)}` });
      res.writeHead(500, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': String(Buffer.byteLength(body)) });
      res.end(body);
    } else {
      res.destroy();
    }
  }

  private record(ctx: RequestContext, res: ServerResponse): void {
    // Control routes are not part of the API traffic and are not logged.
    if (ctx.logged || !this.logRequests || ctx.route === '__simulator') return;
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
    this.log.push(entry);
  }

  // ----------------------------------------------------------------------------------------- control routes

  private async control(parts: string[], req: IncomingMessage, ctx: RequestContext): Promise<Reply> {
    const method = ctx.method;
    const path = parts.join('/');
    const body = async (): Promise<unknown> => {
      const r = await readBody(req, this.settings.maxBodyBytes);
      ctx.requestBytes = r.bytes;
      if (r.kind !== 'ok') throw new ReplyError({ status: r.kind === 'tooLarge' ? 413 : 400, text: 'bad body', close: true });
      if (r.body.length === 0) return undefined;
      try {
        return JSON.parse(r.body.toString('utf8'));
      } catch {
        throw new ReplyError({ status: 400, json: { error: 'the body is not valid JSON' } });
      }
    };
    const bad = (message: string): Reply => ({ status: 400, json: { error: message } });
    try {
      switch (`${method} ${path}`) {
        case 'GET state':
          return { status: 200, json: snapshot(this.store) };
        case 'POST seed':
          this.seed((await body()) as SeedState);
          return { status: 200, json: { ok: true } };
        case 'POST reset':
          this.reset();
          return { status: 200, json: { ok: true } };
        case 'POST save':
          await this.save();
          return { status: 200, json: { ok: true, statePath: this.statePath } };
        case 'GET requests': {
          let entries = this.requestLog();
          const route = ctx.query.byLower.get('route');
          if (route) entries = entries.filter((e) => e.route === route);
          return { status: 200, json: { requests: entries } };
        }
        case 'DELETE requests':
          this.clearRequestLog();
          return { status: 200, json: { ok: true } };
        case 'GET faults':
          return { status: 200, json: { faults: this.faults.list() } };
        case 'POST faults': {
          const b = await body();
          const rules = (Array.isArray(b) ? b : [b]).map(normalizeRule);
          for (const r of rules) this.faults.add(r);
          return { status: 200, json: { faults: this.faults.list() } };
        }
        case 'DELETE faults':
        case 'POST faults/clear':
          this.faults.clear();
          return { status: 200, json: { faults: [] } };
        case 'POST faults/error-rate': {
          const b = (await body()) as { probability?: unknown; statuses?: unknown } | undefined;
          if (!b || typeof b.probability !== 'number') return bad('probability is required');
          if (b.statuses !== undefined && !Array.isArray(b.statuses)) return bad('statuses must be an array');
          this.faults.errorRate(b.probability, b.statuses as number[] | undefined);
          return { status: 200, json: { faults: this.faults.list() } };
        }
        case 'GET config':
          return { status: 200, json: this.effectiveConfig() };
        case 'GET watermarks':
          return { status: 200, json: this.watermarks(ctx.query.byLower.get('organization')) };
        case 'POST watermarks/reset':
          this.resetWatermarks();
          return { status: 200, json: this.watermarks(ctx.query.byLower.get('organization')) };
        case 'GET variants':
          return { status: 200, json: this.variants() };
        case 'PUT variants':
        case 'POST variants': {
          const b = await body();
          if (!b || typeof b !== 'object' || Array.isArray(b)) return bad('the body must be an object of variant switches');
          return { status: 200, json: this.setVariants(b as Partial<Variants>) };
        }
        case 'POST config': {
          const b = await body();
          if (!b || typeof b !== 'object' || Array.isArray(b)) return bad('the body must be an object');
          this.configure(b as ConfigurablePatch);
          return { status: 200, json: this.effectiveConfig() };
        }
      }
    } catch (e) {
      if (e instanceof ReplyError) return e.reply;
      if (e instanceof FaultValidationError || e instanceof SeedError || e instanceof Error) return bad(e.message);
      throw e;
    }
    return { status: 404, json: { error: `unknown control route ${method} /__simulator/${path}` } };
  }
}

/**
 * Variant V1: a load the service would answer with 500/503 answers 200 with that result_code instead
 * (nothing applied, zero counters). A rule with its own body keeps its answer.
 */
function transientInBody(fault: FaultRule, reply: Reply): Reply {
  if (fault.body !== undefined || (fault.status !== 500 && fault.status !== 503)) return reply;
  const code = fault.status === 503 ? 'ServiceUnavailable' : 'InternalServerError';
  const message = fault.status === 503 ? 'The service is temporarily unavailable. Please retry later.' : 'An error has occurred.';
  const out = h.asLoadReply(failure(200, code, message));
  if (fault.headers !== undefined) out.headers = { ...fault.headers };
  return out;
}

function describeFault(f: FaultRule): string {
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`status ${f.status}`);
  if (f.delayMs !== undefined) parts.push(`delay ${f.delayMs}ms`);
  if (f.dropConnection) parts.push('drop');
  return parts.join(', ');
}

export type { ParsedQuery };
