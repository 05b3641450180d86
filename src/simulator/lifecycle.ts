/**
 * The simulator's lifecycle and handle: it checks the options, builds the state, listens, hands every
 * request to the request flow, and on close cancels pending waits, drops connections and saves the state.
 */

import http from 'node:http';
import type { Socket } from 'node:net';
import { FaultController } from './faults.js';
import * as view from './inspect.js';
import {
  DEFAULT_HOST,
  DEFAULT_ORGANIZATION,
  DEFAULT_PORT,
  DEFAULT_REQUEST_LOG_SIZE,
  DEV_API_KEY,
  DEV_API_SECRET,
  parseConfigurablePatch,
  parseSimulatorOptions,
  parseVariants,
  runtimeSettings,
  type RuntimeSettings,
} from './options.js';
import { loadStateFile, saveStateFile } from './persist.js';
import { RateLimiter } from './rate-limit.js';
import { handleRequest, type FlowHost } from './request-flow.js';
import { Ring } from './request-log.js';
import { Store } from './state.js';
import type { ControlTarget } from './control-routes.js';
import type {
  ConfigurablePatch,
  CredentialOptions,
  RequestLogEntry,
  SeedState,
  SimulatorOptions,
  Watermarks,
} from './types.js';
import type { Variants } from './variants.js';

/** The port is taken: another process (often another simulator) listens on it. */
export class PortInUseError extends Error {
  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    super(`port ${port} on ${host} is already in use`);
  }
}

export class SimulatorServer implements ControlTarget, FlowHost {
  readonly store = new Store();
  readonly faults = new FaultController();
  readonly settings: RuntimeSettings;
  readonly credentials: CredentialOptions[];
  readonly statePath: string | undefined;
  readonly controlRoutes: FlowHost['controlRoutes'];
  readonly control: ControlTarget = this;
  private _limiter: RateLimiter | undefined;
  private readonly server: http.Server;
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Map<NodeJS.Timeout, () => void>();
  private readonly log: Ring<RequestLogEntry>;
  private readonly options: SimulatorOptions;
  private readonly organizations: [string, ...string[]];
  private readonly host: string;
  private closed = false;
  private _port = 0;

