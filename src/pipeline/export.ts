import { rm } from 'node:fs/promises';
import { InternalError } from '../errors.js';
import { SelligentClient } from '../selligent/client.js';
import { accountRun } from './accounting.js';
import type { PipelineOptions, RunContext } from './context.js';
import { planDryRun } from './dry-run.js';
import { loadList } from './list-load.js';
import { emptyListReport, setUpList } from './list-setup.js';
import { checkOrganization, preflight } from './preflight.js';
import { Progress } from './progress.js';
import { readAndValidate } from './read.js';
import { RejectedRowsFile } from './rejected.js';
import type { PipelineResults } from './results.js';
import { loadSegments } from './segment-load.js';
import { createMissingSegments, emptySegmentReport, type SegmentLoad } from './segment-setup.js';
import { createSpoolDir } from './spool-dir.js';
import { SegmentSpool } from './segment-spool.js';
import { runStage } from './stage-runner.js';
import { guardStop, planReplacements, replaceReport, type ReplacePlan } from './replace-plan.js';
import type { SegmentReport } from '../report/types.js';
import { openChangeSync } from '../state/sync-run.js';
import { planRemovals, removeLeftMembers } from './segment-removals.js';

export type { PipelineOptions };

/**
 * The whole run, stage after stage: preflight (organization), read and validate, preflight (List,
 * fields, Segments), then either the dry-run plan, or List set-up, List load (deduplicating on the way),
 * Segment set-up and Segment loads. Each stage fills its part of `results`, so a failure at any point
 * still leaves the figures for a truthful report.
 */
