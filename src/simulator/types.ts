/**
 * Public types of the local Selligent (Marigold Engage) V1 API simulator.
 * Nothing here is shared with the exporter's Selligent client.
 */

import type { Variants } from './variants.js';

export type { Variants } from './variants.js';

export const ROUTE_NAMES = [
  'getOrganization',
  'getList',
  'createList',
  'getFields',
  'createFields',
  'listSegments',
  'getSegment',
  'createStaticSegment',
  'loadList',
  'loadSegment',
  'clearSegment',
  'searchList',
  'searchSegment',
  'countRecords',
  'setBusinessKey',
  'deleteSegmentData',
  'status',
] as const;
export type RouteName = (typeof ROUTE_NAMES)[number];

export const DATA_TYPES = [
  'Boolean',
  'Numeric',
  'Long',
  'Float',
  'Date',
  'DateTime',
  'Text',
  'LongText',
  'Json',
] as const;
export type DataType = (typeof DATA_TYPES)[number];

export const SEGMENT_TYPES = ['Static', 'Dynamic', 'External', 'Unknown'] as const;
export type SegmentType = (typeof SEGMENT_TYPES)[number];

export interface CredentialOptions {
  key: string;
  secret: string;
  /** Organizations this credential may access; absent = all. */
  organizations?: string[];
  /** Route names this credential may call; absent = all. */
  permissions?: string[];
}

export interface RateLimitOptions {
  limit: number;
  windowMs: number;
}

export interface SeedField {
  name: string;
  data_type: string;
  length?: number | null;
  allow_null?: boolean;
  description?: string | null;
}

export interface SeedSegment {
  api_name: string;
  name?: string;
  /** Static (default), Dynamic, External or Unknown. */
  type?: string;
  description?: string | null;
  /** Members: a record ID, or an object whose fields must all equal a record's values. */
  members?: Array<number | Record<string, unknown>>;
}

export interface SeedList {
  /** Defaults to the first configured organization. */
  organization?: string;
  api_name: string;
  name?: string;
  /** Userlist (default), Datalist, ... A Userlist gets ID, MAIL, NAME, OPTOUT unless `fields` names them. */
  type?: string;
  description?: string | null;
  tags?: string[];
  fields?: SeedField[];
  /** Records keyed by field name (any case). An `ID` value is kept as the record id when given. */
  records?: Array<Record<string, unknown>>;
  segments?: SeedSegment[];
  /** The unique key index (PUT .../businesskey). */
  business_key?: string[] | null;
}

export interface SeedState {
  /** Organizations to create (lists also create theirs). */
  organizations?: string[];
  lists?: SeedList[];
}

export type SegmentSemantics = 'match' | 'upsert';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  organizations?: string[];
  credentials?: CredentialOptions[];
  rateLimit?: RateLimitOptions | false;
  segmentSemantics?: SegmentSemantics;
  /** true = variants.keyIndexGuard 'exact', false = 'none' (an explicit keyIndexGuard wins). */
  requireBusinessKey?: boolean;
  /** Variants of the live service (contract section 6); each defaults to the first one named there. */
  variants?: Partial<Variants>;
  maxBodyBytes?: number;
  statePath?: string;
  seed?: SeedState;
  /** Every /__simulator/ control route (state, request log, faults, settings, seed, reset). */
  enableControlRoutes?: boolean;
  /** Only the read-only control routes (GET state, requests, watermarks, faults, variants, config). */
  inspectRoutes?: boolean;
  latencyMs?: number;
  latencyJitterMs?: number;
  /** Modelled server work per row of a load (or member-removal) body, added to latencyMs. */
  latencyPerRowMs?: number;
  logRequests?: boolean;
  /** Size of the request log ring (default 100,000). */
  requestLogSize?: number;
}

export type ConfigurablePatch = Partial<
  Pick<
    SimulatorOptions,
    | 'rateLimit'
    | 'segmentSemantics'
    | 'requireBusinessKey'
    | 'maxBodyBytes'
    | 'latencyMs'
    | 'latencyJitterMs'
    | 'latencyPerRowMs'
    | 'variants'
  >
>;

export type FaultStatus = 408 | 413 | 429 | 500 | 502 | 503 | 504 | 401;

export interface FaultRule {
  /** A route name, or '*' / absent for every API route. */
  route?: string;
  /** Answer this status instead of handling the request (nothing is processed). */
  status?: FaultStatus;
  /** Fire for the next N matching calls only (absent = unlimited). */
  times?: number;
  /** Let the first K matching calls through, then fire. */
  afterCalls?: number;
  /** Destroy the socket mid-response (after headers and part of the body). */
  dropConnection?: boolean;
  /** Respond this much later. Without `status`, the request is processed first, then answered late. */
  delayMs?: number;
  /** Response headers; `{}` means none of the defaults (e.g. a 429 without X-RateLimit-*). */
  headers?: Record<string, string>;
  /** Response body (text). */
  body?: string;
  /** Fire with this probability (0..1) once the other conditions hold. */
  probability?: number;
  /** Pick the status at random from this list (used by errorRate). */
  statuses?: number[];
}

export interface FaultControls {
  add(rule: FaultRule): void;
  clear(): void;
  list(): FaultRule[];
  /** Random errors on every API route; probability 0 removes it. Default statuses 500, 502, 503, 504. */
  errorRate(probability: number, statuses?: number[]): void;
}

export interface RequestLogEntry {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  startedAt: string;
  route: string | null;
  /** Set when an injected fault shaped this answer. */
  fault?: string;
}

/** `{list: {segment: {min, current}}}`: member counts since the last watermark reset. */
export type Watermarks = Record<string, Record<string, { min: number; current: number }>>;

export interface SimulatorHandle {
  /** e.g. http://127.0.0.1:PORT (clients append /Portal/Api/...). */
  readonly baseUrl: string;
  readonly port: number;
  // Inspection (names match case-insensitively; a missing list or segment gives []).
  /** Records in ID order, keyed by upper-case field names. */
  listRecords(org: string, list: string): Array<Record<string, unknown>>;
  listFields(org: string, list: string): Array<{ name: string; data_type: string; length?: number }>;
  segmentMembers(org: string, list: string, segment: string): Array<Record<string, unknown>>;
  segments(org: string, list: string): Array<{ api_name: string; type: string }>;
  hasList(org: string, list: string): boolean;
  /** The api_names of an organization's Lists. */
  lists(org: string): string[];
  businessKey(org: string, list: string): string[] | undefined;
  seed(state: SeedState): void;
  reset(): void;
  requestLog(): RequestLogEntry[];
  clearRequestLog(): void;
  readonly faults: FaultControls;
  configure(patch: ConfigurablePatch): void;
  /** Per List and Segment of an organization (default: the first), the fewest members since the last mark. */
  watermarks(org?: string): Watermarks;
  /** Starts a new watermark period: every Segment's low point becomes its current size. */
  resetWatermarks(): void;
  /** The current variant switches. */
  variants(): Variants;
  /** Changes some variant switches (checked like the start-up options); returns all of them. */
  setVariants(patch: Partial<Variants>): Variants;
  save(): Promise<void>;
  close(): Promise<void>;
}