  constructor(rawOptions: SimulatorOptions = {}) {
    const options = parseSimulatorOptions(rawOptions);
    this.options = options;
    this.host = options.host ?? DEFAULT_HOST;
    const [firstOrg, ...otherOrgs] = options.organizations ?? [];
    this.organizations = firstOrg === undefined ? [DEFAULT_ORGANIZATION] : [firstOrg, ...otherOrgs];
    this.credentials = options.credentials?.length
      ? options.credentials.map((c) => ({ ...c }))
      : [{ key: DEV_API_KEY, secret: DEV_API_SECRET }];
    this.settings = runtimeSettings(options);
    this._limiter = this.newLimiter();
    this.statePath = options.statePath;
    this.controlRoutes = options.enableControlRoutes ? 'all' : options.inspectRoutes ? 'read-only' : 'off';
    this.log = new Ring(options.requestLogSize ?? DEFAULT_REQUEST_LOG_SIZE);
    this.server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => handleRequest(this, req, res));
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
    const port = this.options.port ?? DEFAULT_PORT;
    await new Promise<void>((resolve, reject) => {
      const failed = (e: NodeJS.ErrnoException) =>
        reject(e.code === 'EADDRINUSE' ? new PortInUseError(this.host, port) : e);
      this.server.once('error', failed);
      this.server.listen(port, this.host, () => {
        this.server.off('error', failed);
        resolve();
      });
    });
    const addr = this.server.address();
    this._port = typeof addr === 'object' && addr ? addr.port : 0;
  }

  private initialState(): void {
    this.store.clear();
    for (const o of this.organizations) this.store.ensureOrg(o);
    if (this.options.seed) this.store.seed(this.options.seed, this.organizations[0]);
  }

  get port(): number {
    return this._port;
  }

  get baseUrl(): string {
    const host = this.host.includes(':') ? `[${this.host}]` : this.host === '0.0.0.0' ? '127.0.0.1' : this.host;
    return `http://${host}:${this._port}`;
  }

  get limiter(): RateLimiter | undefined {
    return this._limiter;
  }

  sleep(ms: number): Promise<void> {
    if (ms <= 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        resolve();
      }, ms);
      this.timers.set(t, resolve);
    });
  }

  record(entry: RequestLogEntry): void {
    if (this.options.logRequests ?? true) this.log.push(entry);
  }

  // Inspection views (names match case-insensitively; a missing list or segment gives []).

  listRecords(org: string, list: string): Array<Record<string, unknown>> {
    return view.listRecords(this.store, org, list);
  }

  listFields(org: string, list: string): Array<{ name: string; data_type: string; length?: number }> {
    return view.listFields(this.store, org, list);
  }

  segmentMembers(org: string, list: string, segment: string): Array<Record<string, unknown>> {
    return view.segmentMembers(this.store, org, list, segment);
  }

  segments(org: string, list: string): Array<{ api_name: string; type: string }> {
    return view.segments(this.store, org, list);
  }

  hasList(org: string, list: string): boolean {
    return this.store.list(org, list) !== undefined;
  }

  lists(org: string): string[] {
    return view.lists(this.store, org);
  }

  businessKey(org: string, list: string): string[] | undefined {
    return view.businessKey(this.store, org, list);
  }

  watermarks(org?: string): Watermarks {
    return view.watermarks(this.store, org ?? this.organizations[0]);
  }

  resetWatermarks(): void {
    view.resetWatermarks(this.store);
  }

  requestLog(): RequestLogEntry[] {
    return this.log.toArray();
  }

  // Changes.

  seed(state: SeedState): void {
    this.store.seed(state, this.organizations[0]);
  }

  reset(): void {
    this.initialState();
    this.faults.clear();
    this.log.clear();
    this._limiter?.reset();
  }

  clearRequestLog(): void {
    this.log.clear();
  }

  configure(raw: ConfigurablePatch): void {
    const patch = parseConfigurablePatch(raw);
    if (patch.rateLimit !== undefined) {
      this.settings.rateLimit = patch.rateLimit === false ? false : { ...patch.rateLimit };
      this._limiter = this.newLimiter();
    }
    if (patch.segmentSemantics !== undefined) this.settings.segmentSemantics = patch.segmentSemantics;
    if (patch.requireBusinessKey !== undefined)
      this.settings.variants.keyIndexGuard = patch.requireBusinessKey ? 'exact' : 'none';
    if (patch.maxBodyBytes !== undefined) this.settings.maxBodyBytes = patch.maxBodyBytes;
    if (patch.latencyMs !== undefined) this.settings.latencyMs = patch.latencyMs;
    if (patch.latencyJitterMs !== undefined) this.settings.latencyJitterMs = patch.latencyJitterMs;
    if (patch.latencyPerRowMs !== undefined) this.settings.latencyPerRowMs = patch.latencyPerRowMs;
    if (patch.variants !== undefined) this.setVariants(patch.variants);
  }

  variants(): Variants {
    return { ...this.settings.variants };
  }

  setVariants(raw: Partial<Variants>): Variants {
    const checked = parseVariants(raw);
    const windowChanged =
      checked.quotaWindow !== undefined && checked.quotaWindow !== this.settings.variants.quotaWindow;
    Object.assign(this.settings.variants, checked);
    if (windowChanged) this._limiter = this.newLimiter();
    return this.variants();
  }

  private newLimiter(): RateLimiter | undefined {
    return this.settings.rateLimit
      ? new RateLimiter(this.settings.rateLimit, this.settings.variants.quotaWindow)
      : undefined;
  }

  effectiveConfig(): Record<string, unknown> {
    return {
      ...this.settings,
      variants: this.variants(),
      requireBusinessKey: this.settings.variants.keyIndexGuard !== 'none',
      organizations: this.organizations,
      statePath: this.statePath ?? null,
      enableControlRoutes: this.controlRoutes === 'all',
      inspectRoutes: this.controlRoutes !== 'off',
      logRequests: this.options.logRequests ?? true,
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
}
