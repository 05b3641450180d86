import { Transform, type Readable, type TransformCallback } from 'node:stream';
import { parse as parseCsv } from 'fast-csv';
import { InputError, InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import { isLong, type InferredType } from '../schema/types.js';
import { decodeInput, type Compression } from './decode.js';
import type { InputLocation, InputObject } from './types.js';

export type InputFormat = 'csv' | 'tsv' | 'jsonl';
export const INPUT_FORMATS: readonly InputFormat[] = ['csv', 'tsv', 'jsonl'];

/** A row the reader could not turn into cells; validation skips it with this reason. */
export interface RowProblem {
  problem: string;
  reason: 'malformed_row' | 'unknown_field';
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
 * Reads every object of the input in order as batches of rows. Every part must start with the same
 * header (CSV/TSV) as the first; JSON Lines takes its columns from the first record.
 */
export class InputReader {
  columns: string[] | undefined;
  /** For JSON Lines: the type each column's JSON values imply. */
  readonly nativeTypes: InferredType[] = [];
  readonly objectsRead: ObjectRead[] = [];
  format: InputFormat | undefined;

  constructor(
    private readonly location: InputLocation,
    private readonly objects: InputObject[],
    private readonly options: ReaderOptions,
  ) {}

  async *batches(): AsyncGenerator<RowBatch> {
    let nextRow = 1;
    for (const object of this.objects) {
      const format = formatFor(object.uri, this.options.format);
      this.format ??= format;
      const raw = await this.location.open(object);
      const read: ObjectRead = { uri: object.uri, bytes: 0, rows: 0, compression: 'none' };
      this.objectsRead.push(read);
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
      const rows = format === 'jsonl' ? this.jsonLines(decoded.stream, object.uri) : this.delimited(decoded.stream, object.uri, format === 'tsv' ? '\t' : ',');
      let batch: RawRow[] = [];
      try {
        for await (const row of rows) {
          batch.push(row);
          if (batch.length >= BATCH_ROWS) {
            yield { firstRow: nextRow, rows: batch };
            nextRow += batch.length;
            read.rows += batch.length;
            batch = [];
            if (this.options.signal?.aborted) throw new InterruptedError(this.options.signal.reason);
          }
        }
      } finally {
        decoded.stream.destroy();
        raw.destroy();
      }
      if (batch.length > 0) {
        yield { firstRow: nextRow, rows: batch };
        nextRow += batch.length;
        read.rows += batch.length;
      }
      if (this.columns === undefined) {
        throw new InputError('INPUT_EMPTY', `input ${object.uri}: the file is empty (no header row)`, { stage: 'read', details: { uri: object.uri } });
      }
    }
  }

  private async *delimited(stream: Readable, uri: string, delimiter: string): AsyncGenerator<RawRow> {
    // TSV as Treasure Data writes it has no quoting: a quote character is data.
    const quoted = delimiter !== '\t';
    const parser = parseCsv({ headers: false, delimiter, quote: quoted ? '"' : null, ignoreEmpty: true });
    const aligner = new RecordAligner(quoted, this.options.maxFieldBytes, uri);
    stream.on('error', (error) => aligner.destroy(error));
    aligner.on('error', (error) => parser.destroy(error));
    stream.pipe(aligner).pipe(parser);
    let header: string[] | undefined;
    const maxFieldBytes = this.options.maxFieldBytes;
    try {
      for await (const cells of parser as AsyncIterable<string[]>) {
        if (!header) {
          header = cells;
          this.acceptHeader(cells, uri);
          continue;
        }
        const tooLong = cells.findIndex((cell) => cell.length > maxFieldBytes / 4 && Buffer.byteLength(cell) > maxFieldBytes);
        if (tooLong >= 0) {
          yield { problem: `value in column ${header[tooLong] ?? tooLong + 1} is larger than ${maxFieldBytes} bytes (max_field_bytes)`, reason: 'malformed_row' };
          continue;
        }
        yield cells;
      }
    } catch (error) {
      throw readError(error, uri);
    }
  }

  private async *jsonLines(stream: Readable, uri: string): AsyncGenerator<RawRow> {
    const lines = stream.pipe(new LineSplitter(this.options.maxFieldBytes, uri));
    stream.on('error', (error) => lines.destroy(error));
    let index: Map<string, number> | undefined;
    try {
      for await (const line of lines as AsyncIterable<string>) {
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(LONG_DIGITS.test(line) ? protectBigIntegers(line) : line);
        } catch (error) {
          yield { problem: `not valid JSON: ${(error as Error).message}`, reason: 'malformed_row' };
          continue;
        }
        if (value === null || typeof value !== 'object' || Array.isArray(value)) {
          yield { problem: 'a JSON Lines record must be a JSON object', reason: 'malformed_row' };
          continue;
        }
        const record = value as Record<string, unknown>;
        if (!index) {
          const keys = Object.keys(record);
          this.acceptHeader(keys, uri);
          index = new Map(this.columns!.map((name, i) => [name.toLowerCase(), i]));
          this.columns!.forEach((_, i) => (this.nativeTypes[i] ??= 'unknown'));
        }
        const cells: string[] = new Array<string>(index.size).fill('');
        let unknown: string | undefined;
        for (const [key, cellValue] of Object.entries(record)) {
          const position = index.get(key.toLowerCase());
          if (position === undefined) {
            unknown = key;
            break;
          }
          cells[position] = jsonCell(cellValue);
          this.nativeTypes[position] = widenNative(this.nativeTypes[position]!, cellValue);
        }
        if (unknown !== undefined) {
          yield { problem: `field ${JSON.stringify(unknown)} is not among the columns of the first record`, reason: 'unknown_field' };
          continue;
        }
        yield cells;
      }
    } catch (error) {
      throw readError(error, uri);
    }
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
  if (current === 'unknown' || current === kind) return kind;
  if ((current === 'long' && kind === 'double') || (current === 'double' && kind === 'long')) return 'double';
  return 'string';
}

function readError(error: unknown, uri: string): Error {
  if (error instanceof InputError || !(error instanceof Error)) return error as Error;
  if ((error as { code?: string }).code === 'ABORT_ERR') return error;
  if (/Parse Error/i.test(error.message)) {
    return new InputError('INPUT_MALFORMED', `input ${uri}: malformed CSV: ${error.message.slice(0, 300)} (an unbalanced quote is the usual cause)`, { stage: 'read', details: { uri } });
  }
  return error;
}

/** Splits UTF-8 text into lines without holding more than one line (bounded by maxLineBytes). */
class LineSplitter extends Transform {
  private pending = '';

  constructor(
    private readonly maxLineBytes: number,
    private readonly uri: string,
  ) {
    super({ readableObjectMode: true, decodeStrings: true });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const text = this.pending + chunk.toString('utf8');
    const lines = text.split('\n');
    this.pending = lines.pop()!;
    if (this.pending.length > this.maxLineBytes) {
      callback(this.tooLarge());
      return;
    }
    for (const line of lines) {
      if (line.length > this.maxLineBytes && Buffer.byteLength(line) > this.maxLineBytes) {
        callback(this.tooLarge());
        return;
      }
      this.push(line.endsWith('\r') ? line.slice(0, -1) : line);
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending !== '') this.push(this.pending);
    callback();
  }

  private tooLarge(): InputError {
    return new InputError('INPUT_MALFORMED', `input ${this.uri}: a JSON Lines record is larger than ${this.maxLineBytes} bytes (max_field_bytes)`, { stage: 'read', details: { uri: this.uri } });
  }
}

/**
 * Passes text on in pieces that end at a record boundary (a newline outside quotes). fast-csv parses
 * an unfinished record again from its start with every new chunk, so a single multi-megabyte field
 * would cost time quadratic in its size; whole records are parsed once. A record that grows past the
 * limit without ending is refused instead of buffered without bound.
 */
export class RecordAligner extends Transform {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Whether the end of the bytes seen so far is inside a quoted value. */
  private inQuotes = false;
  /** The last byte seen; a file starts like a new line. */
  private previousByte = NEWLINE;
  /** The last chunk ended on a quote inside a quoted value (closing, or the first half of `""`). */
  private quoteAtEnd = false;
  private readonly maxRecordBytes: number;

  constructor(
    private readonly quoted: boolean,
    maxFieldBytes: number,
    private readonly uri: string,
  ) {
    super();
    this.maxRecordBytes = maxFieldBytes * 4 + 1024 * 1024;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    const cut = this.lastBoundary(chunk);
    if (cut < 0) {
      this.hold(chunk);
      callback(this.pendingBytes > this.maxRecordBytes ? this.tooLarge() : undefined);
      return;
    }
    const head = chunk.subarray(0, cut + 1);
    if (this.pending.length > 0) {
      this.push(Buffer.concat([...this.pending, head]));
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.push(head);
    }
    if (cut + 1 < chunk.length) this.hold(Buffer.from(chunk.subarray(cut + 1)));
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.pending.length > 0) this.push(Buffer.concat(this.pending));
    callback();
  }

  private hold(chunk: Buffer): void {
    this.pending.push(chunk);
    this.pendingBytes += chunk.length;
  }

  /**
   * Index of the last newline outside quotes in the chunk, or -1; carries the quote state over. As in
   * RFC 4180 (and fast-csv), a quote opens a quoted value only at the start of a field; elsewhere it
   * is data. Inside a quoted value `""` is a quote and a lone `"` closes it.
   */
  private lastBoundary(chunk: Buffer): number {
    if (!this.quoted) return chunk.lastIndexOf(NEWLINE);
    let boundary = -1;
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
          if (newline >= position) boundary = newline;
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
    return boundary;
  }

  private tooLarge(): InputError {
    return new InputError('INPUT_MALFORMED', `input ${this.uri}: a record runs past ${this.maxRecordBytes} bytes without ending (an unbalanced quote, or values over max_field_bytes)`, {
      stage: 'read',
      details: { uri: this.uri },
    });
  }
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;
const QUOTE = 0x22;
