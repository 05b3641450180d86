import { rm } from 'node:fs/promises';
import { InternalError, PartialFailureError, RefusedError, type Stage } from '../errors.js';
import { segmentBatchRowsMax } from '../config/settings.js';
import { accountingReport } from '../report/build.js';
import type { ListReport, RunReport, SegmentReport } from '../report/types.js';
import { SelligentClient } from '../selligent/client.js';
import { AdaptiveBatchSize } from './adaptive-batch.js';
import { BatchBuilder, type Batch } from './batches.js';
import type { ListBatchJob, ListBatchUpdate, SegmentMemberCounts } from './list-batches.js';
import { generatorInWorker, siblingModule } from './threads.js';
import type { ColumnPlan } from './columns.js';
import type { PipelineOptions, RunContext } from './context.js';
import { add, emptyTally, sendAll, unappliedByFailure, type LoadTally, type Rejection } from './load.js';
import { CREATED_LIST_DESCRIPTION, checkOrganization, preflight, type PreflightResult, type SegmentTarget } from './preflight.js';
import { Progress } from './progress.js';
import { readAndValidate, type ReadResult } from './read.js';
import { RejectedRowsFile, RowNumberSet } from './rejected.js';
import { createSpoolDir } from './spool-dir.js';
import { SegmentSpool } from './segment-spool.js';

export type { PipelineOptions };

/** Tallies of the deduplication and List stages that the accounting is built from. */
interface ListCounts {
  winners: number;
  merged: number;
  tally: LoadTally;
  /** Rows whose values do not convert to their field's type: rejected before sending. */
  clientRejected: number;
  /** Input row numbers of List rows that were rejected: their keys are not loaded into Segments. */
  rejectedRows: RowNumberSet;
  complete: boolean;
}

/**
 * The whole run: read and validate, deduplicate, preflight, List load, Segment loads. Fills `report`
 * as it goes, so a failure at any point still leaves a truthful report behind.
 */
export async function exportToSelligent(options: PipelineOptions, report: RunReport): Promise<void> {
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
    http: report.http,
  });
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
  report.rejected_rows.file = options.rejectedPath;
  const ctx: RunContext = { options, settings, logger, report, rejected, progress, client, workDir };
  report.deduplication.strategy = settings.deduplication;
  progress.start();
  let read: ReadResult | undefined;
  const counts: ListCounts = { winners: 0, merged: 0, tally: emptyTally(), clientRejected: 0, rejectedRows: new RowNumberSet(), complete: false };
  try {
    await timed(ctx, 'preflight', () => checkOrganization(ctx));
    read = await timed(ctx, 'read', () => readAndValidate(ctx));
    const checked = await timed(ctx, 'preflight', () => preflight(ctx, read!.plan, read!.segments));
    logger.info(
      { rows: read.inputRows, valid: read.inputRows - read.skipped, segments: checked.segments.length, listExists: checked.listExists },
      'input read and validated; preflight passed',
    );
    const segmentSpool = new SegmentSpool(workDir);
    report.list = emptyListReport(settings.list_api_name, checked.listExists);
    if (options.dryRun) {
      await planDryRun(ctx, read, checked, segmentSpool, counts);
      return;
    }
    await timed(ctx, 'list-setup', () => setUpList(ctx, read!.plan, checked));
    await timed(ctx, 'list-load', () => loadList(ctx, read!, checked, segmentSpool, counts));
    report.segments = checked.segments.map((segment, i) => emptySegmentReport(segment, segmentSpool.rows(i)));
    await timed(ctx, 'segment-setup', () => createMissingSegments(ctx, checked.segments));
    await timed(ctx, 'segment-load', () => loadSegments(ctx, read!.plan, checked.segments, segmentSpool, counts.rejectedRows));
  } catch (error) {
    if (error instanceof Error && 'stage' in error && (error as { stage?: Stage }).stage === undefined) {
      (error as { stage?: Stage }).stage = (report.stage ?? undefined) as Stage | undefined;
    }
    throw error;
  } finally {
    progress.stop();
    client.close();
    if (read) finishAccounting(report, read, counts);
    report.rejected_rows.count = rejected.count;
    await rejected.close().catch(() => undefined);
    await rm(workDir, { recursive: true, force: true, maxRetries: 3 }).catch((error: Error) =>
      logger.warn({ workDir, reason: error.message }, 'could not remove the spool directory'),
    );
  }
  if (report.accounting && !report.accounting.balanced) {
    throw new InternalError('ACCOUNTING_MISMATCH', `the run does not account for every input row: ${JSON.stringify(report.accounting)}`, { stage: 'report' });
  }
}

