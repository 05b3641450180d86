import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { ConfigError, InputError } from '../errors.js';
import { readSchemaFile } from '../schema/schema-file.js';
import { joinInferred, type ColumnType } from '../schema/types.js';
import { resolveInput } from '../source/resolve.js';
import { InputReader, PIECE_BYTES, type InputPiece } from '../source/input-reader.js';
import { planColumns, settleInferredTypes, type ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';
import type { ReadWorkerRequest, ReadWorkerResult, ReadWorkerSetup } from './read-worker.js';
import { MAX_PARTITION_BYTES, type SpooledPartitions } from './deduplicate.js';
import { partitionCount } from './partitioning.js';
import { fromWireError, siblingModule, startWorker, Wakeup, watchWorker } from './threads.js';
import type { SkipReason } from './validate.js';

export interface ReadResult {
  plan: ColumnPlan;
  /** The valid rows, spooled to partition files for deduplication. */
  spooled: SpooledPartitions;
  spooledRows: number;
  header: string[];
  inputRows: number;
  skipped: number;
  /** Distinct Segment values of valid rows, with their valid row counts. */
  segments: Map<string, number>;
}

/** Pieces each worker may hold (one being worked on, one waiting), so reading never waits on a hand-over. */
const PIECES_AHEAD = 2;
const MIB = 1024 * 1024;

/**
 * Parsing and validating run on this many worker threads: one per core, up to four, unless
 * SELLIGENT_EXPORT_READ_THREADS says otherwise (a container whose CPU quota is below the cores it sees).
 * Never more than the input can have pieces: a worker without a piece costs its start-up and nothing
 * else, and for a small input that start-up is a good part of the run.
 */
export function readWorkerCount(env: NodeJS.ProcessEnv, cores = availableParallelism(), pieces = Infinity): number {
  const wanted = env.SELLIGENT_EXPORT_READ_THREADS;
  if (wanted === undefined || wanted.trim() === '') return Math.max(1, Math.min(4, cores, pieces));
  const count = Number(wanted);
  if (!Number.isInteger(count) || count < 1 || count > 16) {
    throw new ConfigError(
      'READ_THREADS_INVALID',
      `SELLIGENT_EXPORT_READ_THREADS: expected a whole number from 1 to 16, got ${JSON.stringify(wanted)}`,
      { stage: 'settings' },
    );
  }
  return count;
}

/**
 * How much larger than its object an input's text can be. gzip is recognised by its content, not its
 * name, so every object may be compressed; and text can grow more than this, but an object small
 * enough for the bound to matter then holds so little that one worker reads it in a moment.
 */
const MOST_TEXT_PER_BYTE = 64;

/**
 * The most pieces the input can be cut into, from its objects' sizes (each object is at least one
 * piece); unbounded when a size is unknown.
 */
export function mostPieces(objects: ReadonlyArray<{ size?: number }>): number {
  let pieces = 0;
  for (const object of objects) {
    if (object.size === undefined) return Infinity;
    pieces += Math.max(1, Math.ceil((object.size * MOST_TEXT_PER_BYTE) / PIECE_BYTES));
  }
  return pieces;
}

/**
 * A worker's heap limit: room for its pieces and spool buffers, and for one row of max_field_bytes
 * (the reader drops longer rows unread). While such a row is parsed, fast-csv keeps a quoted value as
 * an array of one-character strings (8 bytes a character), then the row exists as text, as cells and
 * as the JSON of its spool line: about 16 bytes per byte of the row at the peak.
 */
export function readWorkerHeapMb(maxFieldBytes: number): number {
  return 128 + Math.ceil((16 * maxFieldBytes) / MIB);
}

/**
 * Stage 1: one pass over the input that validates every row, reports the invalid ones and spools the
 * valid ones for deduplication. Nothing is written to Selligent here.
 *
 * This thread reads and decompresses the input and cuts it into record-aligned pieces; worker threads
 * parse, validate and spool them in parallel. Their results are taken back in input order, so rows are
 * numbered, reported and counted exactly as if one thread had read them.
 */
export async function readAndValidate(ctx: RunContext): Promise<ReadResult> {
  const { options, settings, logger } = ctx;
  // A bad SELLIGENT_EXPORT_READ_THREADS stops the run before the input is touched.
  readWorkerCount(options.env);
  const schema: Map<string, ColumnType> | undefined = options.schemaPath
    ? await readSchemaFile(options.schemaPath)
    : undefined;
  const location = await resolveInput(options.input, options.env, logger);
  ctx.results.input.location = location.uri;
  try {
    const objects = await location.list();
    // Sizes are known before reading; gzip text is typically four to six times its compressed size.
    const expectedBytes = objects.reduce(
      (sum, object) => sum + (object.size ?? 0) * (/\.gz(ip)?$/i.test(object.uri) ? 5 : 1),
      0,
    );
    logger.info(
      { objects: objects.length, bytes: objects.reduce((sum, o) => sum + (o.size ?? 0), 0) },
      'input located',
    );
    const reader = new InputReader(location, objects, {
      format: options.format as never,
      maxDecompressedBytes: settings.max_decompressed_bytes,
      maxFieldBytes: settings.max_field_bytes,
      logger,
      signal: options.signal,
    });
    const partitions = partitionCount(expectedBytes);
    const workers = readWorkerCount(options.env, undefined, mostPieces(objects));
    let plan: ColumnPlan | undefined;
    let pool: ReadPool | undefined;
    const segments = new Map<string, number>();
    const byReason: Partial<Record<SkipReason, number>> = {};
    const rowBases: number[] = [];
    let inputRows = 0;
    let skipped = 0;
    let submitted = 0;
    let taken = 0;
    const start = (): ReadPool => {
      const typesFrom = schema ? 'schema-file' : reader.format === 'jsonl' ? 'native' : 'inferred';
      plan = planColumns(reader.columns!, settings, schema, typesFrom);
      const setup = (id: number): ReadWorkerSetup => ({
        id,
        plan: plan!,
        columns: reader.columns!,
        maxFieldBytes: settings.max_field_bytes,
        directory: ctx.workDir,
        partitions,
      });
      return new ReadPool(workers, setup, readWorkerHeapMb(settings.max_field_bytes));
    };
    const take = async (result: Extract<ReadWorkerResult, { type: 'piece' }>): Promise<void> => {
      rowBases[result.seq] = inputRows;
      reader.objectsRead[result.object]!.rows += result.rows;
      for (const invalid of result.invalid) {
        const row = inputRows + invalid.index + 1;
        if (!settings.skip_invalid_records) {
          throw new InputError(
            'INVALID_ROW',
            `input row ${row}${invalid.field ? `, column ${invalid.field}` : ''}: ${invalid.message} (skip_invalid_records is false, so the export stops before writing anything)`,
            {
              stage: 'read',
              details: { row, column: invalid.field, reason: invalid.reason },
            },
          );
        }
        skipped++;
        byReason[invalid.reason] = (byReason[invalid.reason] ?? 0) + 1;
        const { index: _index, reason: _reason, ...entry } = invalid;
        await ctx.rejected.write({ row, ...entry });
      }
      for (const [segment, count] of result.segments) segments.set(segment, (segments.get(segment) ?? 0) + count);
      inputRows += result.rows;
      ctx.progress.advance(result.rows);
    };
    // Until the columns are known (JSON Lines whose first lines are not records), pieces wait here.
    const held: InputPiece[] = [];
    try {
      for await (const piece of reader.pieces()) {
        if (!pool) {
          if (reader.columns === undefined) {
            held.push(piece);
            continue;
          }
          pool = start();
          for (const early of held.splice(0)) await pool.submit(submitted++, early);
        }
        await pool.submit(submitted++, piece);
        for (let result = pool.take(taken); result; result = pool.take(taken)) {
          taken++;
          await take(result);
        }
      }
      // A header and no rows (a query that selected nothing): checked like any input, then nothing to load.
      if (!pool && reader.columns !== undefined) pool = start();
      if (!pool || !plan)
        throw new InputError('INPUT_EMPTY', `input ${location.uri}: no header row`, { stage: 'read' });
      while (taken < submitted) {
        await take(await pool.next(taken));
        taken++;
      }
      const finished = await pool.finish();
      const spooled: SpooledPartitions = {
        directory: ctx.workDir,
        groups: Array.from({ length: partitions }, (_, p) => finished.map((worker) => worker.files[p]!)),
        maxPartitionBytes: MAX_PARTITION_BYTES,
        rowBases,
      };
      const spooledRows = finished.reduce((sum, worker) => sum + worker.spooled, 0);
      for (const worker of finished) {
        worker.inferred?.forEach((type, i) => (plan!.inferred![i] = joinInferred(plan!.inferred![i]!, type)));
        worker.nativeTypes.forEach(
          (type, i) => (reader.nativeTypes[i] = joinInferred(reader.nativeTypes[i] ?? 'unknown', type)),
        );
        worker.longest.forEach((length, i) => (plan!.longest![i] = Math.max(plan!.longest![i] ?? 0, length)));
      }
      settleInferredTypes(plan, plan.typesFrom === 'native' ? reader.nativeTypes : undefined);
      fillInputReport(ctx, reader, plan, inputRows, skipped, byReason);
      return { plan, spooled, spooledRows, header: reader.columns!, inputRows, skipped, segments };
    } finally {
      await pool?.close();
    }
  } finally {
    await location.close();
  }
}

function fillInputReport(
  ctx: RunContext,
  reader: InputReader,
  plan: ColumnPlan,
  inputRows: number,
  skipped: number,
  byReason: Partial<Record<SkipReason, number>>,
): void {
  const { results, logger } = ctx;
  const input = results.input;
  input.format = reader.format ?? null;
  input.objects = reader.objectsRead.map((object) => ({ uri: object.uri, bytes: object.bytes }));
  input.bytes = reader.objectsRead.reduce((sum, object) => sum + object.bytes, 0);
  input.compression = [...new Set(reader.objectsRead.map((object) => object.compression))].join(',') || null;
  input.rows = inputRows;
  input.types_from = plan.typesFrom;
  input.columns = reader.columns!.map((name, index) => {
    const column = plan.fields.find((c) => c.index === index);
    return {
      column: name,
      field: column ? column.field : name.toUpperCase(),
      type: column ? column.type : 'string',
      role: !column ? 'segment' : plan.keys.includes(column) ? 'key' : 'field',
      ...(column ? { longest: plan.longest?.[plan.fields.indexOf(column)] ?? 0 } : {}),
    };
  });
  results.validation = { valid_rows: inputRows - skipped, skipped_rows: skipped, by_reason: byReason };
  if (inputRows === 0) logger.warn({}, 'the input has a header but no rows: nothing to load');
  if (skipped > 0)
    logger.warn(
      { skipped, byReason },
      `${skipped} invalid row(s) skipped; each is listed in the rows file ${ctx.rejected.path}`,
    );
}

type PieceResult = Extract<ReadWorkerResult, { type: 'piece' }>;
type FinishedResult = Extract<ReadWorkerResult, { type: 'finished' }>;

/** The read workers: pieces go out round-robin, at most PIECES_AHEAD per worker; results come back by sequence number. */
class ReadPool {
  private readonly workers: Array<{ worker: Worker; outstanding: number; finished?: FinishedResult }> = [];
  private readonly results = new Map<number, PieceResult>();
  private failure: Error | undefined;
  private readonly arrived = new Wakeup();
  private closing = false;

  constructor(count: number, setup: (id: number) => ReadWorkerSetup, maxHeapMb: number) {
    const entry = siblingModule(import.meta.url, 'read-worker');
    for (let id = 0; id < count; id++) {
      const slot: { worker: Worker; outstanding: number; finished?: FinishedResult } = {
        worker: startWorker(entry, setup(id), maxHeapMb),
        outstanding: 0,
      };
      slot.worker.on('message', (result: ReadWorkerResult) => {
        if (result.type === 'piece') {
          slot.outstanding--;
          this.results.set(result.seq, result);
        } else if (result.type === 'finished') slot.finished = result;
        else this.failure ??= fromWireError(result.error);
        this.arrived.notify();
      });
      watchWorker(
        slot.worker,
        (error) => {
          this.failure ??= error;
          this.arrived.notify();
        },
        () => !this.closing && !slot.finished,
      );
      this.workers.push(slot);
    }
  }

  /** Hands piece `seq` to its worker, waiting while that worker already holds enough. */
  async submit(seq: number, piece: InputPiece): Promise<void> {
    const slot = this.workers[seq % this.workers.length]!;
    await this.until(() => slot.outstanding < PIECES_AHEAD);
    slot.outstanding++;
    const request: ReadWorkerRequest = {
      type: 'piece',
      seq,
      object: piece.object,
      uri: piece.uri,
      format: piece.format,
      rows: piece.rows,
    };
    if (piece.bytes) {
      // A copy with memory of its own, which can then be moved to the worker instead of copied again.
      const bytes = new Uint8Array(piece.bytes);
      slot.worker.postMessage({ ...request, bytes }, [bytes.buffer]);
    } else slot.worker.postMessage(request);
  }

  /** The result of piece `seq` if it is back. */
  take(seq: number): PieceResult | undefined {
    if (this.failure) throw this.failure;
    const result = this.results.get(seq);
    if (result) this.results.delete(seq);
    return result;
  }

  async next(seq: number): Promise<PieceResult> {
    await this.until(() => this.results.has(seq));
    return this.take(seq)!;
  }

  /** Closes every worker's spool files; their files and type findings, by worker. */
  async finish(): Promise<FinishedResult[]> {
    for (const slot of this.workers) slot.worker.postMessage({ type: 'finish' } satisfies ReadWorkerRequest);
    await this.until(() => this.workers.every((slot) => slot.finished));
    return this.workers.map((slot) => slot.finished!);
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((slot) => slot.worker.terminate()));
  }

  private async until(ready: () => boolean): Promise<void> {
    for (;;) {
      if (this.failure) throw this.failure;
      if (ready()) return;
      await this.arrived.wait();
    }
  }
}
