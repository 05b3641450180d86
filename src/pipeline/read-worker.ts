import { parentPort, workerData } from 'node:worker_threads';
import { joinInferred, keyForm, type InferredType } from '../schema/types.js';
import { ChunkParser } from '../source/chunk-parser.js';
import type { InputFormat } from '../source/format-detect.js';
import type { RawRow } from '../source/raw-rows.js';
import type { ColumnPlan } from './columns.js';
import type { RejectedRow } from './rejected.js';
import { ROWS_PER_PIECE, RowSpool } from './row-spool.js';
import { toWireError } from './threads.js';
import { validateRow, type SkipReason } from './validate.js';

/**
 * Worker thread entry of the read stage: parses input pieces, validates their rows and spools the
 * valid ones into its own partition files. The main thread reads and decompresses the input, hands
 * pieces out, and puts the results back in input order (see read.ts).
 */

export interface ReadWorkerSetup {
  /** Names this worker's spool files. */
  id: number;
  plan: ColumnPlan;
  columns: string[];
  maxFieldBytes: number;
  directory: string;
  partitions: number;
}

export type ReadWorkerRequest =
  | {
      type: 'piece';
      seq: number;
      object: number;
      uri: string;
      format: InputFormat;
      bytes?: Uint8Array;
      rows?: RawRow[];
    }
  | { type: 'finish' };

/** A row that failed validation; `index` is its place in the piece. The main thread adds the row number. */
export interface InvalidRow extends Omit<RejectedRow, 'row'> {
  index: number;
  reason: SkipReason;
}

export type ReadWorkerResult =
  | {
      type: 'piece';
      seq: number;
      object: number;
      rows: number;
      invalid: InvalidRow[];
      segments: Array<[string, number]>;
    }
  | {
      type: 'finished';
      files: string[];
      spooled: number;
      inferred: InferredType[] | undefined;
      nativeTypes: InferredType[];
      longest: number[];
    }
  | { type: 'error'; error: ReturnType<typeof toWireError> };

const setup = workerData as ReadWorkerSetup;
const plan = setup.plan;
// With a schema the key's type is known while reading, and keys are compared as Selligent stores them.
// Inferred types are known only at the end; a column inferred as a number holds only values already
// written in their stored form (see widen), so comparing its text is the same.
const keyForms = plan.typesFrom === 'schema-file' ? plan.keys.map((key) => keyForm(key.type)) : undefined;
const spool = new RowSpool(
  setup.directory,
  plan.keyPositions,
  setup.partitions,
  `rows-w${setup.id}`,
  keyForms?.some(Boolean) ? keyForms : undefined,
);
const nativeTypes: InferredType[] = [];
let parser: ChunkParser | undefined;
let parserObject = -1;
const port = parentPort!;
// Pieces are worked through one at a time, in the order they arrive.
let queue: Promise<void> = Promise.resolve();

port.on('message', (request: ReadWorkerRequest) => {
  queue = queue
    .then(() => handle(request))
    .catch((error: unknown) => {
      port.postMessage({ type: 'error', error: toWireError(error) } satisfies ReadWorkerResult);
      queue = new Promise(() => undefined);
    });
});

async function handle(request: ReadWorkerRequest): Promise<void> {
  if (request.type === 'finish') {
    mergeNativeTypes();
    await spool.finish();
    port.postMessage({
      type: 'finished',
      files: spool.files(),
      spooled: spool.rows,
      inferred: plan.inferred,
      nativeTypes,
      longest: plan.longest ?? [],
    } satisfies ReadWorkerResult);
    return;
  }
  port.postMessage(await readPiece(request));
  await spool.drain();
}

async function readPiece(piece: Extract<ReadWorkerRequest, { type: 'piece' }>): Promise<ReadWorkerResult> {
  const invalid: InvalidRow[] = [];
  const segments = new Map<string, number>();
  const base = piece.seq * ROWS_PER_PIECE;
  let count = 0;
  const take = (row: RawRow): void => {
    const index = count++;
    if (index >= ROWS_PER_PIECE) throw new Error(`an input piece holds more than ${ROWS_PER_PIECE} rows`);
    const verdict = validateRow(row, plan);
    if (!verdict.ok) {
      invalid.push({
        index,
        reason: verdict.reason,
        stage: 'validate',
        key: Array.isArray(row) ? Object.fromEntries(plan.keys.map((key) => [key.field, row[key.index] ?? ''])) : null,
        field: verdict.column,
        code: verdict.reason,
        message: verdict.message,
        values: Array.isArray(row) ? Object.fromEntries(setup.columns.map((name, c) => [name, row[c] ?? ''])) : null,
      });
      return;
    }
    const cells = verdict.cells;
    const segment = cells[plan.segmentIndex]!;
    segments.set(segment, (segments.get(segment) ?? 0) + 1);
    spool.add(base + index, segment, fieldCells(cells, plan.segmentIndex));
  };
  if (piece.rows) piece.rows.forEach(take);
  else {
    if (parserObject !== piece.object) {
      mergeNativeTypes();
      parser = new ChunkParser({
        format: piece.format,
        uri: piece.uri,
        maxFieldBytes: setup.maxFieldBytes,
        columns: setup.columns,
      });
      parserObject = piece.object;
    }
    const bytes = piece.bytes!;
    // Each row is validated and spooled as it is parsed, so no piece's rows pile up in memory.
    await parser!.parseEach(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), take);
  }
  return { type: 'piece', seq: piece.seq, object: piece.object, rows: count, invalid, segments: [...segments] };
}

function mergeNativeTypes(): void {
  parser?.nativeTypes.forEach((type, i) => (nativeTypes[i] = joinInferred(nativeTypes[i] ?? 'unknown', type)));
}

function fieldCells(cells: string[], segmentIndex: number): string[] {
  const out = new Array<string>(cells.length - 1);
  for (let i = 0, j = 0; i < cells.length; i++) if (i !== segmentIndex) out[j++] = cells[i]!;
  return out;
}