async function timed<T>(ctx: RunContext, stage: Stage, work: () => Promise<T>): Promise<T> {
  ctx.report.stage = stage;
  ctx.progress.enter(stage);
  const started = performance.now();
  try {
    return await work();
  } finally {
    const key = stage.replace('-', '_') as keyof RunReport['durations_seconds'];
    ctx.report.durations_seconds[key] = round((ctx.report.durations_seconds[key] ?? 0) + (performance.now() - started) / 1000);
  }
}

async function setUpList(ctx: RunContext, plan: ColumnPlan, checked: PreflightResult): Promise<void> {
  const { client, settings, report, logger } = ctx;
  const list = report.list!;
  if (checked.listExists && !checked.resumeSetup) return;
  const org = settings.organization;
  const name = settings.list_api_name;
  if (!checked.listExists) {
    await createOnce(ctx, `List ${name}`, () => client.createList(org, { api_name: name, name, type: 'Userlist', description: CREATED_LIST_DESCRIPTION }), async () =>
      Boolean(await client.getList(org, name)),
    );
    list.created = true;
    logger.info({ list: name }, `created List ${name}`);
  }
  if (checked.fieldsToCreate.length > 0) {
    await createOnce(ctx, `the fields of List ${name}`, () => client.createFields(org, name, checked.fieldsToCreate), async () => {
      const fields = new Set((await client.getFields(org, name)).map((field) => field.name.toUpperCase()));
      return checked.fieldsToCreate.every((field) => fields.has(field.name.toUpperCase()));
    });
    list.fields_created = checked.fieldsToCreate.map((field) => field.name);
    list.fields_created_types = checked.fieldsToCreate.map((field) => ({ name: field.name, data_type: field.data_type, ...(field.length ? { length: field.length } : {}) }));
    logger.info({ list: name, fields: list.fields_created }, `created ${list.fields_created.length} field(s)`);
  }
  // Exactly key_fields, in their order: the load's keyFields must match the index.
  const refused = await client.setBusinessKey(org, name, settings.key_fields);
  if (refused) {
    const message = `PUT .../lists/${name}/businesskey answered ${refused.unsupported}: this tenant does not offer the business key endpoint, so List ${name} has no unique key defined by the exporter; the loads decide (a load that needs the index is refused with KEY_INDEX_MISSING)`;
    report.warnings.push({ code: 'BUSINESS_KEY_UNSUPPORTED', message });
    logger.warn({ list: name, status: refused.unsupported }, message);
  } else {
    list.business_key_set = true;
  }
}

/**
 * Creating is not idempotent: when an attempt did the work but its answer was lost (connection dropped,
 * time-out, 5xx from a proxy), the retry is refused because the thing now exists. A refusal after a retry
 * is therefore checked: if the List, fields or static Segment now exist, the create succeeded.
 */
async function createOnce(ctx: RunContext, what: string, create: () => Promise<void>, exists: () => Promise<boolean>): Promise<void> {
  try {
    await create();
  } catch (error) {
    const attempts = error instanceof RefusedError ? Number(error.details?.attempts ?? 1) : 1;
    if (attempts < 2 || !(await exists().catch(() => false))) throw error;
    ctx.logger.info({ what, attempts }, `${what}: a retried create was refused as existing; an earlier attempt created it`);
  }
}

/**
 * Deduplicating and serializing the List rows is CPU work: it runs on a worker thread, two batches
 * ahead of the request in flight, so the main thread only sends and Selligent always has work.
 */
const BATCHES_AHEAD = 2;
const LIST_WORKER_HEAP_MB = 160;

