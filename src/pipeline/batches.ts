/**
 * Groups serialized rows into request bodies bounded by a row count and a byte size. Pure: the caller
 * feeds rows and receives full batches.
 */

export interface Batch {
  /** Input row number of each row (for mapping Selligent's record_index back). */
  rows: number[];
  /** Each row as JSON array text. */
  json: string[];
  /** Body size in bytes once joined: `[` + rows joined by `,` + `]`. */
  bytes: number;
  /** The request body, built when the batch is complete (while the previous request is in flight). */
  body?: Buffer;
}

export class BatchBuilder {
  private current: Batch = emptyBatch();

  constructor(
    private readonly maxRows: number,
    private readonly maxBytes: number,
  ) {}

  /** Adds a row; returns the batch it completed, if adding it would overflow the current one. */
  add(row: number, json: string): Batch | undefined {
    const size = Buffer.byteLength(json) + 1;
    let full: Batch | undefined;
    if (this.current.rows.length > 0 && (this.current.rows.length >= this.maxRows || this.current.bytes + size > this.maxBytes)) {
      full = this.current;
      this.current = emptyBatch();
    }
    this.current.rows.push(row);
    this.current.json.push(json);
    this.current.bytes += size;
    if (!full && this.current.rows.length >= this.maxRows) {
      full = this.current;
      this.current = emptyBatch();
    }
    if (full) full.body = batchBody(full);
    return full;
  }

  /** The last, partly filled batch. */
  finish(): Batch | undefined {
    const last = this.current;
    this.current = emptyBatch();
    if (last.rows.length === 0) return undefined;
    last.body = batchBody(last);
    return last;
  }
}

function emptyBatch(): Batch {
  // The opening bracket; each row adds its size plus one for a comma or the closing bracket.
  return { rows: [], json: [], bytes: 1 };
}

export function batchBody(batch: Batch): Buffer {
  return batch.body ?? Buffer.from(`[${batch.json.join(',')}]`);
}

export function splitBatch(batch: Batch): [Batch, Batch] {
  const half = Math.ceil(batch.rows.length / 2);
  const part = (from: number, to: number): Batch => {
    const json = batch.json.slice(from, to);
    return { rows: batch.rows.slice(from, to), json, bytes: 1 + json.reduce((sum, text) => sum + Buffer.byteLength(text) + 1, 0) };
  };
  return [part(0, half), part(half, batch.rows.length)];
}
