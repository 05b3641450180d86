import { ConfigError } from '../errors.js';
import { BatchTooLargeError } from '../selligent/client.js';
import type { InvalidRecord, LoadResult } from '../selligent/types.js';
import { rowJson, splitBatch, type Batch } from './batches.js';

/** Counters of one load target (the List, or one Segment) across its requests. */
export interface LoadTally {
  requests: number;
  rowsSent: number;
  inserted: number;
  updated: number;
  failed: number;
  duplicates: number;
  notFound: number;
  /** Rows Selligent took. */
  loaded: number;
  /** Rows Selligent (or the size limit) rejected, each reported. */
  rejected: number;
  /** Rows neither loaded nor rejected, by reason. */
  notApplied: Record<string, number>;
  splits: number;
}

export function emptyTally(): LoadTally {
  return { requests: 0, rowsSent: 0, inserted: 0, updated: 0, failed: 0, duplicates: 0, notFound: 0, loaded: 0, rejected: 0, notApplied: {}, splits: 0 };
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
  send(body: Buffer, rows: number): Promise<LoadResult>;
  reject(rejection: Rejection): Promise<void>;
}

export type BatchOutcome = 'continue' | 'stopped';

/**
 * Sends one batch and accounts for every row in it. A batch the service will not take in one piece
 * (413, repeated time-outs) is split in halves down to single rows; a single row still refused as too
 * large (413) is rejected with the reason and the rest load, while a single row that keeps timing out is
 * retried like any request and fails the run once retries are spent (it may well have been loaded, so it
 * is never reported as rejected). `stopped` means StopOnError refused the batch.
 */
export async function sendBatch(target: LoadTarget, batch: Batch, tally: LoadTally): Promise<BatchOutcome> {
  let result: LoadResult;
  tally.requests++;
  try {
    result = await target.send(batch.body, batch.rows.length);
  } catch (error) {
    if (!(error instanceof BatchTooLargeError)) throw error;
    if (batch.rows.length === 1) {
      tally.rejected++;
      await target.reject({ row: batch.rows[0]!, json: rowJson(batch, 0), field: null, code: 'BATCH_TOO_LARGE', message: `the row alone is too large for one request: ${error.message}` });
      return 'continue';
    }
    tally.splits++;
    for (const half of splitBatch(batch)) {
      if ((await sendBatch(target, half, tally)) === 'stopped') return 'stopped';
    }
    return 'continue';
  }
  tally.rowsSent += batch.rows.length;
  return account(target, batch, result, tally);
}

async function account(target: LoadTarget, batch: Batch, result: LoadResult, tally: LoadTally): Promise<BatchOutcome> {
  const size = batch.rows.length;
  const code = result.result_code ?? 'Succeeded';
  const invalid = distinctInvalid(result.invalid_records, size);
  tally.inserted += result.number_of_inserted_records ?? 0;
  tally.updated += result.number_of_updated_records ?? 0;
  tally.failed += result.number_of_failed_records ?? 0;
  tally.duplicates += result.number_of_duplicate_records ?? 0;
  tally.notFound += result.number_of_records_not_found ?? 0;

  for (const record of invalid) {
    await target.reject({
      row: batch.rows[record.record_index]!,
      json: rowJson(batch, record.record_index),
      field: record.field_name ?? null,
      code: record.validation_code ?? 'Unknown',
      message: record.message ?? 'rejected by Selligent',
    });
  }
  tally.rejected += invalid.length;

  if (code === 'Failed') {
    if (invalid.length === 0) {
      throw new ConfigError('LOAD_FAILED', `Selligent refused a ${target.kind} load of ${size} rows: ${envelopeText(result)}`, { details: { resultCode: code } });
    }
    // ContinueOnError: Selligent answers Failed when every row of the request is invalid; each is
    // rejected and reported, and the export goes on.
    if (!target.stopOnError && invalid.length === size) return 'continue';
    // StopOnError: a request with an invalid row loads nothing.
    add(tally.notApplied, 'stopped_on_error', size - invalid.length);
    return 'stopped';
  }
  if (code === 'ValidationFailed' || code === 'NotFound') {
    throw new ConfigError('LOAD_REFUSED', `Selligent refused a ${target.kind} load: ${envelopeText(result)}`, { details: { resultCode: code } });
  }
  const remaining = size - invalid.length;
  const duplicates = Math.min(result.number_of_duplicate_records ?? 0, remaining);
  const notFound = Math.min(result.number_of_records_not_found ?? 0, remaining - duplicates);
  add(tally.notApplied, target.kind === 'list' ? 'already_exists' : 'duplicate', duplicates);
  add(tally.notApplied, 'not_found', notFound);
  tally.loaded += remaining - duplicates - notFound;
  return 'continue';
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
export async function sendAll(batches: AsyncGenerator<Batch>, target: LoadTarget, tally: LoadTally, onSent?: (batch: Batch) => void): Promise<BatchOutcome> {
  let next = batches.next();
  try {
    for (;;) {
      const { value: batch, done } = await next;
      if (done) return 'continue';
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
