import { parse as parseCsv } from 'fast-csv';
import { InputError } from '../errors.js';
import type { InferredType } from '../schema/types.js';
import type { InputFormat } from './format-detect.js';
import { jsonCell, parseJsonLine, widenNative } from './jsonl-numbers.js';
import { BLANK_LINE, oversizedRow, type RawRow } from './raw-rows.js';

/** What a ChunkParser needs, as plain data that can cross to a worker thread. */
export interface ChunkFormat {
  format: InputFormat;
  uri: string;
  maxFieldBytes: number;
  /** The columns, once known (from the header, or the first JSON Lines record). */
  columns?: string[];
}

/**
 * Parses record-aligned text into rows: CSV and TSV with fast-csv, JSON Lines line by line. Pieces
 * are independent of each other, so any number of parsers can work on one object's pieces.
 */
export class ChunkParser {
  /** For JSON Lines: the type each column's JSON values imply, over the pieces this parser saw. */
  readonly nativeTypes: InferredType[] = [];
  private index: Map<string, number> | undefined;

  constructor(
    private readonly spec: ChunkFormat,
    /** Called with the first JSON Lines record's keys (the header), which must be accepted or thrown on. */
    private readonly onHeader?: (names: string[]) => string[],
  ) {
    if (spec.columns && spec.format === 'jsonl') this.useColumns(spec.columns);
  }

  /** Delimited text: every record as its cells, the header included. */
  async cells(bytes: Buffer): Promise<string[][]> {
    const rows: string[][] = [];
    await this.eachCells(bytes, (row) => rows.push(row));
    return rows;
  }

  /**
   * Hands each record's cells to `each` as fast-csv produces them, so a row can be dealt with and
   * dropped at once instead of waiting for the whole piece.
   */
  private async eachCells(bytes: Buffer, each: (cells: string[]) => void): Promise<void> {
    const delimiter = this.spec.format === 'tsv' ? '\t' : ',';
    // TSV as Treasure Data writes it has no quoting: a quote character is data.
    // Blank records are kept: each one is a row of the input that is reported, never silently dropped.
    const parser = parseCsv({ headers: false, delimiter, quote: delimiter === '\t' ? null : '"', ignoreEmpty: false });
    parser.on('data', each);
    try {
      await new Promise<void>((resolve, reject) => {
        parser.on('error', reject);
        parser.on('end', resolve);
        parser.end(bytes);
      });
    } catch (error) {
      throw readError(error, this.spec.uri);
    }
  }

  /** Data rows of delimited text: a row with an over-long value becomes a problem. */
  delimitedRows(cells: string[][]): RawRow[] {
    return cells.map((row) => this.delimitedRow(row));
  }

  private delimitedRow(row: string[]): RawRow {
    // fast-csv gives an empty or whitespace-only line as no cells at all.
    if (row.length === 0) return BLANK_LINE;
    const maxFieldBytes = this.spec.maxFieldBytes;
    const tooLong = row.findIndex((cell) => cell.length > maxFieldBytes / 4 && Buffer.byteLength(cell) > maxFieldBytes);
    if (tooLong >= 0)
      return {
        problem: `value in column ${this.spec.columns?.[tooLong] ?? tooLong + 1} is larger than ${maxFieldBytes} bytes (max_field_bytes)`,
        reason: 'malformed_row',
      };
    // The whole row is bounded too (the reader drops longer rows that span its chunks; this catches the rest).
    let chars = row.length;
    for (const cell of row) chars += cell.length;
    if (chars <= maxFieldBytes / 3) return row;
    let bytes = row.length;
    for (const cell of row) bytes += Buffer.byteLength(cell);
    return bytes > maxFieldBytes ? oversizedRow(bytes, maxFieldBytes) : row;
  }

  /** Each row of a piece whose columns are known, handed to `each` in order as it is parsed. */
  async parseEach(bytes: Buffer, each: (row: RawRow) => void): Promise<void> {
    if (this.spec.format === 'jsonl') this.jsonLines(bytes).forEach((row) => each(row));
    else await this.eachCells(bytes, (cells) => each(this.delimitedRow(cells)));
  }

  /** JSON Lines rows; until the columns are known, the first object record sets them. */
  jsonLines(bytes: Buffer): RawRow[] {
    const rows: RawRow[] = [];
    const maxLineBytes = this.spec.maxFieldBytes;
    for (let start = 0; start < bytes.length;) {
      let end = bytes.indexOf(0x0a, start);
      if (end < 0) end = bytes.length;
      if (end - start >= maxLineBytes) {
        rows.push(oversizedRow(end - start + 1, maxLineBytes));
        start = end + 1;
        continue;
      }
      let line = bytes.toString('utf8', start, end);
      start = end + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.trim() === '') {
        // Blank lines before the first record are not rows (as blank lines before a CSV header).
        if (this.index) rows.push(BLANK_LINE);
        continue;
      }
      rows.push(this.jsonRow(line));
    }
    return rows;
  }

  private jsonRow(line: string): RawRow {
    let value: unknown;
    try {
      value = parseJsonLine(line);
    } catch (error) {
      return { problem: `not valid JSON: ${(error as Error).message}`, reason: 'malformed_row' };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value))
      return { problem: 'a JSON Lines record must be a JSON object', reason: 'malformed_row' };
    const record = value as Record<string, unknown>;
    let index = this.index;
    if (!index) {
      if (!this.onHeader) throw new Error('JSON Lines columns are not known yet');
      index = this.useColumns(this.onHeader(Object.keys(record)));
    }
    const cells: string[] = new Array<string>(index.size).fill('');
    for (const [key, cellValue] of Object.entries(record)) {
      const position = index.get(key.toLowerCase());
      if (position === undefined)
        return {
          problem: `field ${JSON.stringify(key)} is not among the columns of the first record`,
          reason: 'unknown_field',
        };
      cells[position] = jsonCell(cellValue);
      this.nativeTypes[position] = widenNative(this.nativeTypes[position] ?? 'unknown', cellValue);
    }
    return cells;
  }

  private useColumns(columns: string[]): Map<string, number> {
    this.index = new Map(columns.map((name, i) => [name.toLowerCase(), i]));
    columns.forEach((_, i) => (this.nativeTypes[i] ??= 'unknown'));
    return this.index;
  }
}

/** A parse failure as the InputError that names the object (fast-csv's own errors say neither where nor why). */
export function readError(error: unknown, uri: string): Error {
  if (error instanceof InputError || !(error instanceof Error)) return error as Error;
  if ((error as { code?: string }).code === 'ABORT_ERR') return error;
  if (/Parse Error/i.test(error.message)) {
    return new InputError(
      'INPUT_MALFORMED',
      `input ${uri}: malformed CSV: ${error.message.slice(0, 300)} (an unbalanced quote is the usual cause)`,
      { stage: 'read', details: { uri } },
    );
  }
  return error;
}
