/**
 * Switches for the variants of the live service (contract section 6, V1-V12). Each switch defaults to the
 * first variant the contract names, so a simulator started without `variants` behaves as before. The
 * switches are checked by the options schema (options.ts).
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
