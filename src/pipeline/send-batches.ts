import { RefusedError } from '../errors.js';
import { BatchTooLargeError } from '../selligent/http-error.js';
import type { RequestOutcome } from './adaptive-batch.js';
import type { InvalidRecord, LoadAnswer, LoadResult } from '../selligent/types.js';
import { rowJson, splitBatch, type Batch } from './batches.js';
import type { ColumnPlan } from './columns.js';
import type { PipelineResults } from './results.js';
import { scalarText } from '../scalar-text.js';

/** The counters of a load answer (a missing or malformed counter is 0). */
export interface AnswerCounters {
  inserted: number;
  updated: number;
  failed: number;
  duplicates: number;
  notFound: number;
}

/** Counters of one load target (the List, or one Segment) across its requests. */
export interface LoadTally extends AnswerCounters {
  requests: number;
  rowsSent: number;
  /** Rows Selligent took. */
  loaded: number;
  /** Rows Selligent (or the size limit) rejected, each reported. */
  rejected: number;
  /** Rows neither loaded nor rejected, by reason. */
  notApplied: Record<string, number>;
  splits: number;
  /** Batches in which Selligent counted failed rows it did not identify. */
  undetailed: UndetailedFailure[];
}

/** Failed rows of one batch that the answer counted but did not identify (`failed_without_detail`). */
export interface UndetailedFailure {
  /** Rows in the batch, and the lowest and highest input row number among them. */
  batch_rows: number;
  first_row: number;
  last_row: number;
  /** Rows of the batch that failed without being identified. */
  failed: number;
}

export function emptyTally(): LoadTally {
  return {
    requests: 0,
    rowsSent: 0,
    inserted: 0,
    updated: 0,
    failed: 0,
    duplicates: 0,
    notFound: 0,
    loaded: 0,
    rejected: 0,
    notApplied: {},
    splits: 0,
    undetailed: [],
  };
}

/** `not_applied` reasons that mean Selligent did not (or may not have) applied rows it should have. */
export const FAILURE_REASONS = ['failed_without_detail', 'unknown', 'outcome_unknown'] as const;

/** Rows of a tally not applied for a reason in FAILURE_REASONS. */
export function unappliedByFailure(notApplied: Record<string, number>): number {
  return FAILURE_REASONS.reduce((sum, reason) => sum + (notApplied[reason] ?? 0), 0);
}

export interface Rejection {
  row: number;
  /** The row as sent (JSON array text). */
  json: string;
  field: string | null;
  code: string;
  message: string;
}

export interface LoadTarget {
  /** `list` loads use data_import_option, so duplicates/not-found mean OnlyInsert/OnlyUpdate skips. */
  kind: 'list' | 'segment';
  /** error_handling is StopOnError: a refused batch stops the export. */
  stopOnError: boolean;
  /** `rows`: how many rows the body holds. */
  send(body: Buffer, rows: number): Promise<LoadAnswer>;
  reject(rejection: Rejection): Promise<void>;
  /**
   * Told of each row of a batch that loaded none of its rows and was not rejected itself (the answer
   * then says every such row was not applied, and why). In a batch that loaded some rows, the answer
   * does not say which of the others were not applied, so they are counted only.
   */
  unapplied?: (rejection: Rejection) => Promise<void>;
  /** Told how long each answered request took, and of each refusal as too large (adaptive sizing). */
  observe?(outcome: RequestOutcome): void;
  /** Told the rows of a batch the answer says were not all applied (the changes-only state keeps none of them). */
  notAllApplied?(rows: readonly number[]): void;
}

export type BatchOutcome = 'continue' | 'stopped';

/**
 * Sends one batch and accounts for every row in it. A batch the service will not take in one piece
 * (413, repeated time-outs) is split in halves down to single rows; a single row still refused as too
 * large (413) is rejected with the reason and the rest load, while a single row that keeps timing out is
 * retried like any request and fails the run once retries are spent (it may well have been loaded, so it
 * is never reported as rejected). `stopped` means StopOnError refused the batch. `uncertain`: an earlier
 * request with these rows may have been applied without an answer (the halves of a timed-out batch).
 */
