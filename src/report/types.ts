import type { Settings } from '../config/settings.js';
import type { ClientStats } from '../selligent/stats.js';

export type RunStatus = 'succeeded' | 'partial' | 'failed';

export interface StageDurations {
  read?: number;
  preflight?: number;
  list_setup?: number;
  segment_setup?: number;
  list_load?: number;
  segment_load?: number;
  total?: number;
}

export interface ColumnReport {
  column: string;
  field: string;
  type: string;
  role: 'key' | 'segment' | 'field';
  /** Characters of the column's longest value (what a created Text field is sized from). */
  longest?: number;
}

export interface InputReport {
  location: string | null;
  format: string | null;
  compression: string | null;
  objects: Array<{ uri: string; bytes: number }>;
  bytes: number;
  rows: number;
  columns: ColumnReport[];
  /** `schema-file`, `inferred` or `native` (JSON Lines carries its own types). */
  types_from: string | null;
}

export interface ValidationReport {
  valid_rows: number;
  skipped_rows: number;
  by_reason: Record<string, number>;
}

export interface DeduplicationReport {
  strategy: string;
  unique_keys: number;
  merged_duplicates: number;
  segment_memberships: number;
}

export interface ListReport {
  api_name: string;
  existed: boolean | null;
  created: boolean;
  fields_created: string[];
  /** The fields created, with the type and length each was given. */
  fields_created_types: Array<{ name: string; data_type: string; length?: number }>;
  business_key_set: boolean;
  requests: number;
  rows_sent: number;
  inserted: number;
  updated: number;
  failed: number;
  duplicates: number;
  not_found: number;
  not_applied: number;
  /** Rows Selligent counted as failed without identifying them (see `failed_without_detail`). */
  failed_without_detail: number;
}

export interface SegmentReport {
  api_name: string;
  existed: boolean | null;
  created: boolean;
  cleared: boolean;
  rows: number;
  rows_sent: number;
  members_loaded: number;
  not_found: number;
  failed: number;
  /** Rows Selligent counted as failed without identifying them (see the report's `failed_without_detail`). */
  failed_without_detail: number;
  skipped_rejected_keys: number;
  requests: number;
  status: 'succeeded' | 'partial' | 'failed' | 'pending' | 'planned';
  /** The routing values that name this Segment when more than one spelling does (api names match case-insensitively). */
  routing_values?: string[];
  /** The membership change of a replaced Segment that existed; absent when no plan was made. */
  replace?: SegmentReplaceReport;
}

/**
 * How a replaced existing Segment changed. Memberships, not input rows: the input-row accounting does
 * not count them.
 */
export interface SegmentReplaceReport {
  strategy: 'clear_then_load' | 'load_then_remove';
  /** Members read before the first write. */
  members_before: number;
  /** New members the answers say were added (load_then_remove), or loaded after the clear (clear_then_load). */
  added: number;
  /** Members before that the plan keeps (load_then_remove: left untouched). */
  kept: number;
  /** Members the removal answers say were removed (clear_then_load: members_before once cleared). */
  removed: number;
  /** members_before - removed + added, as answered. */
  after: number;
  /** Members the plan expects once the run is done. */
  planned_after: number;
  /** Segment search requests made to read the members before. */
  search_requests: number;
  removal_requests: number;
  /** The blast-radius guard's verdict: `overridden` when force let a stopping change through. */
  guard: 'ok' | 'stopped' | 'overridden';
  guard_message?: string;
}

/** One batch in which Selligent counted failed rows without identifying them. */
export interface UndetailedFailureReport {
  stage: 'list-load' | 'segment-load';
  /** The List's or the Segment's api_name. */
  target: string;
  batch_rows: number;
  /** Lowest and highest input row number in the batch. */
  first_row: number;
  last_row: number;
  failed: number;
}

/** The client's own request statistics, plus the batches the pipeline split. */
export interface HttpReport extends ClientStats {
  split_batches: number;
}

export interface AccountingReport {
  input_rows: number;
  skipped: number;
  merged_duplicates: number;
  rejected: number;
  not_applied: number;
  not_applied_by_reason: Record<string, number>;
  loaded: number;
  /** sync_mode changes only: rows not sent because the state records them as they are. */
  unchanged?: number;
  balanced: boolean;
}