/** Deduplicated List rows as request bodies; each Segment's members are recorded on the way. */
async function* listBatches(ctx: RunContext, read: ReadResult, segments: SegmentTarget[], segmentSpool: SegmentSpool, counts: ListCounts): AsyncGenerator<Batch> {
  const { settings } = ctx;
  const job: ListBatchJob = {
    spooled: read.spooled,
    strategy: settings.deduplication,
    plan: read.plan,
    segmentValues: segments.map((segment) => segment.value),
    segmentAliases: segments.flatMap((segment, i) => segment.values.filter((value) => value !== segment.value).map((value): [string, number] => [value, i])),
    segmentDirectory: segmentSpool.directory,
    batchRows: settings.batch_rows,
    batchBytes: settings.batch_bytes,
  };
  const updates = generatorInWorker<ListBatchUpdate, SegmentMemberCounts>(siblingModule(import.meta.url, 'list-worker'), job, { ahead: BATCHES_AHEAD, maxHeapMb: LIST_WORKER_HEAP_MB });
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
      for (const entry of update.rejected) {
        counts.clientRejected++;
        counts.rejectedRows.add(entry.row);
        await ctx.rejected.write(entry);
      }
      if (update.batch) yield { ...update.batch, body: Buffer.from(update.batch.body.buffer, update.batch.body.byteOffset, update.batch.body.byteLength) };
    }
  } finally {
    await updates.return(undefined as never);
  }
}

async function loadList(ctx: RunContext, read: ReadResult, checked: PreflightResult, segmentSpool: SegmentSpool, counts: ListCounts): Promise<void> {
  const { client, settings, report, logger } = ctx;
  const plan = read.plan;
  const list = report.list!;
  ctx.progress.enter('list-load', read.inputRows - read.skipped);
  const outcome = await sendAllCounted(
    ctx,
    { stage: 'list-load', target: settings.list_api_name, sync: () => syncListReport(list, counts) },
    listBatches(ctx, read, checked.segments, segmentSpool, counts),
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
      reject: async (rejection) => {
        counts.rejectedRows.add(rejection.row);
        await ctx.rejected.write(rejectedEntry(plan, 'list-load', rejection));
      },
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
    { requests: list.requests, sent: list.rows_sent, inserted: list.inserted, updated: list.updated, rejected: list.failed, notApplied: list.not_applied },
    `List ${settings.list_api_name} loaded`,
  );
}

/**
 * Missing Segments are created after the List load and before any Segment is loaded, all in one go:
 * creating is not a bulk operation, and done up front it leaves no pause between one Segment's load
 * and the next.
 */
async function createMissingSegments(ctx: RunContext, segments: SegmentTarget[]): Promise<void> {
  const { client, settings, report, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment.exists) continue;
    await createOnce(
      ctx,
      `Segment ${segment.apiName}`,
      () => client.createStaticSegment(org, listName, { api_name: segment.apiName, name: segment.apiName, description: 'Created by selligent-export' }),
      // A static Segment may report External or Unknown (the service's variants): anything but Dynamic is ours.
      async () => {
        const found = await client.getSegment(org, listName, segment.apiName);
        return found !== undefined && found.type?.toLowerCase() !== 'dynamic';
      },
    );
    report.segments[i]!.created = true;
    logger.info({ segment: segment.apiName }, `created static Segment ${segment.apiName}`);
  }
}

async function loadSegments(ctx: RunContext, plan: ColumnPlan, segments: SegmentTarget[], segmentSpool: SegmentSpool, rejectedRows: RowNumberSet): Promise<void> {
  const maxRows = segmentBatchRowsMax(ctx.settings);
  const batchSize = new AdaptiveBatchSize({ initialRows: ctx.settings.segment_batch_rows, maxRows, targetMs: SEGMENT_ANSWER_TARGET_MS });
  try {
    await loadEachSegment(ctx, plan, segments, segmentSpool, rejectedRows, batchSize);
  } finally {
    ctx.report.segment_batch_rows = { ...batchSize.figures(), max: maxRows };
  }
}

/**
 * Segment requests are sized to be answered in about a third of the vendor's documented 15 s inbound
 * time-out: fast enough to leave room for a slow moment, large enough to spend few requests of the budget.
 */
const SEGMENT_ANSWER_TARGET_MS = 5_000;

