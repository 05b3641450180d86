import { copyBytes } from '../byte-copy.js';
import { NOT_PLAIN, plainForm, plainLength, writePlain, type PlainForm } from '../schema/plain-values.js';
import { convertValue, type ColumnType } from '../schema/types.js';
import { BatchBuilder, type Batch } from './batches.js';
import type { ColumnPlan } from './columns.js';
import type { RejectedRow } from './rejected.js';
import {
  deduplicatePartitions,
  winnerCells,
  type DeduplicationStrategy,
  type SpooledPartitions,
} from './deduplicate.js';
import { SegmentSpool, type SegmentSpoolFiles } from './segment-spool.js';
import { WorkerComparer, type CompareJob } from '../state/compare-in-worker.js';
import { rowHash } from '../state/format.js';
import type { ChangeTotals } from '../state/diff.js';

/**
 * Turning the spooled rows into List request bodies: deduplicate each partition, convert every winner
 * to its fields' types, group into batches, and record each Segment's members for the later Segment
 * loads. Everything here is plain data in and out, so it runs on a worker thread while the main thread
 * keeps a request in flight.
 */

export interface ListBatchJob {
  spooled: SpooledPartitions;
  strategy: DeduplicationStrategy;
  /** The column plan with its final types (inference settled). */
  plan: ColumnPlan;
  /** Segment values in the order of the Segment targets: members are numbered (and read back) in this order. */
  segmentValues: string[];
  /** Further routing values that name one of those Segments (spelt otherwise), with its index. */
  segmentAliases?: Array<[string, number]>;
  /** Where the Segment member run files go (SegmentSpool's directory). */
  segmentDirectory: string;
  batchRows: number;
  batchBytes: number;
  /** sync_mode changes: compare with the state, send only new and changed rows and missing memberships. */
  compare?: CompareJob & { segmentApiNames: string[] };
}

/** What happened since the previous update: a full batch (if any), and the counts on the way to it. */
export interface ListBatchUpdate {
  batch?: Batch;
  /** Distinct keys found (each one a row to send or a row rejected before sending). */
  winners: number;
  /** Rows merged away as duplicates of another row's key. */
  merged: number;
  /** Rows whose values do not convert to their List field's type: reported, not sent. */
  rejected: RejectedRow[];
  /** Which rows were merged away, and into which: `merged` counts them too, perhaps in an earlier update. */
  merges: Merge[];
  /** Winners not sent because the state records them as they are (changes mode). */
  unchanged?: number;
  /** The comparison's totals, in the last update only (changes mode). */
  changes?: ChangeTotals;
}

/** Rows merged away into the row that won their key. */
export interface Merge {
  winner: number;
  losers: number[];
  /** The key's values as a JSON array (the List's types), or null when a key value does not convert. */
  keyJson: string | null;
}

/** The Segment member runs and each Segment's member count: the generator's return value. */
export type SegmentMemberCounts = SegmentSpoolFiles;

/** Rejections are handed over in groups this size at most, so a run of bad rows never piles up. */
const REJECTED_PER_UPDATE = 1_000;
/** Likewise the rows merged away. */
const MERGED_PER_UPDATE = 10_000;

