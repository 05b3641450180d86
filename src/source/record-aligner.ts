import { Transform, type TransformCallback } from 'node:stream';

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
          previous = chunk[end - 1] ?? previous;
        }
        if (quote < 0) break;
        if (previous === COMMA || previous === NEWLINE || previous === CARRIAGE_RETURN) inQuotes = true;
        previous = QUOTE;
        position = quote + 1;
        continue;
      }
      if (quote < 0) {
        previous = chunk[chunk.length - 1] ?? previous;
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

/**
 * Where the blank lines at the end of record-aligned text start: after the last newline that ends a
 * record. The text ends outside quotes, and a run of spaces, CR and LF holds no quote, so every newline
 * in the run is outside quotes too.
 */
export function bodyBeforeBlankTail(bytes: Buffer): number {
  let start = bytes.length;
  while (start > 0) {
    const byte = bytes[start - 1];
    if (byte !== NEWLINE && byte !== CARRIAGE_RETURN && byte !== SPACE) break;
    start--;
  }
  // The record before the run (if any) keeps its own line end.
  const firstNewline = bytes.indexOf(NEWLINE, start);
  if (firstNewline < 0) return bytes.length;
  return start === 0 ? 0 : firstNewline + 1;
}

const NEWLINE = 0x0a;
const CARRIAGE_RETURN = 0x0d;
const COMMA = 0x2c;
const SPACE = 0x20;
const QUOTE = 0x22;