async function loadEachSegment(ctx: RunContext, plan: ColumnPlan, segments: SegmentTarget[], segmentSpool: SegmentSpool, rejectedRows: RowNumberSet, batchSize: AdaptiveBatchSize): Promise<void> {
  const { client, settings, report, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i]!;
    const entry = report.segments[i]!;
    ctx.progress.enter(`segment-load ${segment.apiName}`, entry.rows);
    if (settings.segment_data_import_option === 'replace' && segment.exists) {
      // Cleared only now, after the List load and right before this Segment's own load, so a failure
      // elsewhere never leaves a Segment emptied.
      await client.clearSegment(org, listName, segment.apiName);
      entry.cleared = true;
    }
    const tally = emptyTally();
    entry.status = 'failed';
    const outcome = await sendAllCounted(
      ctx,
      { stage: 'segment-load', target: segment.apiName, sync: () => syncSegmentReport(entry, tally) },
      segmentBatches(ctx, segmentSpool, i, rejectedRows, entry, batchSize),
      {
        kind: 'segment',
        stopOnError: settings.error_handling === 'StopOnError',
        send: (body, rows) =>
          client.loadSegment(org, listName, segment.apiName, {
            keyFields: plan.keys.map((key) => key.field),
            fields: plan.keys.map((key) => key.field),
            mode: settings.mode,
            deduplication: settings.deduplication,
            errorHandling: settings.error_handling,
          }, body, rows),
        reject: (rejection) => ctx.rejected.write(rejectedEntry(plan, 'segment-load', rejection, true)),
        observe: (outcome) => batchSize.observe(outcome),
      },
      tally,
      (batch) => {
        ctx.progress.advance(batch.rows.length);
        syncSegmentReport(entry, tally);
      },
    );
    const unapplied = unappliedByFailure(tally.notApplied);
    entry.status = outcome === 'stopped' ? 'failed' : entry.failed > 0 || entry.not_found > 0 || unapplied > 0 ? 'partial' : 'succeeded';
    logger.info(
      { segment: segment.apiName, members: entry.members_loaded, notFound: entry.not_found, failed: entry.failed, cleared: entry.cleared, created: entry.created },
      `Segment ${segment.apiName} loaded`,
    );
    if (outcome === 'stopped') {
      throw new PartialFailureError('STOPPED_ON_ERROR', `Selligent refused a batch of Segment ${segment.apiName} and error_handling is StopOnError: the export stopped there`, { stage: 'segment-load' });
    }
  }
}

/**
 * `sendAll`, with the batches it had to split counted in the report's HTTP figures and the target's
 * report brought up to date, also when it fails (a refused first batch is still a request made).
 */
async function sendAllCounted(
  ctx: RunContext,
  target: { stage: 'list-load' | 'segment-load'; target: string; sync: () => void },
  ...args: Parameters<typeof sendAll>
): ReturnType<typeof sendAll> {
  const tally = args[2];
  const before = tally.splits;
  const undetailedBefore = tally.undetailed.length;
  try {
    return await sendAll(...args);
  } finally {
    ctx.report.http.split_batches += tally.splits - before;
    for (const batch of tally.undetailed.slice(undetailedBefore)) ctx.report.failed_without_detail.push({ stage: target.stage, target: target.target, ...batch });
    target.sync();
  }
}

