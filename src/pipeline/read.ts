import { InputError } from '../errors.js';
import { readSchemaFile } from '../schema/schema-file.js';
import type { ColumnType } from '../schema/types.js';
import { resolveInput } from '../source/resolve.js';
import { InputReader } from '../source/records.js';
import { planColumns, settleInferredTypes, type ColumnPlan } from './columns.js';
import type { RunContext } from './context.js';
import { RowSpool, partitionCount } from './spool.js';
import { validateRow, type SkipReason } from './validate.js';

export interface ReadResult {
  plan: ColumnPlan;
  spool: RowSpool;
  header: string[];
  inputRows: number;
  skipped: number;
  /** Distinct Segment values of valid rows, with their valid row counts. */
  segments: Map<string, number>;
}

/**
 * Stage 1: one pass over the input that validates every row, reports the invalid ones and spools the
 * valid ones for deduplication. Nothing is written to Selligent here.
 */
export async function readAndValidate(ctx: RunContext): Promise<ReadResult> {
  const { options, settings, report, logger } = ctx;
  const schema: Map<string, ColumnType> | undefined = options.schemaPath ? await readSchemaFile(options.schemaPath) : undefined;
  const location = await resolveInput(options.input, options.env, logger);
  report.input.location = location.uri;
  try {
    const objects = await location.list();
    // Sizes are known before reading; gzip text is typically four to six times its compressed size.
    const expectedBytes = objects.reduce((sum, object) => sum + (object.size ?? 0) * (/\.gz(ip)?$/i.test(object.uri) ? 5 : 1), 0);
    logger.info({ objects: objects.length, bytes: objects.reduce((sum, o) => sum + (o.size ?? 0), 0) }, 'input located');
    const reader = new InputReader(location, objects, {
      format: options.format as never,
      maxDecompressedBytes: settings.max_decompressed_bytes,
      maxFieldBytes: settings.max_field_bytes,
      logger,
      signal: options.signal,
    });
    let plan: ColumnPlan | undefined;
    let spool: RowSpool | undefined;
    const segments = new Map<string, number>();
    const byReason: Partial<Record<SkipReason, number>> = {};
    let inputRows = 0;
    let skipped = 0;
    const start = (): ColumnPlan => {
      const typesFrom = schema ? 'schema-file' : reader.format === 'jsonl' ? 'native' : 'inferred';
      const planned = planColumns(reader.columns!, settings, schema, typesFrom);
      spool = new RowSpool(ctx.workDir, planned.keyPositions, undefined, partitionCount(expectedBytes));
      return planned;
    };
    try {
      for await (const batch of reader.batches()) {
        const current = plan ?? (plan = start());
        for (let i = 0; i < batch.rows.length; i++) {
          const row = batch.firstRow + i;
          const verdict = validateRow(batch.rows[i]!, current);
          inputRows++;
          if (!verdict.ok) {
            if (!settings.skip_invalid_records) {
              throw new InputError('INVALID_ROW', `input row ${row}${verdict.column ? `, column ${verdict.column}` : ''}: ${verdict.message} (skip_invalid_records is false, so the export stops before writing anything)`, {
                stage: 'read',
                details: { row, column: verdict.column, reason: verdict.reason },
              });
            }
            skipped++;
            byReason[verdict.reason] = (byReason[verdict.reason] ?? 0) + 1;
            const cells = batch.rows[i]!;
            await ctx.rejected.write({
              row,
              stage: 'validate',
              key: Array.isArray(cells) ? Object.fromEntries(current.keys.map((key) => [key.field, cells[key.index] ?? ''])) : null,
              field: verdict.column,
              code: verdict.reason,
              message: verdict.message,
              values: Array.isArray(cells) ? Object.fromEntries(reader.columns!.map((name, c) => [name, cells[c] ?? ''])) : null,
            });
            continue;
          }
          const cells = verdict.cells;
          const segment = cells[current.segmentIndex]!;
          segments.set(segment, (segments.get(segment) ?? 0) + 1);
          spool!.add(row, segment, fieldCells(cells, current.segmentIndex));
        }
        ctx.progress.advance(batch.rows.length);
        await spool!.drain();
      }
      // A header and no rows (a query that selected nothing): checked like any input, then nothing to load.
      if (!plan && reader.columns !== undefined) plan = start();
      if (!plan || !spool) throw new InputError('INPUT_EMPTY', `input ${location.uri}: no header row`, { stage: 'read' });
      await spool.finish();
    } catch (error) {
      await spool?.destroy();
      throw error;
    }
    settleInferredTypes(plan, plan.typesFrom === 'native' ? reader.nativeTypes : undefined);

    report.input.format = reader.format ?? null;
    report.input.objects = reader.objectsRead.map((object) => ({ uri: object.uri, bytes: object.bytes }));
    report.input.bytes = reader.objectsRead.reduce((sum, object) => sum + object.bytes, 0);
    report.input.compression = [...new Set(reader.objectsRead.map((object) => object.compression))].join(',') || null;
    report.input.rows = inputRows;
    report.input.types_from = plan.typesFrom;
    report.input.columns = reader.columns!.map((name, index) => {
      const column = plan!.fields.find((c) => c.index === index);
      return {
        column: name,
        field: column ? column.field : name.toUpperCase(),
        type: column ? column.type : 'string',
        role: !column ? 'segment' : plan!.keys.includes(column) ? 'key' : 'field',
      };
    });
    report.validation = { valid_rows: inputRows - skipped, skipped_rows: skipped, by_reason: byReason };
    if (inputRows === 0) logger.warn({}, 'the input has a header but no rows: nothing to load');
    if (skipped > 0) logger.warn({ skipped, byReason }, `${skipped} invalid row(s) skipped; see the rejected-rows file`);
    return { plan, spool: spool!, header: reader.columns!, inputRows, skipped, segments };
  } finally {
    await location.close();
  }
}

function fieldCells(cells: string[], segmentIndex: number): string[] {
  const out = new Array<string>(cells.length - 1);
  for (let i = 0, j = 0; i < cells.length; i++) if (i !== segmentIndex) out[j++] = cells[i]!;
  return out;
}