export async function* produceListBatches(job: ListBatchJob): AsyncGenerator<ListBatchUpdate, SegmentMemberCounts> {
  const { plan } = job;
  const segmentIndex = new Map([
    ...job.segmentValues.map((value, i): [string, number] => [value, i]),
    ...(job.segmentAliases ?? []),
  ]);
  const segmentSpool = new SegmentSpool(job.segmentDirectory);
  const builder = new BatchBuilder(job.batchRows, job.batchBytes);
  const encoder = new RowEncoder(plan);
  let update = emptyUpdate();
  let mergesListed = 0;
  const comparer = job.compare ? new WorkerComparer(job.compare) : undefined;
  for await (const partition of deduplicatePartitions(job.spooled, job.strategy)) {
    update.merged += partition.merged;
    await comparer?.enter(partition.partition);
    for (const winner of partition.winners) {
      update.winners++;
      const failure = encoder.encode(partition.data, winner.start, winner.end);
      if (winner.losers) {
        update.merges.push({ winner: winner.row, losers: winner.losers, keyJson: encoder.keyJson() ?? null });
        mergesListed += winner.losers.length;
        if (mergesListed >= MERGED_PER_UPDATE) {
          yield update;
          update = emptyUpdate();
          mergesListed = 0;
        }
      }
      // Two spellings of one Segment on one key make it a member once.
      const seen = winner.segments.length > 1 && job.segmentAliases?.length ? new Set<number>() : undefined;
      const indexes: number[] = [];
      for (const segment of winner.segments) {
        const index = segmentIndex.get(segment)!;
        if (seen) {
          if (seen.has(index)) continue;
          seen.add(index);
        }
        indexes.push(index);
      }
      let toLoad: readonly number[] = indexes;
      let unchanged = false;
      if (comparer && job.compare) {
        const names = job.compare.segmentApiNames;
        const compared = comparer.compare(
          winner.row,
          spooledKeyOf(partition.data, winner.start),
          failure ? '' : rowHash(encoder.row.subarray(0, encoder.rowLength)),
          indexes,
          !failure,
          encoder,
        );
        const d = compared instanceof Promise ? await compared : compared;
        toLoad = d.add.length === 0 ? NONE : indexes.filter((index) => d.add.includes(names[index]!));
        unchanged = d.row === 'unchanged' && !failure;
      }
      for (const index of toLoad) {
        const flushing = segmentSpool.add(index, winner.row, encoder.keyJson() ?? '');
        if (flushing) await flushing;
      }
      if (unchanged) {
        update.unchanged = (update.unchanged ?? 0) + 1;
        continue;
      }
      if (failure) {
        const cells = winnerCells(partition, winner);
        update.rejected.push({
          row: winner.row,
          stage: 'list-load',
          key: keyOf(plan, cells),
          field: failure.field,
          code: 'InvalidType',
          message: `${failure.message} (not sent: the value does not fit the List field's type)`,
          values: valuesOf(plan, cells),
        });
        if (update.rejected.length >= REJECTED_PER_UPDATE) {
          yield update;
          update = emptyUpdate();
          mergesListed = 0;
        }
        continue;
      }
      const full = builder.addBytes(winner.row, encoder.row, 0, encoder.rowLength);
      if (full) {
        update.batch = full;
        // A batch may be sent once it leaves: its rows' journal lines must be on disk first, so that a
        // run that then fails knows every row it may have changed (ChangeSync.recordFailure).
        if (comparer) await comparer.flushJournal();
        yield update;
        update = emptyUpdate();
        mergesListed = 0;
      }
    }
  }
  await segmentSpool.flush();
  const last = builder.finish();
  if (last) update.batch = last;
  if (comparer) update.changes = await comparer.finish();
  if (
    update.batch ||
    update.winners > 0 ||
    update.merged > 0 ||
    update.rejected.length > 0 ||
    update.merges.length > 0 ||
    update.changes
  )
    yield update;
  return segmentSpool.files();
}

const NONE: readonly number[] = [];

function emptyUpdate(): ListBatchUpdate {
  return { winners: 0, merged: 0, rejected: [], merges: [] };
}

/**
 * The canonical key of the winner whose values start at `start`: the spool line's first field (JSON
 * text), which is the key the deduplication matched rows on.
 */