export async function exportToSelligent(options: PipelineOptions, results: PipelineResults): Promise<void> {
  const { settings, logger } = options;
  const rejected = new RejectedRowsFile(options.rejectedPath);
  const progress = new Progress(logger);
  const client = new SelligentClient(options.credentials, {
    retry: {
      maxAttempts: settings.max_attempts,
      budgetMs: settings.retry_budget_seconds * 1000,
      baseDelayMs: 500,
      maxDelayMs: 60_000,
      listBusy: { budgetMs: settings.list_busy_retry_seconds * 1000, baseDelayMs: 2_000, maxDelayMs: 30_000 },
    },
    connectTimeoutMs: settings.connect_timeout_seconds * 1000,
    requestTimeoutMs: settings.request_timeout_seconds * 1000,
    requestsPerMinute: settings.requests_per_minute,
    splitAfterTimeouts: 2,
    logger,
    signal: options.signal,
  });
  results.http = client.stats;
  // Output locations are checked before anything is read or written: an unusable one is a configuration error.
  let workDir: string;
  try {
    await rejected.open();
    workDir = await createSpoolDir(options.tempDir, logger);
  } catch (error) {
    client.close();
    await rejected.close().catch(() => undefined);
    throw error;
  }
  results.rejectedRows.file = options.rejectedPath;
  const ctx: RunContext = { options, settings, logger, results, rejected, progress, client, workDir };
  results.deduplication.strategy = settings.deduplication;
  const counts = results.listCounts;
  const stage = <T>(name: Parameters<typeof runStage>[2], work: () => Promise<T>) =>
    runStage(results, progress, name, work);
  progress.start();
  try {
    await stage('preflight', () => checkOrganization(ctx));
    const read = await stage('read', () => readAndValidate(ctx));
    results.rows = { inputRows: read.inputRows, skipped: read.skipped, spooledRows: read.spooledRows };
    const checked = await stage('preflight', () => preflight(ctx, read.plan, read.segments));
    logger.info(
      {
        rows: read.inputRows,
        valid: read.inputRows - read.skipped,
        segments: checked.segments.length,
        listExists: checked.listExists,
      },
      'input read and validated; preflight passed',
    );
    // Before any write: a bad state stops the run here with nothing written.
    const sync = (ctx.sync = await stage('preflight', () => openChangeSync(ctx, read.plan)));
    results.changes = sync?.report ?? null;
    if (sync) {
      // Called by run.ts once the run's status is known, whether it got to the end or failed on the way.
      results.commitState = async (commit) => {
        try {
          const wrote = wroteRows(results, sync.report.removal_requests);
          if (commit) await sync.commit(results.warnings, wrote);
          else if (wrote) await sync.recordFailure(results.warnings, logger);
        } finally {
          await sync.close();
        }
      };
    }
    // Reads only, before the first write: each replaced Segment's members now, its plan and the guard's verdict.
    const replacements = await stage('preflight', () => planReplacements(ctx, read, checked.segments));
    const guardStopped = guardStop(replacements);
    for (const plan of replacements) {
      if (plan?.guard.verdict === 'overridden')
        results.warnings.push({ code: 'SEGMENT_GUARD_OVERRIDDEN', message: plan.guard.message });
    }
    const segmentSpool = new SegmentSpool(workDir);
    const list = (results.list = emptyListReport(settings.list_api_name, checked.listExists));
    if (options.dryRun) {
      // Part of preflight for the report (no stage of its own, so no duration of its own).
      const plan = await planDryRun(ctx, read, checked, segmentSpool, counts, replacements);
      results.segments = checked.segments.map((segment, i) =>
        withReplace(
          { ...emptySegmentReport(segment, segmentSpool.rows(i)), status: 'planned' as const },
          replacements[i],
        ),
      );
      if (sync) {
        sync.report.removal_requests = await planRemovals(ctx);
        plan.requests += sync.report.removal_requests;
      }
      results.plan = plan;
      logger.info({ plan: { ...plan, segments: plan.segments.length } }, 'dry run: nothing was written');
      return;
    }
    if (guardStopped) {
      // The plan goes into the report so the change the guard refused can be read there.
      results.segments = checked.segments.map((segment, i) =>
        withReplace(emptySegmentReport(segment, segment.validRows), replacements[i]),
      );
      throw guardStopped;
    }
    await stage('list-setup', () => setUpList(ctx, checked, list));
    await stage('list-load', () => loadList(ctx, read, checked.segments, segmentSpool, counts, list));
    const targets: SegmentLoad[] = checked.segments.map((segment, index) => {
      const replace = replacements[index];
      return {
        segment,
        index,
        entry: withReplace(emptySegmentReport(segment, segmentSpool.rows(index)), replace),
        ...(replace ? { replace } : {}),
      };
    });
    results.segments = targets.map((target) => target.entry);
    await stage('segment-setup', () => createMissingSegments(ctx, targets));
    await stage('segment-load', () =>
      loadSegments(
        ctx,
        read.plan,
        targets,
        segmentSpool,
        counts.rejectedRows,
        (sizes) => (results.segmentBatchRows = sizes),
      ),
    );
    if (sync) {
      await stage('segment-load', () => removeLeftMembers(ctx, read.plan));
      // Stored now, in force only once the run's status is known (run.ts); a run that fails instead puts
      // the state it compared with in force again, with the rows it sent unconfirmed (recordFailure).
      const notApplied = sync.applied.listNotApplied;
      progress.enter('state-write');
      await sync.writeState(
        sync.journalFile,
        (row) => !counts.rejectedRows.has(row) && !notApplied.has(row),
        read.spooled.groups.length,
      );
    }
  } finally {
    progress.stop();
    client.close();
    if (!results.commitState) await ctx.sync?.close();
    if (results.rows) {
      results.accounting = accountRun(results.rows, counts);
      results.deduplication.unique_keys = counts.winners;
      results.deduplication.merged_duplicates = counts.merged;
      results.deduplication.segment_memberships = results.segments.reduce((sum, s) => sum + s.rows, 0);
    }
    results.rejectedRows.count = rejected.count;
    results.rejectedRows.by_stage = { ...rejected.byStage };
    await rejected.close().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true, maxRetries: 3 }).catch((error: Error) =>
      logger.warn({ workDir, reason: error.message }, 'could not remove the spool directory'),
    );
  }
  if (results.accounting && !results.accounting.balanced) {
    throw new InternalError(
      'ACCOUNTING_MISMATCH',
      `the run does not account for every input row: ${JSON.stringify(results.accounting)}`,
      { stage: 'report' },
    );
  }
}

function withReplace<T extends SegmentReport>(entry: T, plan: ReplacePlan | undefined): T {
  return plan ? { ...entry, replace: replaceReport(plan) } : entry;
}

/** Whether the run wrote List rows or Segment members (loads, clears or removals) to Selligent. */
function wroteRows(results: PipelineResults, removalRequests: number): boolean {
  if ((results.list?.rows_sent ?? 0) > 0 || removalRequests > 0) return true;
  return results.segments.some((segment) => segment.rows_sent > 0 || segment.cleared);
}