export async function sendBatch(
  target: LoadTarget,
  batch: Batch,
  tally: LoadTally,
  uncertain = false,
): Promise<BatchOutcome> {
  let answer: LoadAnswer;
  tally.requests++;
  try {
    answer = await target.send(batch.body, batch.rows.length);
  } catch (error) {
    if (!(error instanceof BatchTooLargeError)) throw error;
    target.observe?.({ kind: 'too-large', rows: batch.rows.length });
    if (batch.rows.length === 1) {
      tally.rejected++;
      await target.reject({
        row: batch.rows[0]!,
        json: rowJson(batch, 0),
        field: null,
        code: 'BATCH_TOO_LARGE',
        message: `the row alone is too large for one request: ${error.message}`,
      });
      return 'continue';
    }
    tally.splits++;
    for (const half of splitBatch(batch)) {
      if ((await sendBatch(target, half, tally, uncertain || error.mayHaveApplied)) === 'stopped') return 'stopped';
    }
    return 'continue';
  }
  target.observe?.({ kind: 'answered', rows: batch.rows.length, elapsedMs: answer.attemptMs });
  tally.rowsSent += batch.rows.length;
  const account = accountAnswer(answer.result, batch.rows.length, {
    kind: target.kind,
    stopOnError: target.stopOnError,
    uncertain: uncertain || answer.uncertain,
  });
  for (const record of account.invalid) {
    await target.reject({
      row: batch.rows[record.record_index]!,
      json: rowJson(batch, record.record_index),
      field: record.field_name ?? null,
      code: record.validation_code ?? 'Unknown',
      message: record.message ?? 'rejected by Selligent',
    });
  }
  if (target.unapplied && account.loaded === 0) await listUnapplied(target.unapplied, batch, account);
  tally.inserted += account.inserted;
  tally.updated += account.updated;
  tally.failed += account.failed;
  tally.duplicates += account.duplicates;
  tally.notFound += account.notFound;
  tally.rejected += account.invalid.length;
  tally.loaded += account.loaded;
  for (const [reason, count] of Object.entries(account.notApplied)) add(tally.notApplied, reason, count);
  if (Object.keys(account.notApplied).length > 0) target.notAllApplied?.(batch.rows);
  const withoutDetail = account.notApplied.failed_without_detail ?? 0;
  if (withoutDetail > 0) {
    let first = Infinity;
    let last = -Infinity;
    for (const row of batch.rows) {
      if (row < first) first = row;
      if (row > last) last = row;
    }
    tally.undetailed.push({ batch_rows: batch.rows.length, first_row: first, last_row: last, failed: withoutDetail });
  }
  return account.stopped ? 'stopped' : 'continue';
}

/** Why a row was not applied, as a person reads it in the rows file. */
const UNAPPLIED_TEXT: Record<string, string> = {
  stopped_on_error:
    'not applied: Selligent refused the whole batch for an invalid row in it (error_handling StopOnError)',
  failed_without_detail: "not applied: Selligent counted the batch's rows as failed without naming them or saying why",
  unknown: "not applied: Selligent's answer counts none of the batch's rows as loaded and does not say why",
  outcome_unknown:
    'not inserted as its key exists, after an earlier attempt whose answer was lost: that attempt may have inserted it',
  already_exists: 'not inserted: its key is already in the List (data_import_option OnlyInsert)',
  not_found: 'not updated: its key is not in the List (data_import_option OnlyUpdate)',
  duplicate: 'not applied: already a member',
};

async function listUnapplied(
  unapplied: NonNullable<LoadTarget['unapplied']>,
  batch: Batch,
  account: BatchAccount,
): Promise<void> {
  const reasons = Object.entries(account.notApplied);
  const [only] = reasons;
  if (!only) return;
  const code = reasons.length === 1 ? only[0] : 'not_applied';
  const message =
    reasons.length === 1
      ? (UNAPPLIED_TEXT[only[0]] ?? `not applied: ${only[0]}`)
      : `not applied: of this batch's ${reasons.reduce((sum, [, n]) => sum + n, 0)} rows not applied, ${reasons.map(([reason, n]) => `${n} ${reason}`).join(', ')}, and the answer does not say which is which`;
  const invalid = new Set(account.invalid.map((record) => record.record_index));
  for (let i = 0; i < batch.rows.length; i++) {
    if (invalid.has(i)) continue;
    await unapplied({ row: batch.rows[i]!, json: rowJson(batch, i), field: null, code, message });
  }
}

/** How the rows of one batch fared, from Selligent's answer alone: every row is in exactly one count. */
export interface BatchAccount extends AnswerCounters {
  /** The identified invalid rows (distinct, in range): each is rejected and reported. */
  invalid: InvalidRecord[];
  /** Rows applied. */
  loaded: number;
  /** Rows neither rejected nor loaded, by reason. */
  notApplied: Record<string, number>;
  /** StopOnError refused the batch: the export stops. */
  stopped: boolean;
}

export interface AnswerContext {
  kind: LoadTarget['kind'];
  stopOnError: boolean;
  /** An earlier attempt with these rows may have been applied unseen. */
  uncertain: boolean;
}

/**
 * Accounts for the `size` rows of one request from its answer. Rows not applied are the larger of
 * `number_of_failed_records` and the identified invalid rows: failed rows the answer does not identify
 * are `failed_without_detail`. A row is loaded only when a counter says so: rows the counters leave
 * unexplained are `unknown`, never loaded. Under StopOnError a `Failed` answer loaded nothing; under
 * ContinueOnError it means nothing in the request could be applied, and the rest are accounted from the
 * counters like any answer. On a List, rows skipped as existing (`OnlyInsert`) after an attempt that may
 * have been applied unseen are `outcome_unknown`: the lost attempt may have inserted them.
 */
