import type { Settings } from '../config/settings.js';
import type { Stage } from '../errors.js';
import type {
  AccountingReport,
  DeduplicationReport,
  DryRunPlan,
  InputReport,
  ListReport,
  RowsFileReport,
  RunWarning,
  SegmentBatchRowsReport,
  SegmentReport,
  StageDurations,
  UndetailedFailureReport,
  ValidationReport,
} from '../report/types.js';
import type { ClientStats } from '../selligent/stats.js';
import type { ChangesReport } from '../report/types.js';
import type { LoadTally } from './send-batches.js';
import { RowNumberSet } from './rejected.js';
import { emptyTally } from './send-batches.js';

/**
 * What the pipeline's stages found and did. The orchestrator owns it and each stage fills its own part
 * as it goes (the owner is named beside each field), so a failure leaves the counts up to that point
 * for the report, which is built from this once the run is over.
 */
export interface PipelineResults {
  /** Stage runner: the stage running, or the last one entered. */
  stage: Stage | null;
  /** Stage runner: seconds spent in each stage. */
  durations: StageDurations;
  /** Preflight and List set-up, in the order raised. */
  warnings: RunWarning[];
  /** Output set-up, then every stage that rejects rows. */
  rejectedRows: RowsFileReport;
  /** Read and validate. */
  input: InputReport;
  validation: ValidationReport;
  /** Read and validate: the row counts the accounting starts from; null until the input is read. */
  rows: ReadRows | null;
  /** Output set-up (the strategy), then the accounting. */
  deduplication: DeduplicationReport;
  /** Deduplication, in the List load or the dry run. */
  listCounts: ListCounts;
  /** Preflight creates it; List set-up and List load fill it. */
  list: ListReport | null;
  /** Segment set-up and Segment load, or the dry run. */
  segments: SegmentReport[];
  /** Segment load. */
  segmentBatchRows: SegmentBatchRowsReport | null;
  /** List load and Segment load. */
  failedWithoutDetail: UndetailedFailureReport[];
  splitBatches: number;
  /** The dry run. */
  plan: DryRunPlan | null;
  /** sync_mode changes: the comparison with the state and its commit. */
  changes: ChangesReport | null;
  /** sync_mode changes: puts the state written by this run in force; run.ts calls it once the status is known. */
  commitState: ((commit: boolean) => Promise<void>) | null;
  /** The end of the pipeline, from the figures above. */
  accounting: AccountingReport | null;
  /** The Selligent client's own statistics, once it exists. */
  http: ClientStats | null;
}

export interface ReadRows {
  inputRows: number;
  skipped: number;
  /** Valid rows written to the spool: every valid row, or the accounting is off. */
  spooledRows: number;
}

/** Tallies of the deduplication and List stages that the accounting is built from. */
export interface ListCounts {
  winners: number;
  merged: number;
  tally: LoadTally;
  /** Rows whose values do not convert to their field's type: rejected before sending. */
  clientRejected: number;
  /** Input row numbers of List rows that were rejected: their keys are not loaded into Segments. */
  rejectedRows: RowNumberSet;
  /** changes mode: winners not sent because the state records them as they are; undefined in full mode. */
  unchanged?: number;
  /** Every deduplicated row was sent (or planned, in a dry run). */
  complete: boolean;
}

export function emptyPipelineResults(): PipelineResults {
  return {
    stage: null,
    durations: {},
    warnings: [],
    rejectedRows: { file: null, count: 0 },
    input: {
      location: null,
      format: null,
      compression: null,
      objects: [],
      bytes: 0,
      rows: 0,
      columns: [],
      types_from: null,
    },
    validation: { valid_rows: 0, skipped_rows: 0, by_reason: {} },
    rows: null,
    deduplication: { strategy: '', unique_keys: 0, merged_duplicates: 0, segment_memberships: 0 },
    listCounts: {
      winners: 0,
      merged: 0,
      tally: emptyTally(),
      clientRejected: 0,
      rejectedRows: new RowNumberSet(),
      complete: false,
    },
    list: null,
    segments: [],
    segmentBatchRows: null,
    failedWithoutDetail: [],
    splitBatches: 0,
    plan: null,
    changes: null,
    commitState: null,
    accounting: null,
    http: null,
  };
}

/** The settings stage (settings, input, credentials), filled as each is found, so a failure keeps what was. */
export interface SettingsResult {
  /** Where the settings came from: a file path or an environment variable name. */
  source: string | null;
  settings: Settings | null;
  baseUrl: string | null;
  warnings: RunWarning[];
}

export function emptySettingsResult(): SettingsResult {
  return { source: null, settings: null, baseUrl: null, warnings: [] };
}
