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
export type RequestOutcome =
  { kind: 'answered'; rows: number; elapsedMs: number } | { kind: 'too-large'; rows: number };

export interface BatchSizeFigures {
  /** The first request's size. */
  initial: number;
  /** The smallest and largest requests sent (null before the first). */
  smallest: number | null;
  largest: number | null;
  /** The size the next request would have had. */
  final: number;
}

const MIN_ROWS = 1;

export class AdaptiveBatchSize {
  private readonly initial: number;
  private size: number;
  private smallest: number | null = null;
  private largest: number | null = null;
  /** Lowered by each refusal as too large, so the size never grows back into a size that failed. */
  private ceiling: number;

  constructor(private readonly options: AdaptiveBatchOptions) {
    this.ceiling = options.maxRows;
    this.initial = Math.max(MIN_ROWS, Math.min(options.initialRows, options.maxRows));
    this.size = this.initial;
  }

  /** Rows for the next request. */
  get rows(): number {
    return this.size;
  }

  /**
   * Requests are built one ahead of the answer that sizes them, so an answer may be about a batch built
   * at an older size: a slow answer halves from that batch's size (not twice for two slow batches in a
   * row), and growth counts any answer for at least half the current size (a short last batch proves
   * nothing).
   */
  observe(outcome: RequestOutcome): void {
    this.smallest = Math.min(this.smallest ?? outcome.rows, outcome.rows);
    this.largest = Math.max(this.largest ?? outcome.rows, outcome.rows);
    if (outcome.kind === 'too-large') {
      this.ceiling = Math.max(MIN_ROWS, Math.min(this.ceiling, Math.floor(outcome.rows / 2)));
      this.size = Math.min(this.size, this.ceiling);
    } else if (outcome.elapsedMs > this.options.targetMs) {
      this.size = Math.max(MIN_ROWS, Math.min(this.size, Math.floor(outcome.rows / 2)));
    } else if (outcome.elapsedMs < this.options.targetMs / 2 && outcome.rows * 2 >= this.size) {
      this.size = Math.min(this.ceiling, this.size * 2);
    }
  }

  figures(): BatchSizeFigures {
    return { initial: this.initial, smallest: this.smallest, largest: this.largest, final: this.size };
  }
}
