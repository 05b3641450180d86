import type { Logger } from '../log.js';

/** A log line every few seconds on long runs: stage, rows done, rows per second. */
export class Progress {
  private stage = 'starting';
  private done = 0;
  private total: number | undefined;
  private stageStarted = performance.now();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly intervalMs = 5_000,
  ) {}

  start(): void {
    this.timer = setInterval(() => this.log(), this.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  enter(stage: string, total?: number): void {
    this.stage = stage;
    this.done = 0;
    this.total = total;
    this.stageStarted = performance.now();
  }

  advance(rows: number): void {
    this.done += rows;
  }

  private log(): void {
    const seconds = (performance.now() - this.stageStarted) / 1000;
    if (this.done === 0 && this.total === undefined) {
      // A stage that counts no rows (or none yet): how long it has run says more than "0 rows, 0 rows/s".
      this.logger.info({ stage: this.stage, seconds: Math.round(seconds) }, `${this.stage}: ${Math.round(seconds)} s`);
      return;
    }
    const rate = seconds > 0 ? Math.round(this.done / seconds) : 0;
    this.logger.info(
      { stage: this.stage, rowsDone: this.done, rowsTotal: this.total ?? null, rowsPerSecond: rate },
      `${this.stage}: ${this.done}${this.total !== undefined ? ` of ${this.total}` : ''} rows, ${rate} rows/s`,
    );
  }
}
