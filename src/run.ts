import { dirname, join, basename } from 'node:path';
import { loadSettings } from './config/load.js';
import { credentialsFromEnv } from './config/credentials.js';
import type { Settings } from './config/settings.js';
import { ConfigError, ExitCode, InterruptedError, asExporterError, type ExporterError } from './errors.js';
import { createLogger, printLine, type Logger } from './log.js';
import { exportToSelligent, type PipelineOptions } from './pipeline/export.js';
import { emptyReport, hasWritten } from './report/build.js';
import { summaryLine } from './report/summary.js';
import type { RunReport } from './report/types.js';
import { checkReportLocation, resolveReportPath, writeReport } from './report/writer.js';
import { registerSecretsFromEnv } from './secrets.js';

export interface RunCommandOptions {
  settingsPath?: string;
  input?: string;
  format?: string;
  schemaPath?: string;
  reportPath?: string;
  rejectedPath?: string;
  tempDir?: string;
  dryRun: boolean;
  /** `--full-resync`: with sync_mode changes, send every row and write a fresh state. */
  fullResync?: boolean;
  env: NodeJS.ProcessEnv;
  cwd?: string;
  logger?: Logger;
  /** Aborts the run after the request in flight; the CLI wires SIGTERM/SIGINT to it. */
  signal?: AbortSignal;
  /** Print the summary line (the CLI does; embedding callers may not want it). */
  printSummary?: boolean;
}

export interface RunOutcome {
  exitCode: number;
  report: RunReport;
  reportPath: string;
}

/** One export run: settings and credentials, the pipeline, then the report, whatever happened. */
export async function runCommand(options: RunCommandOptions): Promise<RunOutcome> {
  const env = options.env;
  const logger = options.logger ?? createLogger({}, env);
  const cwd = options.cwd ?? process.cwd();
  const reportPath = resolveReportPath(options.reportPath, env, cwd);
  const report = emptyReport(options.dryRun);
  const started = performance.now();

  const controller = new AbortController();
  const onSignal = (reason: unknown) => {
    if (controller.signal.aborted) return;
    const text = String(reason);
    logger.warn({ signal: text }, /^SIG[A-Z]+$/.test(text) ? `received ${text}: stopping after the request in flight` : `stopping after the request in flight: ${text}`);
    controller.abort(reason);
  };
  const installSignals = !options.signal;
  if (installSignals) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  } else {
    const outer = options.signal!;
    // The CLI catches signals from its first instruction: one may have come before this run began.
    if (outer.aborted) onSignal(outer.reason);
    else outer.addEventListener('abort', () => onSignal(outer.reason), { once: true });
  }

  let failure: ExporterError | undefined;
  let settings: Settings | undefined;
  /** The summary line then says so instead of naming a file that is not there. */
  let reportNotWritten = false;
  try {
    // First: the secret check can fail, and every line after it must be scrubbed.
    registerSecretsFromEnv(env);
    try {
      await checkReportLocation(reportPath);
    } catch (error) {
      reportNotWritten = true;
      throw error;
    }
    throwIfInterrupted(controller.signal);
    const loaded = await loadSettings(options.settingsPath, env);
    settings = loaded.settings;
    report.settings_source = loaded.from;
    report.settings = settings;
    report.selligent.organization = settings.organization;
    report.selligent.list = settings.list_api_name;
    const input = options.input ?? env.INPUT_URI;
    if (!input) {
      throw new ConfigError('INPUT_MISSING', 'no input: pass --input URI (a local path, file://, s3://bucket/key or s3://bucket/prefix/) or set INPUT_URI', { stage: 'settings' });
    }
    const credentials = credentialsFromEnv(env);
    report.selligent.base_url = credentials.baseUrl;
    const pipelineOptions: PipelineOptions = {
      settings,
      credentials,
      input,
      format: options.format ?? env.INPUT_FORMAT,
      schemaPath: options.schemaPath ?? env.SCHEMA_PATH,
      rejectedPath: options.rejectedPath ?? env.REJECTED_PATH ?? defaultRejectedPath(reportPath),
      tempDir: options.tempDir ?? env.SELLIGENT_EXPORT_TMPDIR,
      dryRun: options.dryRun,
      logger,
      signal: controller.signal,
      env,
    };
    logger.info(
      { organization: settings.organization, list: settings.list_api_name, input, dryRun: options.dryRun, settingsFrom: loaded.from },
      `export starting${options.dryRun ? ' (dry run: nothing will be written)' : ''}`,
    );
    throwIfInterrupted(controller.signal);
    await exportToSelligent(pipelineOptions, report);
  } catch (error) {
    failure = asExporterError(error);
  } finally {
    if (installSignals) {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    }
  }

  report.durations_seconds.total = round((performance.now() - started) / 1000);
  report.finished_at = new Date().toISOString();
  let exitCode = settle(report, failure, settings, logger);

  if (!reportNotWritten) {
    try {
      await writeReport(reportPath, report);
    } catch (error) {
      reportNotWritten = true;
      logger.error({ reportPath, reason: (error as Error).message }, 'could not write the run report');
      // A run whose outcome is not recorded did not succeed; what it wrote is still in Selligent.
      if (exitCode === ExitCode.ok) exitCode = report.exit_code = hasWritten(report) ? ExitCode.partial : ExitCode.config;
    }
  }
  if (options.printSummary !== false) printLine(summaryLine(report, reportNotWritten ? 'not written' : reportPath));
  return { exitCode, report, reportPath };
}

