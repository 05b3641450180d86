import type { Settings } from '../config/settings.js';
import { ExitCode, failureExitCode, type ErrorCode, type ExporterError } from '../errors.js';
import type { AccountingReport, ErrorReport, RunStatus, SegmentReport, UndetailedFailureReport } from './types.js';

export interface SettleInputs {
  failure: ExporterError | undefined;
  /** The stage running when the run ended (named for a failure that does not name its own). */
  stage: string | null;
  /** Anything may have changed in Selligent (`hasWritten`). */
  written: boolean;
  accounting: AccountingReport | null;
  segments: SegmentReport[];
  failedWithoutDetail: UndetailedFailureReport[];
  /** Undefined when the settings could not be read. */
  settings: Pick<Settings, 'max_rejected_rows' | 'max_rejected_ratio'> | undefined;
  rejectedFile: string | null;
}

/** How a run ended, and the line to log about it (an error line, when there is one). */
export interface Outcome {
  status: RunStatus;
  exitCode: number;
  /** The report's `stage`: null when the run finished, else the stage it was in. */
  stage: string | null;
  error: ErrorReport | null;
  log: { fields: Record<string, unknown>; message: string } | null;
}

/** Decides the status and exit code from the failure (if any), what was written and what was rejected. */
export function settle(inputs: SettleInputs): Outcome {
  const { failure, settings } = inputs;
  if (failure) {
    // A configuration or input problem found after writes is still a partial failure: the state changed.
    const exitCode = failureExitCode(failure, inputs.written);
    const stage = failure.stage ?? inputs.stage;
    const fields =
      failure.exitCode === ExitCode.internal
        ? { code: failure.code, stage, stack: failure.stack }
        : { code: failure.code, stage, exitCode };
    return {
      status: 'failed',
      exitCode,
      stage: inputs.stage,
      error: { code: failure.code, message: failure.message, stage, exit_code: exitCode },
      log: { fields, message: failure.message },
    };
  }
  const rejected = rejectedRows(inputs);
  const byReason = inputs.accounting?.not_applied_by_reason ?? {};
  const unsure = (byReason.unknown ?? 0) + (byReason.outcome_unknown ?? 0);
  const status =
    rejected > 0 || unsure > 0 || inputs.segments.some((s) => s.status === 'partial') ? 'partial' : 'succeeded';
  if (rejected > 0 && settings && exceedsTolerance(rejected, inputs.accounting?.input_rows ?? 0, settings)) {
    const error: ErrorReport = {
      code: 'REJECTIONS_OVER_TOLERANCE' satisfies ErrorCode,
      message: `Selligent rejected ${rejected} row(s), more than the tolerance (max_rejected_rows ${settings.max_rejected_rows ?? 'unset'}, max_rejected_ratio ${settings.max_rejected_ratio ?? 'unset'}); see ${inputs.rejectedFile ?? 'the rejected-rows file'}`,
      stage: 'report',
      exit_code: ExitCode.partial,
    };
    return {
      status,
      exitCode: ExitCode.partial,
      stage: null,
      error,
      log: { fields: { code: error.code, rejected }, message: error.message },
    };
  }
  return { status, exitCode: ExitCode.ok, stage: null, error: null, log: null };
}

/** Rows Selligent counted as failed without naming them failed all the same: they count like rejections. */
function rejectedRows(inputs: Pick<SettleInputs, 'accounting' | 'segments' | 'failedWithoutDetail'>): number {
  const withoutDetail = inputs.failedWithoutDetail.reduce((sum, batch) => sum + batch.failed, 0);
  return (inputs.accounting?.rejected ?? 0) + inputs.segments.reduce((sum, s) => sum + s.failed, 0) + withoutDetail;
}

export function exceedsTolerance(
  rejected: number,
  inputRows: number,
  settings: Pick<Settings, 'max_rejected_rows' | 'max_rejected_ratio'>,
): boolean {
  if (settings.max_rejected_rows !== null && rejected > settings.max_rejected_rows) return true;
  if (settings.max_rejected_ratio !== null && inputRows > 0 && rejected / inputRows > settings.max_rejected_ratio)
    return true;
  return false;
}

/**
 * The exit code once the report could not be written: a run whose outcome is not recorded did not
 * succeed; what it wrote is still in Selligent.
 */
export function exitCodeWithoutReport(exitCode: number, written: boolean): number {
  if (exitCode !== ExitCode.ok) return exitCode;
  return written ? ExitCode.partial : ExitCode.config;
}
