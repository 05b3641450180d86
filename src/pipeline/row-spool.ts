import { recordKey, type KeyForms } from './dedup-key.js';
import { PartitionWriter } from './partition-writer.js';
import { hashKey, MIN_PARTITIONS } from './partitioning.js';

/** Rows one input piece may hold when rows are spooled by position. */
export const ROWS_PER_PIECE = 2 ** 22;

/**
 * Valid rows on their way from reading to deduplication, in partition files on local disk, so memory
 * stays bounded whatever the input size. Each line is `key TAB row TAB segment TAB cells`: key and
 * cells are JSON text (so values may hold tabs, newlines and quotes) and segment is an api_name, so
 * deduplication reads the key without parsing the cells; only the rows that win are parsed again.
 */
export class RowSpool {
  private readonly writer: PartitionWriter;
  private pending = 0;
  rows = 0;

  constructor(
    directory: string,
    private readonly keyPositions: number[],
    private readonly partitionTotal = MIN_PARTITIONS,
    /** File names start with this: writers sharing a directory each need their own. */
    prefix = 'rows',
    /** Per key field, the form its values are compared in; none = as given. */
    private readonly keyForms?: KeyForms,
  ) {
    this.writer = new PartitionWriter(directory, prefix, partitionTotal);
  }

  /**
   * One row: `row` is its number (or position, see ROWS_PER_PIECE), `fieldCells` its values without
   * the routing column.
   */
  add(row: number, segment: string, fieldCells: string[]): void {
    const key = recordKey(fieldCells, this.keyPositions, this.keyForms);
    this.writer.add(
      hashKey(key) % this.partitionTotal,
      `${JSON.stringify(key)}\t${row}\t${segment}\t${JSON.stringify(fieldCells)}`,
    );
    this.rows++;
    this.pending++;
  }

  /** Call between input batches: writes buffered lines out so memory stays flat. */
  async drain(): Promise<void> {
    if (this.pending < 5_000) return;
    this.pending = 0;
    await this.writer.flush();
  }

  async finish(): Promise<void> {
    await this.writer.close();
  }

  /** The partition files, in partition order. */
  files(): string[] {
    return [...this.writer.paths];
  }
}

/** The key of a spooled line, as the JSON text it was written in. */
export function spooledKey(line: string): string {
  return line.slice(0, line.indexOf('\t'));
}
