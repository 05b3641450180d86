/** Types the parts of the benchmark pass between them. */
import type { DataMeta } from './data.js';
import type { S3Server } from './s3.js';

/** The parts of the exporter's run report the benchmark reads. */
export interface ExporterReport {
  status: string;
  exit_code: number;
  input: { rows: number; bytes: number };
  validation: { valid_rows: number; skipped_rows: number; by_reason: Record<string, number> };
  deduplication: { unique_keys: number; merged_duplicates: number; segment_memberships: number };
  list: {
    requests: number;
    rows_sent: number;
    inserted: number;
    updated: number;
    failed: number;
    created: boolean;
  } | null;
  segments: Array<{
    api_name: string;
    rows: number;
    rows_sent: number;
    members_loaded: number;
    requests: number;
    created: boolean;
  }>;
  http: {
    requests: number;
    by_route: Record<string, number>;
    by_status: Record<string, number>;
    retries: number;
    rate_limited: number;
    rate_limit_waits: number;
    rate_limit_wait_seconds: number;
    pacing_wait_seconds: number;
    split_batches: number;
  };
  accounting: { balanced: boolean; loaded: number; rejected: number } | null;
  /** Sizes the adaptive Segment batching went through (absent from builds without it). */
  segment_batch_rows?: { initial: number; smallest: number; largest: number; final: number; max: number } | null;
  durations_seconds: Record<string, number | undefined>;
  error: { code: string; message: string } | null;
}

export const STAGES = ['read', 'preflight', 'list_setup', 'list_load', 'segment_setup', 'segment_load'] as const;

/** What every run of one invocation shares: the build under test and the uploaded input. */
export interface BenchEnv {
  /** The exporter's `cli.js` (a snapshot of dist/ or a commit compiled apart). */
  cli: string;
  meta: DataMeta;
  s3: S3Server;
  /** Key of the uploaded input in the benchmark's bucket. */
  key: string;
}

/** One run's figures, as they go into the JSON document (see figures.ts for the fields). */
export type RunFigures = Record<string, unknown>;

/** A figure judged against its target. */
export interface Target {
  name: string;
  value: number | string | null;
  target: string;
  met: boolean | null;
  note: string;
}