function spooledKeyOf(data: Buffer, start: number): string {
  const rowTab = data.lastIndexOf(0x09, start - 2);
  const keyTab = data.lastIndexOf(0x09, rowTab - 1);
  const lineStart = data.lastIndexOf(0x0a, keyTab - 1) + 1;
  // A JSON string without an escape is its own text between the quotes: no parse needed.
  let plain = data[lineStart] === QUOTE && data[keyTab - 1] === QUOTE && keyTab - lineStart >= 2;
  for (let i = lineStart + 1; plain && i < keyTab - 1; i++)
    if (data[i] === BACKSLASH || data[i] === QUOTE) plain = false;
  if (plain) return data.toString('utf8', lineStart + 1, keyTab - 1);
  return JSON.parse(data.toString('utf8', lineStart, keyTab)) as string;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const NULL_JSON = Buffer.from('null');

/**
 * Re-encodes a spooled row (the JSON array of its values as strings) as the JSON array Selligent
 * takes, working on bytes: a text value is copied as it was spooled, and only the values of typed
 * fields are decoded and converted. An empty value is sent as null.
 */
export class RowEncoder {
  /** The last row encoded, `row[0, rowLength)`. */
  row = Buffer.allocUnsafe(64 * 1024);
  rowLength = 0;
  private readonly types: ColumnType[];
  private readonly tokenStart: Int32Array;
  private readonly tokenEnd: Int32Array;
  private readonly converted: Array<string | undefined>;
  /** Per field of the last row: the PlainForm its value was written in, or NOT_PLAIN. */
  private readonly forms: Uint8Array;
  private data: Buffer = Buffer.alloc(0);
  private keyFailed = false;
  /** The last row's keyJson, once asked for: most rows never need it. */
  private key: string | undefined;

  constructor(private readonly plan: ColumnPlan) {
    this.types = plan.fields.map((column) => column.sendType);
    this.tokenStart = new Int32Array(plan.fields.length);
    this.tokenEnd = new Int32Array(plan.fields.length);
    this.converted = new Array<string | undefined>(plan.fields.length);
    this.forms = new Uint8Array(plan.fields.length);
  }

  /** Encodes `data[start, end)` into `row`; returns the first value that does not convert, if any. */
  encode(data: Buffer, start: number, end: number): { field: string; message: string } | undefined {
    this.data = data;
    this.keyFailed = false;
    this.key = undefined;
    const columns = this.plan.fields;
    let failure: { field: string; message: string } | undefined;
    let position = start + 1;
    for (let i = 0; i < columns.length; i++) {
      // Each value is a JSON string: find its closing quote, skipping escaped characters.
      let cursor = position + 1;
      let escaped = false;
      for (;;) {
        const byte = data[cursor]!;
        if (byte === QUOTE) break;
        if (byte === BACKSLASH) {
          escaped = true;
          cursor++;
        }
        cursor++;
      }
      this.tokenStart[i] = position;
      this.tokenEnd[i] = cursor + 1;
      this.converted[i] = undefined;
      const type = this.types[i]!;
      const form = type === 'string' || escaped ? NOT_PLAIN : plainForm(data, position + 1, cursor, type);
      this.forms[i] = form;
      if (type !== 'string' && form === NOT_PLAIN && cursor > position + 1) {
        const text = escaped
          ? (JSON.parse(data.toString('utf8', position, cursor + 1)) as string)
          : data.toString('utf8', position + 1, cursor);
        const conversion = convertValue(text, type);
        if (conversion.ok) this.converted[i] = conversion.json;
        else {
          failure ??= { field: columns[i]!.field, message: `${columns[i]!.field}: ${conversion.reason}` };
          if (this.plan.keyPositions.includes(i)) this.keyFailed = true;
        }
      }
      position = cursor + 2;
    }
    if (end < position - 1) throw new Error(`spooled row at byte ${start} has fewer values than the plan`);
    if (!failure) this.rowLength = this.writeRow();
    return failure;
  }

  /** The key values of the last row encoded as a JSON array, or undefined when a key value does not convert. */
  keyJson(): string | undefined {
    if (this.keyFailed) return undefined;
    if (this.key !== undefined) return this.key;
    let json = '[';
    for (const i of this.plan.keyPositions) {
      if (json.length > 1) json += ',';
      const start = this.tokenStart[i]!;
      const end = this.tokenEnd[i]!;
      const form = this.forms[i]! as PlainForm;
      if (end - start === 2) json += 'null';
      else if (form !== NOT_PLAIN) {
        const value = Buffer.allocUnsafe(plainLength(form, end - start - 2));
        writePlain(form, this.data, start + 1, end - 1, value, 0);
        json += value.toString('utf8');
      } else json += this.converted[i] ?? this.data.toString('utf8', start, end);
    }
    return (this.key = json + ']');
  }

  /** Writes the last row as a JSON array at the start of `row`; returns its length. */
  private writeRow(): number {
    let length = 0;
    this.ensure(2);
    this.row[length++] = 0x5b;
    for (let i = 0; i < this.types.length; i++) {
      if (i > 0) {
        this.ensure(length + 1);
        this.row[length++] = 0x2c;
      }
      const start = this.tokenStart[i]!;
      const end = this.tokenEnd[i]!;
      if (end - start === 2) {
        this.ensure(length + 4);
        length += copyBytes(NULL_JSON, 0, NULL_JSON.length, this.row, length);
        continue;
      }
      const form = this.forms[i]! as PlainForm;
      if (form !== NOT_PLAIN) {
        this.ensure(length + plainLength(form, end - start - 2));
        length += writePlain(form, this.data, start + 1, end - 1, this.row, length);
        continue;
      }
      const converted = this.converted[i];
      if (converted !== undefined) {
        const size = Buffer.byteLength(converted);
        this.ensure(length + size);
        length += this.row.write(converted, length, size, 'utf8');
        continue;
      }
      this.ensure(length + end - start);
      length += copyBytes(this.data, start, end, this.row, length);
    }
    this.ensure(length + 1);
    this.row[length++] = 0x5d;
    return length;
  }

  private ensure(size: number): void {
    if (size <= this.row.length) return;
    const grown = Buffer.allocUnsafe(Math.max(size, this.row.length * 2));
    this.row.copy(grown);
    this.row = grown;
  }
}

function keyOf(plan: ColumnPlan, fieldCells: string[]): Record<string, string> {
  return Object.fromEntries(plan.keys.map((key, i) => [key.field, fieldCells[plan.keyPositions[i]!]!]));
}

function valuesOf(plan: ColumnPlan, fieldCells: string[]): Record<string, string> {
  return Object.fromEntries(plan.fields.map((column, i) => [column.name, fieldCells[i]!]));
}