export function accountAnswer(result: LoadResult, size: number, context: AnswerContext): BatchAccount {
  const code = result.result_code;
  if (code !== 'Succeeded' && code !== 'PartiallySucceeded' && code !== 'Failed') {
    throw new RefusedError('LOAD_REFUSED', `Selligent refused a ${context.kind} load: ${envelopeText(result)}`, {
      details: { resultCode: code ?? null },
    });
  }
  const invalid = distinctInvalid(result.invalid_records, size);
  const counters = {
    inserted: count(result.number_of_inserted_records),
    updated: count(result.number_of_updated_records),
    failed: count(result.number_of_failed_records),
    duplicates: count(result.number_of_duplicate_records),
    notFound: count(result.number_of_records_not_found),
  };
  const failedRows = Math.min(size, Math.max(counters.failed, invalid.length));
  const notApplied: Record<string, number> = {};
  add(notApplied, 'failed_without_detail', failedRows - invalid.length);
  if (code === 'Failed' && context.stopOnError) {
    add(notApplied, 'stopped_on_error', size - failedRows);
    return { invalid, ...counters, loaded: 0, notApplied, stopped: true };
  }
  const remaining = size - failedRows;
  const duplicates = Math.min(counters.duplicates, remaining);
  const notFound = Math.min(counters.notFound, remaining - duplicates);
  const rest = remaining - duplicates - notFound;
  const loaded = Math.min(counters.inserted + counters.updated, rest);
  add(
    notApplied,
    context.kind === 'segment' ? 'duplicate' : context.uncertain ? 'outcome_unknown' : 'already_exists',
    duplicates,
  );
  add(notApplied, 'not_found', notFound);
  add(notApplied, 'unknown', rest - loaded);
  return { invalid, ...counters, loaded, notApplied, stopped: false };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

function distinctInvalid(records: InvalidRecord[] | null | undefined, size: number): InvalidRecord[] {
  if (!records) return [];
  const seen = new Set<number>();
  const out: InvalidRecord[] = [];
  for (const record of records) {
    const index = record.record_index;
    if (!Number.isInteger(index) || index < 0 || index >= size || seen.has(index)) continue;
    seen.add(index);
    out.push(record);
  }
  return out;
}

function envelopeText(result: LoadResult): string {
  const errors = (result.errors ?? []).map((e) => [e.error_code, e.description].filter(Boolean).join(' ')).join('; ');
  return [result.result_code, result.message, errors].filter(Boolean).join(': ').slice(0, 400);
}

export function add(record: Record<string, number>, key: string, count: number): void {
  if (count > 0) record[key] = (record[key] ?? 0) + count;
}

/**
 * Sends batches one at a time (bulk calls into one List are never concurrent) while the next batch is
 * being prepared: at most one batch waits, so memory does not grow with the input.
 */
export async function sendAll(
  batches: AsyncGenerator<Batch>,
  target: LoadTarget,
  tally: LoadTally,
  onSent?: (batch: Batch) => void,
): Promise<BatchOutcome> {
  let next = batches.next();
  try {
    for (;;) {
      const step: IteratorResult<Batch, unknown> = await next;
      if (step.done) return 'continue';
      const batch = step.value;
      const sending = sendBatch(target, batch, tally);
      // The next batch is prepared once this request is on the wire (a turn of the event loop later):
      // started before, its work would hold the request back.
      next = new Promise<void>((resolve) => setImmediate(resolve)).then(() => batches.next());
      // The prefetch may fail while this batch is in flight; it is awaited on the next turn.
      next.catch(() => undefined);
      const outcome = await sending;
      onSent?.(batch);
      if (outcome === 'stopped') return 'stopped';
    }
  } finally {
    await batches.return(undefined);
  }
}

/**
 * `sendAll`, with the batches it had to split and the batches that failed without detail recorded in
 * the run's results, and the target's figures brought up to date, also when it fails (a refused first
 * batch is still a request made).
 */
export async function sendAllRecorded(
  results: Pick<PipelineResults, 'splitBatches' | 'failedWithoutDetail'>,
  target: { stage: 'list-load' | 'segment-load'; target: string; sync: () => void },
  ...args: Parameters<typeof sendAll>
): ReturnType<typeof sendAll> {
  const tally = args[2];
  const before = tally.splits;
  const undetailedBefore = tally.undetailed.length;
  try {
    return await sendAll(...args);
  } finally {
    results.splitBatches += tally.splits - before;
    for (const batch of tally.undetailed.slice(undetailedBefore))
      results.failedWithoutDetail.push({ stage: target.stage, target: target.target, ...batch });
    target.sync();
  }
}

/** A rejection as a line of the rejected-rows file: the row's key, and its values unless only the key was sent. */
export function rejectedEntry(
  plan: ColumnPlan,
  stage: 'list-load' | 'segment-load',
  rejection: Rejection,
  keyOnly = false,
) {
  const sent = JSON.parse(rejection.json) as unknown[];
  const columns = keyOnly ? plan.keys : plan.fields;
  const values = Object.fromEntries(
    columns.map((column, i) => [column.field, sent[i] === null ? '' : scalarText(sent[i])]),
  );
  const key = Object.fromEntries(plan.keys.map((column) => [column.field, values[column.field] ?? '']));
  return {
    row: rejection.row,
    stage,
    key,
    field: rejection.field,
    code: rejection.code,
    message: rejection.message,
    values: keyOnly ? null : values,
  };
}
