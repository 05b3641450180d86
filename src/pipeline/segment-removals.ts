import { BatchBuilder, type Batch } from './batches.js';
import type { ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';
import { readLines } from './lines.js';
import { removalSender } from './removal-answer.js';
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
  for (const { segment, file } of await sync.removalFiles()) {
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
  for (const { file } of (await ctx.sync?.removalFiles()) ?? []) {
    let rows = 0;
    for await (const line of readLines(file)) if (line !== '') rows++;
    requests += Math.ceil(rows / ctx.settings.segment_batch_rows);
  }
  return requests;
}
