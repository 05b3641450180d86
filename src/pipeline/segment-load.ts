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
import type { SegmentSpool } from './segment-spool.js';

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
  { segment, index, entry }: SegmentLoad,
  segmentSpool: SegmentSpool,
  rejectedRows: RowNumberSet,
  batchSize: AdaptiveBatchSize,
): Promise<void> {
  const { client, settings, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;
  ctx.progress.enter(`segment-load ${segment.apiName}`, entry.rows);
  // Comparing with a changes-only state, replace removes only what left (see segment-removals.ts).
  if (settings.segment_data_import_option === 'replace' && segment.exists && !ctx.sync?.comparing) {
    // Cleared only now, after the List load and right before this Segment's own load, so a failure
    // elsewhere never leaves a Segment emptied.
    await client.clearSegment(org, listName, segment.apiName);
    entry.cleared = true;
  }
  const tally = emptyTally();
  entry.status = 'failed';
  const outcome = await sendAllRecorded(
    ctx.results,
    { stage: 'segment-load', target: segment.apiName, sync: () => syncSegmentReport(entry, tally) },
    segmentBatches(ctx, segmentSpool, index, rejectedRows, entry, batchSize),
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
      unapplied: (rows) => ctx.sync?.applied.segmentUnapplied(segment.apiName, rows),
      observe: (outcome) => batchSize.observe(outcome),
    },
    tally,
    (batch) => {
      ctx.progress.advance(batch.rows.length);
      syncSegmentReport(entry, tally);
    },
  );
  const unapplied = unappliedByFailure(tally.notApplied);
  entry.status =
    outcome === 'stopped'
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
  if (outcome === 'stopped') {
    throw new PartialFailureError(
      'STOPPED_ON_ERROR',
      `Selligent refused a batch of Segment ${segment.apiName} and error_handling is StopOnError: the export stopped there`,
      { stage: 'segment-load' },
    );
  }
}

async function* segmentBatches(
  ctx: RunContext,
  spool: SegmentSpool,
  index: number,
  rejectedRows: RowNumberSet,
  entry: SegmentReport,
  batchSize: AdaptiveBatchSize,
): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(batchSize.rows, ctx.settings.batch_bytes);
  for await (const members of spool.memberGroups(index)) {
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

function syncSegmentReport(entry: SegmentReport, tally: LoadTally): void {
  entry.requests = tally.requests;
  entry.rows_sent = tally.rowsSent;
  entry.members_loaded = tally.loaded;
  entry.not_found = tally.notFound;
  entry.failed = tally.rejected;
  entry.failed_without_detail = tally.notApplied.failed_without_detail ?? 0;
}
