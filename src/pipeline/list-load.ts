import { PartialFailureError } from '../errors.js';
import type { ListReport } from '../report/types.js';
import type { Batch } from './batches.js';
import type { RunContext } from './context.js';
import type { ListBatchJob, ListBatchUpdate, Merge, SegmentMemberCounts } from './list-batches.js';
import type { SegmentTarget } from './preflight.js';
import type { ReadResult } from './read.js';
import type { ListCounts } from './results.js';
import { rejectedEntry, sendAllRecorded } from './send-batches.js';
import type { SegmentSpool } from './segment-spool.js';
import { generatorInWorker, siblingModule } from './threads.js';

/**
 * Deduplicating and serializing the List rows is CPU work: it runs on a worker thread, two batches
 * ahead of the request in flight, so the main thread only sends and Selligent always has work.
 */
const BATCHES_AHEAD = 2;
const LIST_WORKER_HEAP_MB = 160;

/**
 * The deduplication: the List rows as request bodies, one key each. Each Segment's members are recorded
 * in `segmentSpool` on the way, and the deduplication's counts and rejections in `counts`.
 */
export async function* listBatches(
  ctx: RunContext,
  read: ReadResult,
  segments: SegmentTarget[],
  segmentSpool: SegmentSpool,
  counts: ListCounts,
): AsyncGenerator<Batch> {
  const { settings } = ctx;
  const job: ListBatchJob = {
    spooled: read.spooled,
    strategy: settings.deduplication,
    plan: read.plan,
    segmentValues: segments.map((segment) => segment.value),
    segmentAliases: segments.flatMap((segment, i) =>
      segment.values.filter((value) => value !== segment.value).map((value): [string, number] => [value, i]),
    ),
    segmentDirectory: segmentSpool.directory,
    batchRows: settings.batch_rows,
    batchBytes: settings.batch_bytes,
    compare: ctx.sync && {
      ...ctx.sync.compareJob(read.plan, read.spooled.groups.length, settings.segment_data_import_option === 'replace'),
      segmentApiNames: segments.map((segment) => segment.apiName),
    },
  };
  const updates = generatorInWorker<ListBatchUpdate, SegmentMemberCounts>(
    siblingModule(import.meta.url, 'list-worker'),
    job,
    { ahead: BATCHES_AHEAD, maxHeapMb: LIST_WORKER_HEAP_MB },
  );
  try {
    for (;;) {
      const next = await updates.next();
      if (next.done) {
        segmentSpool.adopt(next.value);
        return;
      }
      const update = next.value;
      counts.winners += update.winners;
      counts.merged += update.merged;
      if (ctx.sync) counts.unchanged = (counts.unchanged ?? 0) + (update.unchanged ?? 0);
      if (update.changes) ctx.sync?.setTotals(update.changes);
      for (const entry of update.rejected) {
        counts.clientRejected++;
        counts.rejectedRows.add(entry.row);
        await ctx.rejected.write(entry);
      }
      for (const merge of update.merges) await writeMerge(ctx, read, merge);
      if (update.batch)
        yield {
          ...update.batch,
          body: Buffer.from(update.batch.body.buffer, update.batch.body.byteOffset, update.batch.body.byteLength),
        };
    }
  } finally {
    await updates.return(undefined as never);
  }
}

/** One line per row merged away, naming the row that won its key: the rows file then lists every row not loaded. */
async function writeMerge(ctx: RunContext, read: ReadResult, merge: Merge): Promise<void> {
  // The key as sent: strings, numbers, booleans or null.
  const keyValues =
    merge.keyJson === null ? null : (JSON.parse(merge.keyJson) as Array<string | number | boolean | null>);
  const key = keyValues
    ? Object.fromEntries(
        read.plan.keys.map((column, i) => [column.field, keyValues[i] == null ? '' : String(keyValues[i])]),
      )
    : null;
  const keeps = ctx.settings.deduplication === 'ImportFirstMatch' ? 'first' : 'last';
  for (const loser of merge.losers) {
    await ctx.rejected.write({
      row: loser,
      stage: 'deduplicate',
      key,
      field: null,
      code: 'MergedDuplicate',
      message: `merged into row ${merge.winner}, which has the same key (${ctx.settings.deduplication} keeps the ${keeps} row of a key)`,
      values: null,
      winner: merge.winner,
    });
  }
}

/**
 * The List load: every deduplicated row, in batches, one request at a time. `counts` and `list` are kept
 * up to date after every batch; `counts.complete` once every row was sent.
 */
export async function loadList(
  ctx: RunContext,
  read: ReadResult,
  segments: SegmentTarget[],
  segmentSpool: SegmentSpool,
  counts: ListCounts,
  list: ListReport,
): Promise<void> {
  const { client, settings, logger } = ctx;
  const plan = read.plan;
  ctx.progress.enter('list-load', read.inputRows - read.skipped);
  const outcome = await sendAllRecorded(
    ctx.results,
    { stage: 'list-load', target: settings.list_api_name, sync: () => syncListReport(list, counts) },
    listBatches(ctx, read, segments, segmentSpool, counts),
    {
      kind: 'list',
      stopOnError: settings.error_handling === 'StopOnError',
      send: (body, rows) =>
        client.loadList(
          settings.organization,
          settings.list_api_name,
          {
            keyFields: plan.keys.map((key) => key.field),
            fields: plan.fields.map((column) => column.field),
            mode: settings.mode,
            deduplication: settings.deduplication,
            errorHandling: settings.error_handling,
            dataImportOption: settings.list_data_import_option,
          },
          body,
          rows,
        ),
      notAllApplied: (rows) => {
        for (const row of rows) ctx.sync?.applied.listNotApplied.add(row);
      },
      reject: async (rejection) => {
        counts.rejectedRows.add(rejection.row);
        await ctx.rejected.write(rejectedEntry(plan, 'list-load', rejection));
      },
      unapplied: (row) => ctx.rejected.write(rejectedEntry(plan, 'list-load', row)),
    },
    counts.tally,
    (batch) => {
      ctx.progress.advance(batch.rows.length);
      syncListReport(list, counts);
    },
  );
  if (outcome === 'stopped') {
    throw new PartialFailureError(
      'STOPPED_ON_ERROR',
      `Selligent refused a List batch with invalid rows and error_handling is StopOnError: the export stopped there; ${counts.tally.rejected} row(s) rejected (see ${ctx.rejected.path}), Segments not loaded`,
      { stage: 'list-load' },
    );
  }
  counts.complete = true;
  logger.info(
    {
      requests: list.requests,
      sent: list.rows_sent,
      inserted: list.inserted,
      updated: list.updated,
      rejected: list.failed,
      notApplied: list.not_applied,
    },
    `List ${settings.list_api_name} loaded`,
  );
}

function syncListReport(list: ListReport, counts: ListCounts): void {
  const tally = counts.tally;
  list.requests = tally.requests;
  list.rows_sent = tally.rowsSent;
  list.inserted = tally.inserted;
  list.updated = tally.updated;
  list.failed = tally.rejected + counts.clientRejected;
  list.duplicates = tally.duplicates;
  list.not_found = tally.notFound;
  list.not_applied = Object.values(tally.notApplied).reduce((a, b) => a + b, 0);
  list.failed_without_detail = tally.notApplied.failed_without_detail ?? 0;
}
