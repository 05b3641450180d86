import { TOOL_NAME, VERSION } from '../version.js';
import type { AccountingReport, RunReport } from './types.js';

export function emptyReport(dryRun: boolean): RunReport {
  return {
    tool: { name: TOOL_NAME, version: VERSION },
    status: 'failed',
    exit_code: 1,
    dry_run: dryRun,
    started_at: new Date().toISOString(),
    finished_at: null,
    settings_source: null,
    settings: null,
    selligent: { base_url: null, organization: null, list: null },
    stage: null,
    input: { location: null, format: null, compression: null, objects: [], bytes: 0, rows: 0, columns: [], types_from: null },
    validation: { valid_rows: 0, skipped_rows: 0, by_reason: {} },
    deduplication: { strategy: '', unique_keys: 0, merged_duplicates: 0, segment_memberships: 0 },
    list: null,
    segments: [],
    http: {
      requests: 0,
      by_route: {},
      by_status: {},
      retries: 0,
      rate_limited: 0,
      rate_limit_waits: 0,
      rate_limit_wait_seconds: 0,
      pacing_wait_seconds: 0,
      split_batches: 0,
      list_busy_waits: 0,
      list_busy_wait_seconds: 0,
    },
    accounting: null,
    rejected_rows: { file: null, count: 0 },
    failed_without_detail: [],
    segment_batch_rows: null,
    durations_seconds: {},
    plan: null,
    warnings: [],
    error: null,
  };
}

/**
 * True once anything may have changed in Selligent. A load request counts once it was answered as
 * taken (`rows_sent`): a refused first batch changed nothing.
 */
export function hasWritten(report: RunReport): boolean {
  const list = report.list;
  if (list && (list.created || list.fields_created.length > 0 || list.business_key_set || list.rows_sent > 0)) return true;
  return report.segments.some((segment) => segment.created || segment.cleared || segment.rows_sent > 0);
}

export interface AccountingCounts {
  inputRows: number;
  skipped: number;
  mergedDuplicates: number;
  rejected: number;
  notApplied: Record<string, number>;
  loaded: number;
}

/**
 * The accounting promise: every input row is skipped, merged away as a duplicate, rejected, not applied
 * or loaded, exactly once. `balanced` is checked by the caller; a false value is a bug.
 */
export function accountingReport(counts: AccountingCounts): AccountingReport {
  const notApplied = Object.values(counts.notApplied).reduce((sum, n) => sum + n, 0);
  const total = counts.skipped + counts.mergedDuplicates + counts.rejected + notApplied + counts.loaded;
  return {
    input_rows: counts.inputRows,
    skipped: counts.skipped,
    merged_duplicates: counts.mergedDuplicates,
    rejected: counts.rejected,
    not_applied: notApplied,
    not_applied_by_reason: Object.fromEntries(Object.entries(counts.notApplied).filter(([, n]) => n > 0)),
    loaded: counts.loaded,
    balanced: total === counts.inputRows,
  };
}
