import { segmentBatchRowsMax } from '../config/settings.js';
import { PartialFailureError } from '../errors.js';
import type { SegmentBatchRowsReport, SegmentReport } from '../report/types.js';
import { AdaptiveBatchSize } from './adaptive-batch.js';
import { BatchBuilder, type Batch } from './batches.js';
import type { ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';
import type { SegmentLoad } from './segment-setup.js';
import type { RowNumberSet } from './rejected.js';
import { emptyTally, rejectedEntry, sendAllRecorded, unappliedByFailure, type LoadTally } from './send-batches.js';
import type { SegmentMember, SegmentSpool } from './segment-spool.js';
import { removalSender } from './removal-answer.js';
import type { ReplacePlan } from './replace-plan.js';

/**
 * Segment requests are sized to be answered in about a third of the vendor's documented 15 s inbound
 * time-out: fast enough to leave room for a slow moment, large enough to spend few requests of the budget.
 */
const SEGMENT_ANSWER_TARGET_MS = 5_000;

/**
 * The Segment loads, one Segment after the other, each cleared first when it is replaced. Each target's
 * `entry` holds its figures; `sizes` receives the batch sizes used, also when a load fails.
 */
export async function loadSegments(
  ctx: RunContext,
  plan: ColumnPlan,
  targets: SegmentLoad[],
  segmentSpool: SegmentSpool,
  rejectedRows: RowNumberSet,
  sizes: (figures: SegmentBatchRowsReport) => void,
): Promise<void> {
  const maxRows = segmentBatchRowsMax(ctx.settings);
  const batchSize = new AdaptiveBatchSize({
    initialRows: ctx.settings.segment_batch_rows,
    maxRows,
    targetMs: SEGMENT_ANSWER_TARGET_MS,
  });
  try {
    for (const target of targets) await loadSegment(ctx, plan, target, segmentSpool, rejectedRows, batchSize);
  } finally {
    sizes({ ...batchSize.figures(), max: maxRows });
  }
}

async function loadSegment(
  ctx: RunContext,
  plan: ColumnPlan,
  { segment, index, entry, replace }: SegmentLoad,
  segmentSpool: SegmentSpool,
  rejectedRows: RowNumberSet,
  batchSize: AdaptiveBatchSize,
): Promise<void> {
  const { client, settings, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;
  ctx.progress.enter(`segment-load ${segment.apiName}`, entry.rows);
  const removeAfter = replace?.strategy === 'load_then_remove';
  // Comparing with a changes-only state, replace removes only what left (see segment-removals.ts).
  if (settings.segment_data_import_option === 'replace' && segment.exists && !removeAfter && !ctx.sync?.comparing) {
    // Cleared only now, after the List load and right before this Segment's own load, so a failure
    // elsewhere never leaves a Segment emptied.
    await client.clearSegment(org, listName, segment.apiName);
    entry.cleared = true;
    if (entry.replace) entry.replace.removed = entry.replace.members_before;
  }
  const tally = emptyTally();
  entry.status = 'failed';
  const outcome = await sendAllRecorded(
    ctx.results,
    { stage: 'segment-load', target: segment.apiName, sync: () => syncSegmentReport(entry, tally) },
    segmentBatches(
      ctx,
      removeAfter
        ? winnerAdds(replace, segmentSpool.memberGroups(index), rejectedRows, entry)
        : segmentSpool.memberGroups(index),
      rejectedRows,
      entry,
      batchSize,
    ),
    {
      kind: 'segment',
      stopOnError: settings.error_handling === 'StopOnError',
      send: (body, rows) =>
        client.loadSegment(
          org,
          listName,
          segment.apiName,
          {
            keyFields: plan.keys.map((key) => key.field),
            fields: plan.keys.map((key) => key.field),
            mode: settings.mode,
            deduplication: settings.deduplication,
            errorHandling: settings.error_handling,
          },
          body,
          rows,
        ),
      reject: (rejection) => {
        ctx.sync?.applied.segmentUnapplied(segment.apiName, [rejection.row]);
        return ctx.rejected.write(rejectedEntry(plan, 'segment-load', rejection, true));
      },
      notAllApplied: (rows) => ctx.sync?.applied.segmentUnapplied(segment.apiName, rows),
      observe: (outcome) => batchSize.observe(outcome),
    },
    tally,
    (batch) => {
      ctx.progress.advance(batch.rows.length);
      syncSegmentReport(entry, tally);
    },
  );
  if (entry.replace) entry.replace.added = tally.loaded;
  let removal: Awaited<ReturnType<typeof removeLeavers>> = 'continue';
  if (removeAfter && outcome !== 'stopped')
    removal = await removeLeavers(ctx, plan, segment.apiName, replace, entry, batchSize);
  if (entry.replace) {
    const r = entry.replace;
    r.after = r.members_before - r.removed + r.added;
  }
  const unapplied = unappliedByFailure(tally.notApplied);
  entry.status =
    outcome === 'stopped' || removal === 'stopped'
      ? 'failed'
      : entry.failed > 0 || entry.not_found > 0 || unapplied > 0
        ? 'partial'
        : 'succeeded';
  logger.info(
    {
      segment: segment.apiName,
      members: entry.members_loaded,
      notFound: entry.not_found,
      failed: entry.failed,
      cleared: entry.cleared,
      created: entry.created,
    },
    `Segment ${segment.apiName} loaded`,
  );
  if (outcome === 'stopped' || removal === 'stopped') {
    throw new PartialFailureError(
      'STOPPED_ON_ERROR',
      `Selligent refused a batch of Segment ${segment.apiName} and error_handling is StopOnError: the export stopped there`,
      { stage: 'segment-load' },
    );
  }
}

async function* segmentBatches(
  ctx: RunContext,
  groups: AsyncIterable<SegmentMember[]>,
  rejectedRows: RowNumberSet,
  entry: SegmentReport,
  batchSize: AdaptiveBatchSize,
): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(batchSize.rows, ctx.settings.batch_bytes);
  for await (const members of groups) {
    for (const { row, keyJson } of members) {
      if (keyJson === '' || rejectedRows.has(row)) {
        ctx.sync?.applied.segmentUnapplied(entry.api_name, [row]);
        entry.skipped_rejected_keys++;
        continue;
      }
      const full = builder.add(row, keyJson);
      if (full) {
        yield full;
        // Sized from the answers so far: the batch just yielded is built while the one before it is on the wire.
        builder.maxRows = batchSize.rows;
      }
    }
  }
  const last = builder.finish();
  if (last) yield last;
}

/**
 * The members to add, compared again once the List is loaded: the Segment spool holds each key's
 * deduplication winner, and a key whose List row was rejected is skipped here (counted as the full load
 * counts it), so it is never added. The removals stay those planned before the first write.
 */
async function* winnerAdds(
  replace: ReplacePlan,
  members: AsyncIterable<SegmentMember[]>,
  rejectedRows: RowNumberSet,
  entry: SegmentReport,
): AsyncGenerator<SegmentMember[]> {
  async function* loadable(): AsyncGenerator<SegmentMember[]> {
    for await (const group of members) {
      const kept = group.filter(({ row, keyJson }) => keyJson !== '' && !rejectedRows.has(row));
      entry.skipped_rejected_keys += group.length - kept.length;
      yield kept;
    }
  }
  const adds = await replace.spool.againstAdds(`${replace.name}-load`, loadable());
  try {
    yield* adds.adds();
  } finally {
    await adds.destroy();
  }
}

/**
 * The leavers of a load_then_remove plan, removed after the adds in batches sent, paced, retried and split
 * like the loads. Only keys read before the first write are candidates, so a member someone else adds
 * meanwhile stays. Their tally is apart: removals are memberships, not input rows.
 */
async function removeLeavers(
  ctx: RunContext,
  plan: ColumnPlan,
  apiName: string,
  replace: ReplacePlan,
  entry: SegmentReport,
  batchSize: AdaptiveBatchSize,
): ReturnType<typeof sendAllRecorded> {
  const { client, settings } = ctx;
  const keyFields = plan.keys.map((key) => key.field);
  const tally = emptyTally();
  const sync = () => {
    if (!entry.replace) return;
    entry.replace.removed = tally.loaded;
    entry.replace.removal_requests = tally.requests;
  };
  ctx.progress.enter(`segment-remove ${apiName}`, replace.counts.removed);
  return sendAllRecorded(
    ctx.results,
    { stage: 'segment-load', target: apiName, sync },
    removalBatches(replace, batchSize, settings.batch_bytes),
    {
      kind: 'segment',
      stopOnError: settings.error_handling === 'StopOnError',
      send: removalSender(client, settings, apiName, keyFields),
      reject: (rejection) => ctx.rejected.write(rejectedEntry(plan, 'segment-load', rejection, true)),
      observe: (outcome) => batchSize.observe(outcome),
    },
    tally,
    (batch) => {
      ctx.progress.advance(batch.rows.length);
      sync();
    },
  );
}

/** Removal batches: key rows numbered as they come (they are memberships, not input rows). */
async function* removalBatches(
  replace: ReplacePlan,
  batchSize: AdaptiveBatchSize,
  batchBytes: number,
): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(batchSize.rows, batchBytes);
  let n = 0;
  for await (const lines of replace.spool.removals()) {
    for (const line of lines) {
      const full = builder.add(++n, line);
      if (full) {
        yield full;
        builder.maxRows = batchSize.rows;
      }
    }
  }
  const last = builder.finish();
  if (last) yield last;
}

function syncSegmentReport(entry: SegmentReport, tally: LoadTally): void {
  entry.requests = tally.requests;
  entry.rows_sent = tally.rowsSent;
  entry.members_loaded = tally.loaded;
  entry.not_found = tally.notFound;
  entry.failed = tally.rejected;
  entry.failed_without_detail = tally.notApplied.failed_without_detail ?? 0;
}
