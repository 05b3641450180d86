import { Transform, type TransformCallback } from 'node:stream';
import { parse as parseCsv } from 'fast-csv';
import { InputError, InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import { isLong, joinInferred, type InferredType } from '../schema/types.js';
import { decodeInput, type Compression } from './decode.js';
import type { InputLocation, InputObject } from './types.js';

export type InputFormat = 'csv' | 'tsv' | 'jsonl';
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'tsv', 'jsonl'];

/** A row the reader could not turn into cells; validation skips it with this reason. */
export interface RowProblem {
  problem: string;
  reason: 'malformed_row' | 'unknown_field' | 'blank_row';
}

export type RawRow = string[] | RowProblem;

export interface RowBatch {
  /** 1-based data row number (header excluded, counted across all objects) of rows[0]. */
  firstRow: number;
  rows: RawRow[];
}

export interface ObjectRead {
  uri: string;
  bytes: number;
  rows: number;
  compression: Compression;
}

export interface ReaderOptions {
  format?: InputFormat;
  maxDecompressedBytes: number;
  maxFieldBytes: number;
  logger?: Logger;
  signal?: AbortSignal;
}

const BATCH_ROWS = 2_000;
/** Record-aligned text is handed on in pieces of about this size: large enough that each costs little. */
const PIECE_BYTES = 256 * 1024;

/** The format from an explicit option, else from the object name (after any .gz), else CSV. */
export function formatFor(uri: string, explicit?: string): InputFormat {
  if (explicit) {
    const format = explicit.toLowerCase() as InputFormat;
    if (!INPUT_FORMATS.includes(format)) {
      throw new InputError('INPUT_FORMAT_INVALID', `--format: expected one of ${INPUT_FORMATS.join(', ')}, got ${JSON.stringify(explicit)}`, { stage: 'read' });
    }
    return format;
  }
  const name = uri.toLowerCase().replace(/\.(gz|gzip)$/, '');
  if (name.endsWith('.tsv') || name.endsWith('.tab')) return 'tsv';
  if (name.endsWith('.jsonl') || name.endsWith('.ndjson') || name.endsWith('.json')) return 'jsonl';
  return 'csv';
}

/**
 * A record-aligned piece of one input object's text (UTF-8, decompressed). The first piece of every
 * object is parsed where it is read, since it holds the header; the others may be parsed anywhere by a
 * ChunkParser set up with the object's format and the columns.
 */
export interface InputPiece {
  /** Index of the object in `objectsRead`. */
  object: number;
  uri: string;
  format: InputFormat;
  /** Rows already parsed (the first piece of an object). */
  rows?: RawRow[];
  /** Text still to be parsed. */
  bytes?: Buffer;
}

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
    if (tooLong >= 0) return { problem: `value in column ${this.spec.columns?.[tooLong] ?? tooLong + 1} is larger than ${maxFieldBytes} bytes (max_field_bytes)`, reason: 'malformed_row' };
    // The whole row is bounded too (the reader drops longer rows that span its chunks; this catches the rest).
    let chars = row.length;
    for (const cell of row) chars += cell.length;
    if (chars <= maxFieldBytes / 3) return row;
    let bytes = row.length;
    for (const cell of row) bytes += Buffer.byteLength(cell);
    return bytes > maxFieldBytes ? oversizedRow(bytes, maxFieldBytes) : row;
  }

  /** Rows of a piece whose columns are known. */
  async parse(bytes: Buffer): Promise<RawRow[]> {
    const rows: RawRow[] = [];
    await this.parseEach(bytes, (row) => rows.push(row));
    return rows;
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
    for (let start = 0; start < bytes.length; ) {
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
      value = JSON.parse(LONG_DIGITS.test(line) ? protectBigIntegers(line) : line);
    } catch (error) {
      return { problem: `not valid JSON: ${(error as Error).message}`, reason: 'malformed_row' };
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return { problem: 'a JSON Lines record must be a JSON object', reason: 'malformed_row' };
    const record = value as Record<string, unknown>;
    if (!this.index) {
      if (!this.onHeader) throw new Error('JSON Lines columns are not known yet');
      this.useColumns(this.onHeader(Object.keys(record)));
    }
    const index = this.index!;
    const cells: string[] = new Array<string>(index.size).fill('');
    for (const [key, cellValue] of Object.entries(record)) {
      const position = index.get(key.toLowerCase());
      if (position === undefined) return { problem: `field ${JSON.stringify(key)} is not among the columns of the first record`, reason: 'unknown_field' };
      cells[position] = jsonCell(cellValue);
      this.nativeTypes[position] = widenNative(this.nativeTypes[position]!, cellValue);
    }
    return cells;
  }

  private useColumns(columns: string[]): void {
    this.index = new Map(columns.map((name, i) => [name.toLowerCase(), i]));
    columns.forEach((_, i) => (this.nativeTypes[i] ??= 'unknown'));
  }
}

