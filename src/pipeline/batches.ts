/**
 * Groups serialized rows into request bodies bounded by a row count and a byte size. Pure: the caller
 * feeds rows and receives full batches.
 *
 * A batch is its finished request body plus where each row starts in it, so it can cross to another
 * thread as one transferable buffer, and a row's text is decoded again only when Selligent rejects it or
 * the batch has to be split. Rows are written straight into the body's bytes as they arrive.
 */

export interface Batch {
  /** Input row number of each row (for mapping Selligent's record_index back). */
  rows: number[];
  /**
   * The request body: `[` + the rows' JSON array texts joined by `,` + `]`. It has memory of its own
   * (never a slice of Node's shared pool), so it can be transferred to another thread.
   */
  body: Buffer;
  /** Byte offset of each row's JSON in `body`; a row ends one byte before the next row starts. */
  starts: Uint32Array;
}

const OPEN = 0x5b;
const COMMA = 0x2c;
const CLOSE = 0x5d;
const INITIAL_BYTES = 64 * 1024;

export class BatchBuilder {
  private rows: number[] = [];
  private starts: number[] = [];
  private buffer = Buffer.allocUnsafe(INITIAL_BYTES);
  /** Bytes written: the opening bracket, then each row followed by a comma. */
  private length = 1;

  constructor(
    /** May change between rows: Segment requests are sized from how fast the service answers. */
    public maxRows: number,
    private readonly maxBytes: number,
  ) {
    this.buffer[0] = OPEN;
  }

  /** Adds a row given as JSON array text; returns the batch it completed, if any. */
  add(row: number, json: string): Batch | undefined {
    const size = Buffer.byteLength(json);
    const full = this.makeRoom(size);
    this.buffer.write(json, this.length, size, 'utf8');
    this.commit(row, size);
    return full ?? this.takeIfFull();
  }

  /** Adds a row given as the UTF-8 bytes `source[start, end)` of its JSON array text. */
  addBytes(row: number, source: Uint8Array, start: number, end: number): Batch | undefined {
    const size = end - start;
    const full = this.makeRoom(size);
    this.buffer.set(source.subarray(start, end), this.length);
    this.commit(row, size);
    return full ?? this.takeIfFull();
  }

  /** The last, partly filled batch. */
  finish(): Batch | undefined {
    return this.rows.length === 0 ? undefined : this.take();
  }

  /** Completes the current batch first if a row of `size` bytes would overflow it; ensures capacity. */
  private makeRoom(size: number): Batch | undefined {
    const full =
      this.rows.length > 0 && (this.rows.length >= this.maxRows || this.length + size + 1 > this.maxBytes)
        ? this.take()
        : undefined;
    const needed = this.length + size + 1;
    if (needed > this.buffer.length) {
      const grown = Buffer.allocUnsafe(Math.max(needed, this.buffer.length * 2));
      this.buffer.copy(grown, 0, 0, this.length);
      this.buffer = grown;
    }
    return full;
  }

  private commit(row: number, size: number): void {
    this.rows.push(row);
    this.starts.push(this.length);
    this.length += size;
    this.buffer[this.length++] = COMMA;
  }

  private takeIfFull(): Batch | undefined {
    return this.rows.length >= this.maxRows ? this.take() : undefined;
  }

  private take(): Batch {
    // The last comma becomes the closing bracket; the body gets its own exactly sized memory.
    this.buffer[this.length - 1] = CLOSE;
    const body = Buffer.allocUnsafeSlow(this.length);
    this.buffer.copy(body, 0, 0, this.length);
    const batch: Batch = { rows: this.rows, body, starts: Uint32Array.from(this.starts) };
    this.rows = [];
    this.starts = [];
    this.length = 1;
    return batch;
  }
}

/** Row `index` of the batch as JSON array text, as it was sent. */
export function rowJson(batch: Batch, index: number): string {
  return batch.body.toString('utf8', batch.starts[index], rowEnd(batch, index));
}

function rowEnd(batch: Batch, index: number): number {
  return index + 1 < batch.starts.length ? batch.starts[index + 1]! - 1 : batch.body.length - 1;
}

export function splitBatch(batch: Batch): [Batch, Batch] {
  const half = Math.ceil(batch.rows.length / 2);
  const part = (from: number, to: number): Batch => {
    const first = batch.starts[from]!;
    const last = rowEnd(batch, to - 1);
    const body = Buffer.allocUnsafeSlow(last - first + 2);
    body[0] = OPEN;
    batch.body.copy(body, 1, first, last);
    body[body.length - 1] = CLOSE;
    const starts = batch.starts.slice(from, to).map((start) => start - first + 1);
    return { rows: batch.rows.slice(from, to), body, starts };
  };
  return [part(0, half), part(half, batch.rows.length)];
}
