/**
 * Switches for the variants of the live service (contract section 6, V1-V12). Each switch defaults to the
 * first variant the contract names, so a simulator started without `variants` behaves as before.
 */

export interface Variants {
  /** V1: status of a request-level load failure (ValidationFailed, NotFound, ...): 400/404, or 200 + envelope. */
  loadFailureStatus: 400 | 200;
  /** V1: a load that would answer 500/503 answers 200 + result_code InternalServerError/ServiceUnavailable. */
  loadTransientInBody: boolean;
  /** V2: 'count-only' keeps number_of_failed_records but answers invalid_records: null. */
  failedRowDetail: 'listed' | 'count-only';
  /** V3: status of a missing organization, List or Segment (result_code NotFound either way). */
  notFoundStatus: 404 | 400;
  /** V4: null = every Segment in one answer; a number = paged listing with this default (and largest) page. */
  segmentsPageSize: number | null;
  /** V5: PUT businesskey answers 200; or 404/405 (not rolled out); or 400 for more than 3 fields. */
  businessKey: 'ok' | 404 | 405 | 'max3';
  /** V6: the key-index guard on loads. */
  keyIndexGuard: 'none' | 'exact' | 'covers';
  /** V7: shape of the per-List bulk-lock 429. */
  listBusy429: 'envelope' | 'no-headers' | 'quota-text';
  /** V8: the per-key request quota. */
  quotaWindow: 'token-bucket' | 'fixed';
  /** V9: a request whose modelled server work exceeds this many ms answers 408 after that long. */
  serverTimeoutMs: number | null;
  /** V10: the type reported for a static Segment. */
  staticSegmentType: 'Static' | 'External' | 'Unknown';
  /** V11: whether numeric and boolean fields take their values as strings. */
  stringValues: 'refuse' | 'accept';
  /** V12: the organization GET is allowed, or refused with 401 for every credential. */
  organizationGet: 'allowed' | 401;
}

export const DEFAULT_VARIANTS: Readonly<Variants> = Object.freeze({
  loadFailureStatus: 400,
  loadTransientInBody: false,
  failedRowDetail: 'listed',
  notFoundStatus: 404,
  segmentsPageSize: null,
  businessKey: 'ok',
  keyIndexGuard: 'none',
  listBusy429: 'envelope',
  quotaWindow: 'token-bucket',
  serverTimeoutMs: null,
  staticSegmentType: 'Static',
  stringValues: 'refuse',
  organizationGet: 'allowed',
});

const CHOICES: { [K in keyof Variants]: readonly unknown[] | 'positiveIntOrNull' } = {
  loadFailureStatus: [400, 200],
  loadTransientInBody: [false, true],
  failedRowDetail: ['listed', 'count-only'],
  notFoundStatus: [404, 400],
  segmentsPageSize: 'positiveIntOrNull',
  businessKey: ['ok', 404, 405, 'max3'],
  keyIndexGuard: ['none', 'exact', 'covers'],
  listBusy429: ['envelope', 'no-headers', 'quota-text'],
  quotaWindow: ['token-bucket', 'fixed'],
  serverTimeoutMs: 'positiveIntOrNull',
  staticSegmentType: ['Static', 'External', 'Unknown'],
  stringValues: ['refuse', 'accept'],
  organizationGet: ['allowed', 401],
};

export const VARIANT_NAMES = Object.keys(CHOICES) as Array<keyof Variants>;

function shown(v: unknown): string {
  return typeof v === 'string' ? `'${v}'` : String(v);
}

/** Checks a partial variants object (from options, the config file or a control route); throws naming the key. */
export function checkVariants(patch: unknown): Partial<Variants> {
  if (!patch || typeof patch !== 'object' || Array.isArray(patch)) throw new Error('variants must be an object');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    const choice = (CHOICES as Record<string, readonly unknown[] | 'positiveIntOrNull'>)[k];
    if (choice === undefined) throw new Error(`unknown variant ${k}; known: ${VARIANT_NAMES.join(', ')}`);
    if (v === undefined) continue;
    if (choice === 'positiveIntOrNull') {
      if (v !== null && (typeof v !== 'number' || !Number.isInteger(v) || v < 1)) throw new Error(`variants.${k} must be null or a positive integer`);
    } else if (!choice.includes(v)) {
      throw new Error(`variants.${k} must be one of ${choice.map(shown).join(', ')}`);
    }
    out[k] = v;
  }
  return out as Partial<Variants>;
}