/**
 * Reads every object of the input in order. Every part must start with the same header (CSV/TSV) as
 * the first; JSON Lines takes its columns from the first record.
 */
export class InputReader {
  columns: string[] | undefined;
  /** For JSON Lines: the type each column's JSON values imply, over the rows parsed by this reader. */
  readonly nativeTypes: InferredType[] = [];
  readonly objectsRead: ObjectRead[] = [];
  format: InputFormat | undefined;

  constructor(
    private readonly location: InputLocation,
    private readonly objects: InputObject[],
    private readonly options: ReaderOptions,
  ) {}

  /**
   * Every object's text in record-aligned pieces, in order. The first piece of each object is parsed
   * here to read and check its header; `columns` is set once the first piece has been yielded.
   */
  async *pieces(): AsyncGenerator<InputPiece> {
    for (const object of this.objects) {
      const format = formatFor(object.uri, this.options.format);
      this.format ??= format;
      const raw = await this.location.open(object);
      const read: ObjectRead = { uri: object.uri, bytes: 0, rows: 0, compression: 'none' };
      const objectIndex = this.objectsRead.push(read) - 1;
      const counted = raw.pipe(
        new Transform({
          transform(chunk: Buffer, _encoding, callback) {
            read.bytes += chunk.length;
            callback(null, chunk);
          },
        }),
      );
      raw.on('error', (error) => counted.destroy(error));
      const decoded = await decodeInput(counted, object.uri, this.options.maxDecompressedBytes);
      read.compression = decoded.compression;
      this.options.logger?.info({ object: object.uri, compression: decoded.compression, format }, 'reading input object');
      const aligner = new RecordAligner(format === 'csv', this.options.maxFieldBytes, (limit) => recordTooLarge(object.uri, limit));
      decoded.stream.on('error', (error) => aligner.destroy(error));
      decoded.stream.pipe(aligner);
      const spec: ChunkFormat = { format, uri: object.uri, maxFieldBytes: this.options.maxFieldBytes };
      let headerRead = false;
      const parser = new ChunkParser(spec, (names) => {
        this.acceptHeader(names, object.uri);
        headerRead = true;
        return this.columns!;
      });
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      // Blank lines at the end of what was read so far: rows if a record follows them, dropped at the end of the object.
      const withoutBlankTail = (bytes: Buffer): Buffer => {
        const body = bodyBeforeBlankTail(bytes);
        if (body < bytes.length) {
          pending = [bytes.subarray(body)];
          pendingBytes = bytes.length - body;
        }
        return bytes.subarray(0, body);
      };
      const piece = async (bytes: Buffer): Promise<InputPiece> => {
        if (headerRead) return { object: objectIndex, uri: object.uri, format, bytes };
        // Until this object's header is read, its text is parsed here.
        let rows: RawRow[];
        if (format === 'jsonl') rows = parser.jsonLines(bytes);
        else {
          const cells = await parser.cells(bytes);
          while (cells.length > 0 && cells[0]!.length === 0) cells.shift();
          if (cells.length > 0) {
            this.acceptHeader(cells.shift()!, object.uri);
            headerRead = true;
            spec.columns = this.columns;
          }
          rows = parser.delimitedRows(cells);
        }
        return { object: objectIndex, uri: object.uri, format, rows };
      };
      try {
        for await (const chunk of aligner as AsyncIterable<Buffer | OversizedRecord>) {
          if (!Buffer.isBuffer(chunk)) {
            // The rows before it go first, so it keeps its place (and number) among them.
            if (pendingBytes > 0) yield await piece(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
            pending = [];
            pendingBytes = 0;
            if (!headerRead && format !== 'jsonl') throw recordTooLarge(object.uri, this.options.maxFieldBytes);
            yield { object: objectIndex, uri: object.uri, format, rows: [oversizedRow(chunk.oversized, this.options.maxFieldBytes)] };
            continue;
          }
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes < PIECE_BYTES && headerRead) continue;
          if (this.options.signal?.aborted) throw new InterruptedError(this.options.signal.reason);
          const whole = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
          pending = [];
          pendingBytes = 0;
          const bytes = withoutBlankTail(whole);
          if (bytes.length > 0) yield await piece(bytes);
        }
        if (pendingBytes > 0) {
          const bytes = withoutBlankTail(pending.length === 1 ? pending[0]! : Buffer.concat(pending));
          if (bytes.length > 0) yield await piece(bytes);
        }
      } catch (error) {
        throw readError(error, object.uri);
      } finally {
        decoded.stream.destroy();
        aligner.destroy();
        raw.destroy();
      }
      parser.nativeTypes.forEach((type, i) => (this.nativeTypes[i] = joinInferred(this.nativeTypes[i] ?? 'unknown', type)));
      if (this.columns === undefined) {
        throw new InputError('INPUT_EMPTY', `input ${object.uri}: the file is empty (no header row)`, { stage: 'read', details: { uri: object.uri } });
      }
    }
  }

