import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { mkdir, open as openFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { fsReason } from '../fs-errors.js';
import { scrubJson } from '../secrets.js';

export interface RejectedRow {
  /** 1-based input data row number. */
  row: number;
  stage: RowsFileStage;
  key: Record<string, string> | null;
  field: string | null;
  code: string;
  message: string;
  /** The row's values by column name, as read. */
  values: Record<string, string> | null;
  /** A row merged away as a duplicate: the row that won its key (and was loaded, or is listed itself). */
  winner?: number;
}

/** Where a row was left out: `deduplicate` lines are rows merged away into another row of their key. */
export type RowsFileStage = 'validate' | 'deduplicate' | 'list-load' | 'segment-load';

/**
 * Rejected and skipped rows, one JSON object per line. Row values (PII) go here and nowhere else: logs
 * carry counts and row numbers only.
 */
export class RejectedRowsFile {
  private stream: WriteStream | undefined;
  count = 0;
  /** Lines written, by stage. */
  readonly byStage: Partial<Record<RowsFileStage, number>> = {};

  constructor(readonly path: string) {}

  /**
   * Creates the file (and its directory) now, before the input is read, so that a path that cannot be
   * written is a configuration error rather than a failure in the middle of the run.
   */
  async open(): Promise<void> {
    if (this.stream) return;
    try {
      await mkdir(dirname(this.path), { recursive: true });
      const handle = await openFile(this.path, 'w');
      this.stream = handle.createWriteStream();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new ConfigError(
        'REJECTED_PATH_UNUSABLE',
        `cannot create the rejected-rows file ${this.path} (${fsReason(error)}): set --rejected (REJECTED_PATH) to a writable path, or --report to a writable directory (the file goes beside the report by default)`,
        { stage: 'settings', details: { path: this.path, errorCode: code ?? null } },
      );
    }
  }

  async write(entry: RejectedRow): Promise<void> {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'w' });
    }
    this.count++;
    this.byStage[entry.stage] = (this.byStage[entry.stage] ?? 0) + 1;
    if (!this.stream.write(JSON.stringify(scrubJson(entry)) + '\n')) await once(this.stream, 'drain');
  }

  /** Creates the file even when nothing was rejected, so its path in the report always exists. */
  async close(): Promise<void> {
    if (!this.stream) {
      mkdirSync(dirname(this.path), { recursive: true });
      this.stream = createWriteStream(this.path, { flags: 'w' });
    }
    const stream = this.stream;
    await new Promise<void>((resolve, reject) =>
      stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
    );
  }
}

const PAGE_ROWS = 65_536;

/**
 * Input row numbers of the rows Selligent (or the type check before sending) rejected, kept so their
 * keys are not loaded into Segments. A bitset over row numbers, in pages of 65,536 rows (8 KiB) made
 * when a row of theirs is first rejected: nothing when nothing is rejected, and never more than one bit
 * per input row (1.25 MB for 10M rows) however many are rejected. A Set of numbers took about 40 bytes
 * per rejected row of the capped heap, so a run whose rows were all refused ran out of memory.
 */
export class RowNumberSet {
  private readonly pages = new Map<number, Uint8Array>();
  size = 0;

  add(row: number): void {
    const page = Math.floor(row / PAGE_ROWS);
    let bits = this.pages.get(page);
    if (!bits) {
      bits = new Uint8Array(PAGE_ROWS / 8);
      this.pages.set(page, bits);
    }
    const offset = row - page * PAGE_ROWS;
    const mask = 1 << (offset & 7);
    if ((bits[offset >>> 3]! & mask) === 0) {
      bits[offset >>> 3]! |= mask;
      this.size++;
    }
  }

  has(row: number): boolean {
    const page = Math.floor(row / PAGE_ROWS);
    const bits = this.pages.get(page);
    if (!bits) return false;
    const offset = row - page * PAGE_ROWS;
    return (bits[offset >>> 3]! & (1 << (offset & 7))) !== 0;
  }

  /** Bytes the bits take. */
  get bytes(): number {
    return this.pages.size * (PAGE_ROWS / 8);
  }
}
