import { ConfigError } from '../errors.js';
import { BatchBuilder, type Batch } from './batches.js';
import type { ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';
import { readLines } from './lines.js';
import { removalSender } from './removal-answer.js';
import { guardDecision } from './segment-guard.js';
import { emptyTally, sendAll, unappliedByFailure } from './send-batches.js';

/**
 * sync_mode changes under replace: removes from each Segment the members the exporter had added (as the
 * state records) that this input no longer puts there. Members someone else added are never named, so
 * never removed. A Segment whose removals were not all applied keeps them recorded: the next run
 * removes them again.
 */
export async function removeLeftMembers(ctx: RunContext, plan: ColumnPlan): Promise<void> {
  const sync = ctx.sync;
  if (!sync) return;
  const { client, settings } = ctx;
  const keyFields = plan.keys.map((key) => key.field);
  const removals = await sync.removalFiles();
  await guardRemovals(ctx, sync, removals);
  for (const { segment, file } of removals) {
    const tally = emptyTally();
    try {
      await sendAll(
        removalBatches(file, settings.segment_batch_rows, settings.batch_bytes),
        {
          kind: 'segment',
          stopOnError: false,
          send: removalSender(client, settings, segment, keyFields),
          reject: () => {
            sync.applied.removalsUnapplied(segment);
            return Promise.resolve();
          },
        },
        tally,
      );
    } finally {
      sync.report.removal_requests += tally.requests;
    }
    if (tally.rejected > 0 || unappliedByFailure(tally.notApplied) > 0) sync.applied.removalsUnapplied(segment);
    ctx.logger.info(
      { segment, removed: tally.loaded, requests: tally.requests },
      `Segment ${segment}: members removed`,
    );
  }
}

/**
 * The blast-radius guard of a changes run, held against the removals the comparison planned before any
 * is sent: the Segment's members are counted as the state records them (the exporter's own; members
 * someone else added are never removed, so they are not at stake). A stop sends no removal at all; the
 * loads before it stand, and the removals stay recorded for the next run.
 */
async function guardRemovals(
  ctx: RunContext,
  sync: NonNullable<RunContext['sync']>,
  removals: ReadonlyArray<{ segment: string; file: string }>,
): Promise<void> {
  const stops: string[] = [];
  for (const { segment, file } of removals) {
    const toRemove = await countLines(file);
    const before = sync.recordedMembers(segment);
    const added = sync.report.segments[segment]?.added ?? 0;
    const decision = guardDecision({
      segment,
      before,
      members: 'members recorded in the state',
      toRemove,
      after: before - toRemove + added,
      settings: ctx.settings,
    });
    if (decision.verdict === 'overridden')
      ctx.results.warnings.push({ code: 'SEGMENT_GUARD_OVERRIDDEN', message: decision.message });
    if (decision.verdict === 'stop') stops.push(decision.message);
  }
  if (stops.length === 0) return;
  for (const { segment } of removals) sync.applied.removalsUnapplied(segment);
  throw new ConfigError(
    'SEGMENT_GUARD',
    `${stops.join('\n')}\nThe List and Segment loads were sent; no member was removed. Check the input; if the change is intended, run once with --force (or set force: true)`,
    { stage: 'segment-load', details: { segments: stops.length } },
  );
}

async function countLines(file: string): Promise<number> {
  let rows = 0;
  for await (const line of readLines(file)) if (line !== '') rows++;
  return rows;
}

async function* removalBatches(file: string, rows: number, bytes: number): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(rows, bytes);
  let index = 0;
  for await (const line of readLines(file)) {
    if (line === '') continue;
    const full = builder.add(index++, line);
    if (full) yield full;
  }
  const last = builder.finish();
  if (last) yield last;
}

/** The dry run: the removal requests the run would make. */
export async function planRemovals(ctx: RunContext): Promise<number> {
  let requests = 0;
  for (const { file } of (await ctx.sync?.removalFiles()) ?? [])
    requests += Math.ceil((await countLines(file)) / ctx.settings.segment_batch_rows);
  return requests;
}