  /** Every row, parsed on this thread, in batches with their row numbers. */
  async *batches(): AsyncGenerator<RowBatch> {
    let nextRow = 1;
    let batch: RawRow[] = [];
    let parser: ChunkParser | undefined;
    let parserObject = -1;
    let currentObject = 0;
    for await (const piece of this.pieces()) {
      // A batch holds rows of one object.
      if (piece.object !== currentObject && batch.length > 0) {
        yield { firstRow: nextRow, rows: batch };
        nextRow += batch.length;
        batch = [];
      }
      currentObject = piece.object;
      let rows = piece.rows;
      if (!rows) {
        if (parserObject !== piece.object) {
          parser = new ChunkParser({ format: piece.format, uri: piece.uri, maxFieldBytes: this.options.maxFieldBytes, columns: this.columns });
          parserObject = piece.object;
        }
        rows = await parser!.parse(piece.bytes!);
        parser!.nativeTypes.forEach((type, i) => (this.nativeTypes[i] = joinInferred(this.nativeTypes[i] ?? 'unknown', type)));
      }
      this.objectsRead[piece.object]!.rows += rows.length;
      for (const row of rows) {
        batch.push(row);
        if (batch.length >= BATCH_ROWS) {
          yield { firstRow: nextRow, rows: batch };
          nextRow += batch.length;
          batch = [];
        }
      }
    }
    if (batch.length > 0) yield { firstRow: nextRow, rows: batch };
  }

  private acceptHeader(header: string[], uri: string): void {
    const names = header.map((name) => name.trim());
    const problems: string[] = [];
    names.forEach((name, i) => {
      if (name === '') problems.push(`column ${i + 1} has an empty name`);
    });
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      const key = name.toUpperCase();
      if (name !== '' && seen.has(key)) problems.push(`column ${i + 1} ${JSON.stringify(name)} repeats column ${seen.get(key)! + 1} (field names are upper-cased, so they must differ by more than case)`);
      seen.set(key, i);
    });
    if (problems.length > 0) {
      throw new InputError('INPUT_HEADER_INVALID', `input ${uri}: bad header row: ${problems.join('; ')}`, { stage: 'read', details: { uri } });
    }
    if (this.columns === undefined) {
      this.columns = names;
      return;
    }
    const same = names.length === this.columns.length && names.every((name, i) => name.toUpperCase() === this.columns![i]!.toUpperCase());
    if (!same) {
      throw new InputError('INPUT_HEADER_MISMATCH', `input ${uri}: its header (${names.join(',')}) differs from the first part's (${this.columns.join(',')}); every part of a query result must have the same columns`, {
        stage: 'read',
        details: { uri },
      });
    }
  }
}

/**
 * A line with nothing on it but spaces. Inside the input it is a row like any other (invalid, reported
 * as blank_row), so the rows after it keep their numbers; the blank lines that end an object are not
 * records (a file ending in an extra newline or two has no rows there).
 */
const BLANK_LINE: RowProblem = { problem: 'the row is blank (an empty line)', reason: 'blank_row' };

/**
 * Where the blank lines at the end of record-aligned text start: after the last newline that ends a
 * record. The text ends outside quotes, and a run of spaces, CR and LF holds no quote, so every newline
 * in the run is outside quotes too.
 */
export function bodyBeforeBlankTail(bytes: Buffer): number {
  let start = bytes.length;
  while (start > 0) {
    const byte = bytes[start - 1]!;
    if (byte !== NEWLINE && byte !== CARRIAGE_RETURN && byte !== SPACE) break;
    start--;
  }
  // The record before the run (if any) keeps its own line end.
  const firstNewline = bytes.indexOf(NEWLINE, start);
  if (firstNewline < 0) return bytes.length;
  return start === 0 ? 0 : firstNewline + 1;
}

