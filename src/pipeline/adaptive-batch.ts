/**
 * Sizes Segment load requests from how long the service takes to answer them. Key-only rows are tiny,
 * so a fixed 5,000-row request leaves most of a request's fixed cost unused; but the vendor documents a
 * 15 s inbound time-out, past which a request fails (408) however small its rows. The size doubles while
 * answers come back well inside a target time, halves when one comes back slower than the target, and
 * halves again when a request is refused as too large or timed out (the failed batch itself is split by
 * the loader). Pure: the caller reports each outcome and reads the next size.
 */

export interface AdaptiveBatchOptions {
  /** The first request's size, and the smallest size growth starts from (`segment_batch_rows`). */
  initialRows: number;
  /** Never more than this many rows in one request (`segment_batch_rows_max`). */
  maxRows: number;
  /** Answers slower than this shrink the next request; under half of it, the next one grows. */
  targetMs: number;
}

/** What happened to one request of `rows` rows. */
export type BatchOutcome = { kind: 'answered'; rows: number; elapsedMs: number } | { kind: 'too-large'; rows: number };

export interface BatchSizeFigures {
  initial: number;
  smallest: number;
  largest: number;
  final: number;
}

const MIN_ROWS = 1;

export class AdaptiveBatchSize {
  private size: number;
  private smallest: number;
  private largest: number;

  constructor(private readonly options: AdaptiveBatchOptions) {
    this.size = Math.max(MIN_ROWS, Math.min(options.initialRows, options.maxRows));
    this.smallest = this.size;
    this.largest = this.size;
  }

  /** Rows for the next request. */
  get rows(): number {
    return this.size;
  }

  observe(outcome: BatchOutcome): void {
    if (outcome.kind === 'too-large') {
      this.size = Math.max(MIN_ROWS, Math.min(this.size, Math.floor(outcome.rows / 2)));
    } else if (outcome.elapsedMs > this.options.targetMs) {
      this.size = Math.max(MIN_ROWS, Math.floor(Math.min(this.size, outcome.rows) / 2));
    } else if (outcome.elapsedMs < this.options.targetMs / 2 && outcome.rows >= this.size) {
      // Only a full-sized request says the current size is comfortable: a short last batch proves nothing.
      this.size = Math.min(this.options.maxRows, this.size * 2);
    }
    this.smallest = Math.min(this.smallest, this.size);
    this.largest = Math.max(this.largest, this.size);
  }

  figures(): BatchSizeFigures {
    return { initial: Math.min(this.options.initialRows, this.options.maxRows), smallest: this.smallest, largest: this.largest, final: this.size };
  }
}