export interface DryRunPlan {
  list_to_create: boolean;
  fields_to_create: Array<{ name: string; data_type: string; length?: number }>;
  business_key_to_set: string[] | null;
  list_rows: number;
  list_requests: number;
  segments: Array<{
    api_name: string;
    rows: number;
    create: boolean;
    clear: boolean;
    requests: number;
    /** The plan of a replaced existing Segment, when one was made (reads only). */
    replace?: DryRunReplacePlan;
  }>;
  /** Every request a real run would make, grouped by what it does, in the order it would make them. */
  steps?: DryRunStep[];
  /** The sum of the steps' requests. */
  requests: number;
}

export interface DryRunStep {
  action: string;
  /** The List or Segment the requests are for. */
  target: string;
  requests: number;
  /** Rows (List) or members (Segment) the requests carry. */
  rows?: number;
}

export interface DryRunReplacePlan {
  strategy: 'clear_then_load' | 'load_then_remove';
  members_now: number;
  to_add: number;
  to_keep: number;
  to_remove: number;
  after: number;
  /** Segment search requests made for the plan (already made: they are reads). */
  search_requests: number;
  /** Member removal requests the run would make at segment_batch_rows. */
  removal_requests: number;
  guard: 'ok' | 'would_stop' | 'overridden';
  guard_message?: string;
}

/** Something worth a look that did not fail the run; `code` is stable. */
export interface RunWarning {
  code: string;
  message: string;
}

export interface ErrorReport {
  code: string;
  message: string;
  stage: string | null;
  exit_code: number;
}

/** Rows per Segment load request: the first size, the smallest and largest sent, the next size, and the limit. */
export interface SegmentBatchRowsReport {
  initial: number;
  smallest: number | null;
  largest: number | null;
  final: number;
  max: number;
}

/** The rows file: one line per input row not loaded (and per Segment member rejected), with its reason. */
export interface RowsFileReport {
  file: string | null;
  /** Lines in the file. */
  count: number;
  /** Lines by stage: validate (skipped), deduplicate (merged away), list-load, segment-load. */
  by_stage?: Record<string, number>;
}

/** Raised when a field changes meaning or goes away; new fields are added without raising it. */
export const REPORT_VERSION = 1;

export interface RunReport {
  report_version: typeof REPORT_VERSION;
  tool: { name: string; version: string };
  status: RunStatus;
  exit_code: number;
  dry_run: boolean;
  started_at: string;
  finished_at: string | null;
  settings_source: string | null;
  settings: Settings | null;
  selligent: { base_url: string | null; organization: string | null; list: string | null };
  stage: string | null;
  input: InputReport;
  validation: ValidationReport;
  deduplication: DeduplicationReport;
  list: ListReport | null;
  segments: SegmentReport[];
  http: HttpReport;
  accounting: AccountingReport | null;
  rejected_rows: RowsFileReport;
  failed_without_detail: UndetailedFailureReport[];
  segment_batch_rows: SegmentBatchRowsReport | null;
  durations_seconds: StageDurations;
  plan: DryRunPlan | null;
  /** sync_mode changes: the comparison with the state; null in full mode. */
  changes: ChangesReport | null;
  warnings: RunWarning[];
  error: ErrorReport | null;
}

/** How the pointer replacement was protected against a concurrent run. */
export type CommitGuarantee =
  /** The store refused the write itself when the pointer had changed (S3 If-Match / If-None-Match). */
  | 'conditional-write'
  /** A lock file held while the pointer was compared and renamed into place (local directory). */
  | 'lock-and-rename'
  /**
   * The pointer was compared before the write and read back after it: a run that overwrote another's
   * commit finds out, but two commits within one round trip can both believe they won (the later one holds).
   */
  | 'read-compare';

/** The run report's `changes` block (null in the report when sync_mode is full). */
export interface ChangesReport {
  mode: 'changes' | 'full-resync' | 'reset';
  /** The state location, without credentials. */
  state: string;
  generation_read: number | null;
  /** null until committed: a failed, dry or conflicting run writes none. */
  generation_written: number | null;
  rows_in_state: number;
  new: number;
  changed: number;
  unchanged: number;
  left_input: number;
  /** Per Segment: memberships added and removed (removals only under replace). */
  segments: Record<string, { added: number; removed: number }>;
  /** Member removal requests made (or, in a dry run, that would be made). */
  removal_requests: number;
  /** Compressed bytes of the state read and of the state written. */
  state_bytes_read: number;
  state_bytes_written: number | null;
  /** Why this run did not compare with the state (identity change, --full-resync, no state yet), else null. */
  reset_reason: string | null;
  /** How the commit was protected against a concurrent run, or null when nothing was committed. */
  commit_guarantee: CommitGuarantee | null;
  /** STATE_CONFLICT when another run committed first; this run's state was then not committed. */
  commit_error: string | null;
}