async function* segmentBatches(ctx: RunContext, spool: SegmentSpool, index: number, rejectedRows: RowNumberSet, entry: SegmentReport, batchSize: AdaptiveBatchSize): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(batchSize.rows, ctx.settings.batch_bytes);
  for await (const members of spool.memberGroups(index)) {
    for (const { row, keyJson } of members) {
      if (keyJson === '' || rejectedRows.has(row)) {
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

async function planDryRun(ctx: RunContext, read: ReadResult, checked: PreflightResult, segmentSpool: SegmentSpool, counts: ListCounts): Promise<void> {
  const { settings, report } = ctx;
  let listRequests = 0;
  let listRows = 0;
  for await (const batch of listBatches(ctx, read, checked.segments, segmentSpool, counts)) {
    listRequests++;
    listRows += batch.rows.length;
  }
  add(counts.tally.notApplied, 'dry_run', listRows);
  counts.complete = true;
  const segments = checked.segments.map((segment, i) => {
    const rows = segmentSpool.rows(i);
    return {
      api_name: segment.apiName,
      rows,
      create: !segment.exists,
      clear: settings.segment_data_import_option === 'replace' && segment.exists,
      requests: Math.ceil(rows / settings.segment_batch_rows),
    };
  });
  report.segments = checked.segments.map((segment, i) => ({ ...emptySegmentReport(segment, segmentSpool.rows(i)), status: 'planned' as const }));
  const setup = !checked.listExists || checked.resumeSetup;
  const setupRequests = !setup ? 0 : (checked.listExists ? 1 : 2) + (checked.fieldsToCreate.length > 0 ? 1 : 0);
  const segmentRequests = segments.reduce((sum, s) => sum + s.requests + (s.create ? 1 : 0) + (s.clear ? 1 : 0), 0);
  report.plan = {
    list_to_create: !checked.listExists,
    fields_to_create: checked.fieldsToCreate.map((field) => ({ name: field.name, data_type: field.data_type, ...(field.length ? { length: field.length } : {}) })),
    business_key_to_set: setup ? read.plan.keys.map((key) => key.field) : null,
    list_rows: listRows,
    list_requests: listRequests,
    segments,
    requests: setupRequests + listRequests + segmentRequests,
  };
  ctx.logger.info({ plan: { ...report.plan, segments: segments.length } }, 'dry run: nothing was written');
}

function finishAccounting(report: RunReport, read: ReadResult, counts: ListCounts): void {
  const tally = counts.tally;
  const valid = read.inputRows - read.skipped;
  const notApplied = { ...tally.notApplied };
  const processed = counts.clientRejected + tally.rejected + tally.loaded + Object.values(tally.notApplied).reduce((a, b) => a + b, 0);
  // Rows the run never got to (it stopped early): counted, not lost.
  const notSent = valid - counts.merged - processed;
  if (!counts.complete) add(notApplied, 'not_sent', notSent);
  report.deduplication.unique_keys = counts.winners;
  report.deduplication.merged_duplicates = counts.merged;
  report.deduplication.segment_memberships = report.segments.reduce((sum, s) => sum + s.rows, 0);
  report.accounting = accountingReport({
    inputRows: read.inputRows,
    skipped: read.skipped,
    mergedDuplicates: counts.merged,
    rejected: counts.clientRejected + tally.rejected,
    notApplied,
    loaded: tally.loaded,
  });
  if (counts.complete && read.spooledRows !== valid) report.accounting.balanced = false;
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

function syncSegmentReport(entry: SegmentReport, tally: LoadTally): void {
  entry.requests = tally.requests;
  entry.rows_sent = tally.rowsSent;
  entry.members_loaded = tally.loaded;
  entry.not_found = tally.notFound;
  entry.failed = tally.rejected;
  entry.failed_without_detail = tally.notApplied.failed_without_detail ?? 0;
}

function emptyListReport(apiName: string, existed: boolean): ListReport {
  return {
    api_name: apiName,
    existed,
    created: false,
    fields_created: [],
    fields_created_types: [],
    business_key_set: false,
    requests: 0,
    rows_sent: 0,
    inserted: 0,
    updated: 0,
    failed: 0,
    duplicates: 0,
    not_found: 0,
    not_applied: 0,
    failed_without_detail: 0,
  };
}

function emptySegmentReport(segment: SegmentTarget, rows: number): SegmentReport {
  return {
    api_name: segment.apiName,
    existed: segment.exists,
    created: false,
    cleared: false,
    rows,
    rows_sent: 0,
    members_loaded: 0,
    not_found: 0,
    failed: 0,
    failed_without_detail: 0,
    skipped_rejected_keys: 0,
    requests: 0,
    status: 'pending',
    ...(segment.values.length > 1 ? { routing_values: segment.values } : {}),
  };
}

function rejectedEntry(plan: ColumnPlan, stage: 'list-load' | 'segment-load', rejection: Rejection, keyOnly = false) {
  const sent = JSON.parse(rejection.json) as unknown[];
  const columns = keyOnly ? plan.keys : plan.fields;
  const values = Object.fromEntries(columns.map((column, i) => [column.field, sent[i] === null ? '' : String(sent[i])]));
  const key = Object.fromEntries(plan.keys.map((column) => [column.field, values[column.field] ?? '']));
  return { row: rejection.row, stage, key, field: rejection.field, code: rejection.code, message: rejection.message, values: keyOnly ? null : values };
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