/** Decides status and exit code from the outcome and records the failure in the report. */
function settle(report: RunReport, failure: ExporterError | undefined, settings: Settings | undefined, logger: Logger): number {
  if (failure) {
    // A configuration or input problem found after writes is still a partial failure: the state changed.
    const exitCode = hasWritten(report) && (failure.exitCode === ExitCode.config || failure.exitCode === ExitCode.input) ? ExitCode.partial : failure.exitCode;
    report.status = 'failed';
    report.exit_code = exitCode;
    report.error = { code: failure.code, message: failure.message, stage: failure.stage ?? report.stage, exit_code: exitCode };
    if (failure.exitCode === ExitCode.internal) {
      logger.error({ code: failure.code, stage: report.error.stage, stack: failure.stack }, failure.message);
    } else {
      logger.error({ code: failure.code, stage: report.error.stage, exitCode }, failure.message);
    }
    return exitCode;
  }
  // Rows Selligent counted as failed without naming them failed all the same: they count like rejections.
  const withoutDetail = report.failed_without_detail.reduce((sum, batch) => sum + batch.failed, 0);
  const rejected = (report.accounting?.rejected ?? 0) + report.segments.reduce((sum, s) => sum + s.failed, 0) + withoutDetail;
  const byReason = report.accounting?.not_applied_by_reason ?? {};
  const unsure = (byReason.unknown ?? 0) + (byReason.outcome_unknown ?? 0);
  report.stage = null;
  report.status = rejected > 0 || unsure > 0 || report.segments.some((s) => s.status === 'partial') ? 'partial' : 'succeeded';
  report.exit_code = ExitCode.ok;
  if (rejected > 0 && settings && exceedsTolerance(rejected, report.accounting?.input_rows ?? 0, settings)) {
    report.exit_code = ExitCode.partial;
    report.error = {
      code: 'REJECTIONS_OVER_TOLERANCE',
      message: `Selligent rejected ${rejected} row(s), more than the tolerance (max_rejected_rows ${settings.max_rejected_rows ?? 'unset'}, max_rejected_ratio ${settings.max_rejected_ratio ?? 'unset'}); see ${report.rejected_rows.file ?? 'the rejected-rows file'}`,
      stage: 'report',
      exit_code: ExitCode.partial,
    };
    logger.error({ code: report.error.code, rejected }, report.error.message);
  }
  return report.exit_code;
}

export function exceedsTolerance(rejected: number, inputRows: number, settings: Pick<Settings, 'max_rejected_rows' | 'max_rejected_ratio'>): boolean {
  if (settings.max_rejected_rows !== null && rejected > settings.max_rejected_rows) return true;
  if (settings.max_rejected_ratio !== null && inputRows > 0 && rejected / inputRows > settings.max_rejected_ratio) return true;
  return false;
}

/** A signal that came while the run was starting: it stops before reading or writing anything. */
function throwIfInterrupted(signal: AbortSignal): void {
  if (!signal.aborted) return;
  const error = new InterruptedError(signal.reason);
  error.stage = 'settings';
  throw error;
}

function defaultRejectedPath(reportPath: string): string {
  const name = basename(reportPath).replace(/\.json$/i, '');
  return join(dirname(reportPath), `${name}.rejected.jsonl`);
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