/** A number with this many digits may not survive a double: it is read as text instead. */
const LONG_DIGITS = /\d{16}/;
const BIG_INTEGER_MARK = '\u0000bigint:';

/**
 * Wraps integer literals of 16 or more digits in quotes (with a mark) before JSON.parse, which would
 * round them to a double: a 64-bit customer id must keep its digits. Text inside strings is untouched.
 */
export function protectBigIntegers(line: string): string {
  let out = '';
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c !== 45 && !isDigit(c)) continue;
    // A whole number token: sign, digits, then any fraction or exponent.
    let end = c === 45 ? i + 1 : i;
    while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    const digits = end - (c === 45 ? i + 1 : i);
    let integer = true;
    if (line.charCodeAt(end) === 46) {
      integer = false;
      end++;
      while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    }
    if (line.charCodeAt(end) === 101 || line.charCodeAt(end) === 69) {
      integer = false;
      end++;
      if (line.charCodeAt(end) === 43 || line.charCodeAt(end) === 45) end++;
      while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    }
    if (integer && digits >= 16) {
      // The mark is written as the JSON escape \u0000, which JSON.parse turns into the character.
      out += `${line.slice(start, i)}"\\u0000bigint:${line.slice(i, end)}"`;
      start = end;
    }
    i = end - 1;
  }
  return out + line.slice(start);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function jsonCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value.startsWith(BIG_INTEGER_MARK) ? value.slice(BIG_INTEGER_MARK.length) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

function widenNative(current: InferredType, value: unknown): InferredType {
  if (value === null || value === undefined || current === 'string') return current;
  const kind: InferredType =
    typeof value === 'boolean'
      ? 'boolean'
      : typeof value === 'number'
        ? Number.isSafeInteger(value)
          ? 'long'
          : 'double'
        : typeof value === 'string' && value.startsWith(BIG_INTEGER_MARK)
          ? isLong(value.slice(BIG_INTEGER_MARK.length))
            ? 'long'
            : 'string'
          : 'string';
  return joinInferred(current, kind);
}

function readError(error: unknown, uri: string): Error {
  if (error instanceof InputError || !(error instanceof Error)) return error as Error;
  if ((error as { code?: string }).code === 'ABORT_ERR') return error;
  if (/Parse Error/i.test(error.message)) {
    return new InputError('INPUT_MALFORMED', `input ${uri}: malformed CSV: ${error.message.slice(0, 300)} (an unbalanced quote is the usual cause)`, { stage: 'read', details: { uri } });
  }
  return error;
}

function recordTooLarge(uri: string, maxRecordBytes: number): InputError {
  return new InputError('INPUT_MALFORMED', `input ${uri}: a record runs past ${maxRecordBytes} bytes (max_field_bytes) without ending (an unbalanced quote, or a header larger than max_field_bytes)`, {
    stage: 'read',
    details: { uri },
  });
}

/** A row whose text is larger than max_field_bytes: it was not kept, only measured. */
function oversizedRow(bytes: number, maxFieldBytes: number): RowProblem {
  return { problem: `the row is ${bytes} bytes, larger than ${maxFieldBytes} bytes (max_field_bytes); its values were not read`, reason: 'malformed_row' };
}

/** What the RecordAligner hands on in place of a record larger than its limit: only its size is kept. */
export interface OversizedRecord {
  oversized: number;
}

/**
 * Passes text on in pieces that end at a record boundary (a newline outside quotes). fast-csv parses
 * an unfinished record again from its start with every new chunk, so a single multi-megabyte field
 * would cost time quadratic in its size; whole records are parsed once. A record that grows past the
 * limit is not held: its bytes are dropped as they arrive, and once it ends an OversizedRecord takes
 * its place, so the row is reported as invalid and every later row keeps its number. Memory is then
 * bounded by the limit, whatever the size of a value.
 */
