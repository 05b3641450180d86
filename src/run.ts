import { dirname, join, basename } from 'node:path';
import { loadSettings } from './config/load.js';
import { credentialsFromEnv } from './config/credentials.js';
import { ConfigError, InterruptedError, asExporterError, type ExporterError } from './errors.js';
import { createLogger, printLine, type Logger } from './log.js';
import { exportToSelligent, type PipelineOptions } from './pipeline/export.js';
import { emptyPipelineResults, emptySettingsResult, type SettingsResult } from './pipeline/results.js';
import { roundSeconds } from './rounding.js';
import { buildReport, hasWritten } from './report/build.js';
import { exitCodeWithoutReport, settle } from './report/settle.js';
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
  /** Overrides the Segment guard for this run: the setting `force`, set from the command line. */
  force?: boolean;
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
  const startedAt = new Date().toISOString();
  const started = performance.now();
  const settingsResult = emptySettingsResult();
  const results = emptyPipelineResults();

  const controller = new AbortController();
  const onSignal = (reason: unknown) => {
    if (controller.signal.aborted) return;
    const text = String(reason);
    logger.warn(
      { signal: text },
      /^SIG[A-Z]+$/.test(text)
        ? `received ${text}: stopping after the request in flight`
        : `stopping after the request in flight: ${text}`,
    );
    controller.abort(reason);
  };
  const outer = options.signal;
  if (!outer) {
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
  } else {
    // The CLI catches signals from its first instruction: one may have come before this run began.
    if (outer.aborted) onSignal(outer.reason);
    else outer.addEventListener('abort', () => onSignal(outer.reason), { once: true });
  }

  let failure: ExporterError | undefined;
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
    const pipelineOptions = await settingsStage(
      options,
      { reportPath, logger, signal: controller.signal },
      settingsResult,
    );
    logger.info(
      {
        organization: pipelineOptions.settings.organization,
        list: pipelineOptions.settings.list_api_name,
        input: pipelineOptions.input,
        dryRun: options.dryRun,
        settingsFrom: settingsResult.source,
      },
      `export starting${options.dryRun ? ' (dry run: nothing will be written)' : ''}`,
    );
    throwIfInterrupted(controller.signal);
    await exportToSelligent(pipelineOptions, results);
  } catch (error) {
    failure = asExporterError(error);
  } finally {
    if (!outer) {
      process.removeListener('SIGTERM', onSignal);
      process.removeListener('SIGINT', onSignal);
    }
  }

  const totalSeconds = roundSeconds((performance.now() - started) / 1000);
  const written = hasWritten(results.list, results.segments);
  const outcome = settle({
    failure,
    stage: results.stage,
    written,
    accounting: results.accounting,
    segments: results.segments,
    failedWithoutDetail: results.failedWithoutDetail,
    settings: settingsResult.settings ?? undefined,
    rejectedFile: results.rejectedRows.file,
  });
  if (outcome.log) logger.error(outcome.log.fields, outcome.log.message);
  if (results.commitState) {
    // The changes-only state is put in force only by a run whose writes are done and accepted.
    await results.commitState(outcome.status === 'succeeded' || outcome.status === 'partial');
  }
  let report = buildReport({
    dryRun: options.dryRun,
    startedAt,
    finishedAt: new Date().toISOString(),
    totalSeconds,
    settings: settingsResult,
    pipeline: results,
    outcome,
  });

  if (!reportNotWritten) {
    try {
      await writeReport(reportPath, report);
    } catch (error) {
      reportNotWritten = true;
      logger.error({ reportPath, reason: (error as Error).message }, 'could not write the run report');
      report = { ...report, exit_code: exitCodeWithoutReport(report.exit_code, written) };
    }
  }
  if (options.printSummary !== false) printLine(summaryLine(report, reportNotWritten ? 'not written' : reportPath));
  return { exitCode: report.exit_code, report, reportPath };
}

/**
 * The settings stage: the settings, the input and the credentials, each recorded in `result` once found.
 * Returns the pipeline's options.
 */
async function settingsStage(
  options: RunCommandOptions,
  run: { reportPath: string; logger: Logger; signal: AbortSignal },
  result: SettingsResult,
): Promise<PipelineOptions> {
  const env = options.env;
  const loaded = await loadSettings(options.settingsPath, env);
  let settings = loaded.settings;
  // Command-line flags that hold for this run only win over the settings file.
  if (options.force) settings = { ...settings, force: true };
  if (options.fullResync) settings = { ...settings, full_resync: true };
  result.source = loaded.from;
  result.settings = settings;
  const input = options.input ?? env.INPUT_URI;
  if (!input) {
    throw new ConfigError(
      'INPUT_MISSING',
      'no input: pass --input URI (a local path, file://, s3://bucket/key or s3://bucket/prefix/) or set INPUT_URI',
      { stage: 'settings' },
    );
  }
  const credentials = credentialsFromEnv(env);
  result.baseUrl = credentials.baseUrl;
  return {
    settings,
    credentials,
    input,
    format: options.format ?? env.INPUT_FORMAT,
    schemaPath: options.schemaPath ?? env.SCHEMA_PATH,
    rejectedPath: options.rejectedPath ?? env.REJECTED_PATH ?? defaultRejectedPath(run.reportPath),
    tempDir: options.tempDir ?? env.SELLIGENT_EXPORT_TMPDIR,
    dryRun: options.dryRun,
    logger: run.logger,
    signal: run.signal,
    env,
  };
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
