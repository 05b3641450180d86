import type { PipelineResults, SettingsResult } from '../pipeline/results.js';
import { emptyClientStats } from '../selligent/stats.js';
import { TOOL_NAME, VERSION } from '../version.js';
import type { Outcome } from './settle.js';
import { REPORT_VERSION, type ListReport, type RunReport, type SegmentReport } from './types.js';

export interface ReportInputs {
  dryRun: boolean;
  startedAt: string;
  finishedAt: string;
  totalSeconds: number;
  settings: SettingsResult;
  pipeline: PipelineResults;
  outcome: Outcome;
}

/** The run report, from what the stages found and did and how the run ended. */
export function buildReport(inputs: ReportInputs): RunReport {
  const { settings, pipeline, outcome } = inputs;
  const http = pipeline.http ?? emptyClientStats();
  return {
    report_version: REPORT_VERSION,
    tool: { name: TOOL_NAME, version: VERSION },
    status: outcome.status,
    exit_code: outcome.exitCode,
    dry_run: inputs.dryRun,
    started_at: inputs.startedAt,
    finished_at: inputs.finishedAt,
    settings_source: settings.source,
    settings: settings.settings,
    selligent: {
      base_url: settings.baseUrl,
      organization: settings.settings?.organization ?? null,
      list: settings.settings?.list_api_name ?? null,
    },
    stage: outcome.stage,
    input: pipeline.input,
    validation: pipeline.validation,
    deduplication: pipeline.deduplication,
    list: pipeline.list,
    segments: pipeline.segments,
    http: {
      requests: http.requests,
      by_route: http.by_route,
      by_status: http.by_status,
      retries: http.retries,
      rate_limited: http.rate_limited,
      rate_limit_waits: http.rate_limit_waits,
      rate_limit_wait_seconds: http.rate_limit_wait_seconds,
      pacing_wait_seconds: http.pacing_wait_seconds,
      split_batches: pipeline.splitBatches,
      list_busy_waits: http.list_busy_waits,
      list_busy_wait_seconds: http.list_busy_wait_seconds,
    },
    accounting: pipeline.accounting,
    rejected_rows: { ...pipeline.rejectedRows },
    failed_without_detail: pipeline.failedWithoutDetail,
    segment_batch_rows: pipeline.segmentBatchRows,
    durations_seconds: { ...pipeline.durations, total: inputs.totalSeconds },
    plan: pipeline.plan,
    changes: pipeline.changes,
    warnings: [...settings.warnings, ...pipeline.warnings],
    error: outcome.error,
  };
}

/**
 * True once anything may have changed in Selligent. A load request counts once it was answered as
 * taken (`rows_sent`): a refused first batch changed nothing.
 */
export function hasWritten(list: ListReport | null, segments: SegmentReport[]): boolean {
  if (list && (list.created || list.fields_created.length > 0 || list.business_key_set || list.rows_sent > 0))
    return true;
  return segments.some((segment) => segment.created || segment.cleared || segment.rows_sent > 0);
}