export class RecordAligner extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of an over-long record dropped so far; -1 while no record is being dropped. */
  private dropped = -1;
  /** Whether the end of the bytes seen so far is inside a quoted value. */
  private inQuotes = false;
  /** The last byte seen; a file starts like a new line. */
  private previousByte = NEWLINE;
  /** The last chunk ended on a quote inside a quoted value (closing, or the first half of `""`). */
  private quoteAtEnd = false;
  /** The first newline outside quotes of the chunk last scanned, or -1. */
  private firstBoundary = -1;

  constructor(
    private readonly quoted: boolean,
    /** A record larger than this (bytes, its newline included) is dropped and reported by size. */
    private readonly maxRecordBytes: number,
    /** The error for input that ends inside a dropped record's open quote. */
    private readonly tooLarge: (maxRecordBytes: number) => Error,
  ) {
    super({ readableObjectMode: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const cut = this.lastBoundary(chunk);
    if (cut < 0) {
      if (this.dropped >= 0) this.dropped += chunk.length;
      else this.hold(chunk);
      callback();
      return;
    }
    let start = 0;
    const first = this.firstBoundary;
    if (this.dropped >= 0) {
      this.push({ oversized: this.dropped + first + 1 } satisfies OversizedRecord);
      this.dropped = -1;
      start = first + 1;
    } else if (this.pendingBytes > 0 && this.pendingBytes + first + 1 > this.maxRecordBytes) {
      this.push({ oversized: this.pendingBytes + first + 1 } satisfies OversizedRecord);
      this.pending = [];
      this.pendingBytes = 0;
      start = first + 1;
    }
    if (start <= cut) {
      const head = chunk.subarray(start, cut + 1);
      if (this.pending.length > 0) this.push(Buffer.concat([...this.pending, head]));
      else this.push(head);
    }
    this.pending = [];
    this.pendingBytes = 0;
    if (cut + 1 < chunk.length) this.hold(Buffer.from(chunk.subarray(cut + 1)));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.dropped >= 0) {
      // Still inside quotes at the end: the quote never closed, so this is no record at all.
      if (this.quoted && this.inQuotes) {
        callback(this.tooLarge(this.maxRecordBytes));
        return;
      }
      this.push({ oversized: this.dropped } satisfies OversizedRecord);
    } else if (this.pending.length > 0) this.push(Buffer.concat(this.pending));
    callback();
  }

  /** Holds the start of an unfinished record; one that outgrows the limit is dropped from here on. */
  private hold(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
    if (this.pendingBytes > this.maxRecordBytes) {
      this.dropped = this.pendingBytes;
      this.pending = [];
      this.pendingBytes = 0;
    }
  }

  /**
   * Index of the last newline outside quotes in the chunk, or -1; carries the quote state over and
   * notes the first such newline in `firstBoundary`. As in RFC 4180 (and fast-csv), a quote opens a
   * quoted value only at the start of a field; elsewhere it is data. Inside a quoted value `""` is a
   * quote and a lone `"` closes it.
   */
  private lastBoundary(chunk: Buffer): number {
    if (!this.quoted) {
      this.firstBoundary = chunk.indexOf(NEWLINE);
      return this.firstBoundary < 0 ? -1 : chunk.lastIndexOf(NEWLINE);
    }
    let boundary = -1;
    let first = -1;
    let position = 0;
    let inQuotes = this.inQuotes;
    let previous = this.previousByte;
    if (this.quoteAtEnd) {
      // The last chunk ended on a quote inside a quoted value: a second quote here makes it `""`.
      this.quoteAtEnd = false;
      if (chunk[0] === QUOTE) position = 1;
      else inQuotes = false;
      previous = QUOTE;
    }
    while (position < chunk.length) {
      const quote = chunk.indexOf(QUOTE, position);
      if (!inQuotes) {
        const end = quote < 0 ? chunk.length : quote;
        if (end > position) {
          const newline = chunk.lastIndexOf(NEWLINE, end - 1);
          if (newline >= position) {
            boundary = newline;
            if (first < 0) first = chunk.indexOf(NEWLINE, position);
          }
          previous = chunk[end - 1]!;
        }
        if (quote < 0) break;
        if (previous === COMMA || previous === NEWLINE || previous === CARRIAGE_RETURN) inQuotes = true;
        previous = QUOTE;
        position = quote + 1;
        continue;
      }
      if (quote < 0) {
        previous = chunk[chunk.length - 1]!;
        break;
      }
      previous = QUOTE;
      if (quote === chunk.length - 1) {
        this.quoteAtEnd = true;
        break;
      }
      if (chunk[quote + 1] === QUOTE) {
        position = quote + 2;
        continue;
      }
      inQuotes = false;
      position = quote + 1;
    }
    this.inQuotes = inQuotes;
    this.previousByte = previous;
    this.firstBoundary = first;
    return boundary;
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;
const SPACE = 0x20;
const QUOTE = 0x22;
