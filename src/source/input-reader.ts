import { Transform } from 'node:stream';
import { InputError, InterruptedError } from '../errors.js';
import type { Logger } from '../log.js';
import { joinInferred, type InferredType } from '../schema/types.js';
import { ChunkParser, readError, type ChunkFormat } from './chunk-parser.js';
import { decodeInput, type Compression } from './decode.js';
import { formatFor, type InputFormat } from './format-detect.js';
import { oversizedRow, type RawRow } from './raw-rows.js';
import { bodyBeforeBlankTail, RecordAligner, type OversizedRecord } from './record-aligner.js';
import type { InputLocation, InputObject } from './types.js';

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

/** Record-aligned text is handed on in pieces of about this size: large enough that each costs little. */
export const PIECE_BYTES = 256 * 1024;

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
      this.options.logger?.info(
        { object: object.uri, compression: decoded.compression, format },
        'reading input object',
      );
      const aligner = new RecordAligner(format === 'csv', this.options.maxFieldBytes, (limit) =>
        recordTooLarge(object.uri, limit),
      );
      decoded.stream.on('error', (error) => aligner.destroy(error));
      decoded.stream.pipe(aligner);
      const spec: ChunkFormat = { format, uri: object.uri, maxFieldBytes: this.options.maxFieldBytes };
      let headerRead = false;
      const parser = new ChunkParser(spec, (names) => {
        const columns = this.acceptHeader(names, object.uri);
        headerRead = true;
        return columns;
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
          while (cells[0]?.length === 0) cells.shift();
          const header = cells.shift();
          if (header) {
            spec.columns = this.acceptHeader(header, object.uri);
            headerRead = true;
          }
          rows = parser.delimitedRows(cells);
        }
        return { object: objectIndex, uri: object.uri, format, rows };
      };
      try {
        for await (const chunk of aligner as AsyncIterable<Buffer | OversizedRecord>) {
          if (!Buffer.isBuffer(chunk)) {
            // The rows before it go first, so it keeps its place (and number) among them.
            if (pendingBytes > 0) yield await piece(joined(pending));
            pending = [];
            pendingBytes = 0;
            if (!headerRead && format !== 'jsonl') throw recordTooLarge(object.uri, this.options.maxFieldBytes);
            yield {
              object: objectIndex,
              uri: object.uri,
              format,
              rows: [oversizedRow(chunk.oversized, this.options.maxFieldBytes)],
            };
            continue;
          }
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes < PIECE_BYTES && headerRead) continue;
          if (this.options.signal?.aborted) throw new InterruptedError(this.options.signal.reason);
          const whole = joined(pending);
          pending = [];
          pendingBytes = 0;
          const bytes = withoutBlankTail(whole);
          if (bytes.length > 0) yield await piece(bytes);
        }
        if (pendingBytes > 0) {
          const bytes = withoutBlankTail(joined(pending));
          if (bytes.length > 0) yield await piece(bytes);
        }
      } catch (error) {
        throw readError(error, object.uri);
      } finally {
        decoded.stream.destroy();
        aligner.destroy();
        raw.destroy();
      }
      parser.nativeTypes.forEach(
        (type, i) => (this.nativeTypes[i] = joinInferred(this.nativeTypes[i] ?? 'unknown', type)),
      );
      if (this.columns === undefined) {
        throw new InputError('INPUT_EMPTY', `input ${object.uri}: the file is empty (no header row)`, {
          stage: 'read',
          details: { uri: object.uri },
        });
      }
    }
  }

  /** Checks a header row (the first object's sets the columns, every later one must match them); returns the columns. */
  private acceptHeader(header: string[], uri: string): string[] {
    const names = header.map((name) => name.trim());
    const problems: string[] = [];
    names.forEach((name, i) => {
      if (name === '') problems.push(`column ${i + 1} has an empty name`);
    });
    const seen = new Map<string, number>();
    names.forEach((name, i) => {
      const key = name.toUpperCase();
      const earlier = seen.get(key);
      if (name !== '' && earlier !== undefined)
        problems.push(
          `column ${i + 1} ${JSON.stringify(name)} repeats column ${earlier + 1} (field names are upper-cased, so they must differ by more than case)`,
        );
      seen.set(key, i);
    });
    if (problems.length > 0) {
      throw new InputError('INPUT_HEADER_INVALID', `input ${uri}: bad header row: ${problems.join('; ')}`, {
        stage: 'read',
        details: { uri },
      });
    }
    const columns = this.columns;
    if (columns === undefined) {
      this.columns = names;
      return names;
    }
    const same =
      names.length === columns.length && names.every((name, i) => name.toUpperCase() === columns[i]?.toUpperCase());
    if (!same) {
      throw new InputError(
        'INPUT_HEADER_MISMATCH',
        `input ${uri}: its header (${names.join(',')}) differs from the first part's (${columns.join(',')}); every part of a query result must have the same columns`,
        {
          stage: 'read',
          details: { uri },
        },
      );
    }
    return columns;
  }
}

/** One buffer of the pieces' bytes, copied only when there is more than one. */
function joined(pieces: Buffer[]): Buffer {
  const [first] = pieces;
  return pieces.length === 1 && first ? first : Buffer.concat(pieces);
}

function recordTooLarge(uri: string, maxRecordBytes: number): InputError {
  return new InputError(
    'INPUT_MALFORMED',
    `input ${uri}: a record runs past ${maxRecordBytes} bytes (max_field_bytes) without ending (an unbalanced quote, or a header larger than max_field_bytes)`,
    {
      stage: 'read',
      details: { uri },
    },
  );
}
