import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { keyForm, type ColumnType } from '../schema/types.js';
import type { SearchValue } from '../selligent/client.js';
import { parseJsonExact, stringifyExact } from '../json-exact.js';
import { readLineGroups } from './lines.js';
import { diffPartition } from './membership-diff.js';
import { hashKey, partitionCount } from './partitioning.js';
import type { SegmentMember } from './segment-spool.js';
import { scalarText } from '../scalar-text.js';

/**
 * One Segment's replacement plan on disk: its members now (from the segment search) and its new
 * members (key rows as the Segment load sends them) are spread over key-hash partition files with the
 * spool's own hash, then compared partition by partition (membership-diff.ts). What comes out is a file
 * of members to add and a file of members to remove, read back in groups for batching. Memory is one
 * partition and the write buffer, whatever the Segment's size.
 *
 * Keys are compared in canonical form: each value's text in the form Selligent stores for its field's
 * type (keyForm, the form the whole-input deduplication compares keys of a schema's types in), so 7, 007
 * and +7 in a Long key, or two spellings of one timestamp, are one member.
 */

/** Key values joined as the whole-input deduplication joins them. */
const KEY_SEPARATOR = '\u0000';
/** Characters buffered across all partitions before they are written out. */
const BUFFERED_CHARS = 4 * 1024 * 1024;
/** A member line is some 40 bytes on disk: how the partition count is chosen from a member count. */
const BYTES_PER_MEMBER = 40;

export interface MembershipCounts {
  /** Members now (distinct keys read). */
  before: number;
  /** New members that are not members now. */
  added: number;
  /** Members now and after. */
  kept: number;
  /** Members now that are not among the new members. */
  removed: number;
  /** Members once the adds and removals are applied: kept + added. */
  after: number;
  /** New member rows whose key is another row's key in canonical form: one member. */
  repeated: number;
  /** New member rows without a key that can be sent (keyJson ''): not compared, not loaded. */
  unsendable: number;
}

/** The canonical key of a key row: the values' texts, each in its field type's stored form. */
export function memberKey(
  values: readonly unknown[],
  forms: ReadonlyArray<((text: string) => string) | undefined>,
): string {
  let key = '';
  for (let i = 0; i < values.length; i++) {
    const value = values[i];
    const text = value === null || value === undefined ? '' : scalarText(value);
    const form = forms[i];
    key += (i > 0 ? KEY_SEPARATOR : '') + (form ? form(text) : text);
  }
  return key;
}

export class MembershipSpool {
  readonly partitions: number;
  private readonly forms: ReadonlyArray<((text: string) => string) | undefined>;
  private readonly buffers: { current: string[][]; incoming: string[][] };
  private buffered = 0;
  private beforeLines = 0;
  private incomingLines = 0;
  private unsendable = 0;
  private counts: MembershipCounts | undefined;
  /** The members now as read, kept for `againstCurrent`. */
  private readonly currentFile: LineFile;

  /**
   * @param name  file names start with it: one spool per Segment in a shared directory.
   * @param keyTypes  the key fields' types as sent (their List field's type), in key_fields order.
   * @param expectedMembers  members now plus new members, roughly: sizes the partitions.
   */
  constructor(
    private readonly directory: string,
    private readonly name: string,
    private readonly keyTypes: readonly ColumnType[],
    private readonly expectedMembers: number,
  ) {
    this.currentFile = new LineFile(this.currentPath);
    this.partitions = partitionCount(expectedMembers * BYTES_PER_MEMBER);
    this.forms = keyTypes.map((type) => keyForm(type));
    this.buffers = {
      current: Array.from({ length: this.partitions }, () => []),
      incoming: Array.from({ length: this.partitions }, () => []),
    };
  }

  /** A page of the Segment's members now, as the search answers them (key fields in key_fields order). */
  async addCurrent(rows: readonly (readonly SearchValue[])[]): Promise<void> {
    for (const values of rows) {
      // What the search answered is sent back to remove it: the service's own spelling of the key.
      const text = stringifyExact(values);
      this.add('current', memberKey(values, this.forms), text);
      this.currentFile.add(text);
      this.beforeLines++;
    }
    await this.currentFile.flush();
    await this.drain();
  }

  /** New members: input row number and key row as the Segment load sends it ('' = a key that cannot be sent). */
  async addIncoming(members: readonly SegmentMember[]): Promise<void> {
    for (const { row, keyJson } of members) {
      if (keyJson === '') {
        this.unsendable++;
        continue;
      }
      this.add('incoming', memberKey(parseJsonExact(keyJson) as unknown[], this.forms), `${row}\t${keyJson}`);
      this.incomingLines++;
    }
    await this.drain();
  }

  /**
   * Compares the partitions one by one and writes the adds (`row TAB keyJson`) and removals (key rows)
   * out; the partition files are removed as they are read.
   */
  async compare(): Promise<MembershipCounts> {
    await this.flush();
    const counts: MembershipCounts = {
      before: 0,
      added: 0,
      kept: 0,
      removed: 0,
      after: 0,
      repeated: 0,
      unsendable: this.unsendable,
    };
    const adds = new LineFile(this.addsPath);
    const removals = new LineFile(this.removalsPath);
    await adds.create();
    await removals.create();
    for (let p = 0; p < this.partitions; p++) {
      const incoming = this.partitionPath('incoming', p);
      const current = this.partitionPath('current', p);
      for (const { change, item } of diffPartition(
        await partitionLines(incoming),
        await partitionLines(current),
        (line) => line.key,
      )) {
        if (change === 'stay') counts.kept++;
        else if (change === 'remove') {
          counts.removed++;
          removals.add(item.payload);
        } else {
          counts.added++;
          adds.add(item.payload);
        }
      }
      // Written out at the end of each partition: the lines are slices of its text, which they would keep alive.
      await Promise.all([rm(incoming, { force: true }), rm(current, { force: true }), adds.flush(), removals.flush()]);
    }
    counts.before = counts.kept + counts.removed;
    counts.after = counts.kept + counts.added;
    counts.repeated = this.incomingLines - counts.after;
    this.counts = counts;
    return counts;
  }

  /** The members to add, in groups shaped like the Segment spool's, so the load's batching takes them as they are. */
  async *adds(): AsyncGenerator<SegmentMember[]> {
    if (!this.counts?.added) return;
    for await (const lines of readLineGroups(this.addsPath, 64 * 1024)) {
      yield lines.map((line) => {
        const tab = line.indexOf('\t');
        return { row: Number(line.slice(0, tab)), keyJson: line.slice(tab + 1) };
      });
    }
  }

  /** The members to remove, as key rows (JSON array text) in the key_fields order, in groups. */
  async *removals(): AsyncGenerator<string[]> {
    if (!this.counts?.removed) return;
    yield* readLineGroups(this.removalsPath, 64 * 1024);
  }

  /**
   * The same members now compared with other new members: the Segment load's own (the deduplication
   * winners whose List row was not rejected), so the adds carry the rows the List load decided on.
   */
  async againstCurrent(name: string, members: AsyncIterable<SegmentMember[]>): Promise<MembershipSpool> {
    const other = new MembershipSpool(this.directory, name, this.keyTypes, this.expectedMembers);
    if (this.beforeLines > 0) {
      for await (const lines of readLineGroups(this.currentPath, 64 * 1024))
        await other.addCurrent(lines.map((line) => parseJsonExact(line) as SearchValue[]));
    }
    for await (const group of members) await other.addIncoming(group);
    await other.compare();
    return other;
  }

  /** Removes every file of this spool. */
  async destroy(): Promise<void> {
    const paths = [this.addsPath, this.removalsPath, this.currentPath];
    for (let p = 0; p < this.partitions; p++)
      paths.push(this.partitionPath('current', p), this.partitionPath('incoming', p));
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }

  get addsPath(): string {
    return join(this.directory, `${this.name}-add.txt`);
  }

  get currentPath(): string {
    return join(this.directory, `${this.name}-current.txt`);
  }

  get removalsPath(): string {
    return join(this.directory, `${this.name}-remove.txt`);
  }

  private partitionPath(side: 'current' | 'incoming', partition: number): string {
    return join(this.directory, `${this.name}-${side}-${partition}.txt`);
  }

  /** Line: the key as JSON text (no raw tab or newline), a tab, the payload. */
  private add(side: 'current' | 'incoming', key: string, payload: string): void {
    const line = `${JSON.stringify(key)}\t${payload}\n`;
    this.buffers[side][hashKey(key) % this.partitions]!.push(line);
    this.buffered += line.length;
  }

  private async drain(): Promise<void> {
    if (this.buffered >= BUFFERED_CHARS) await this.flush();
  }

  private async flush(): Promise<void> {
    for (const side of ['current', 'incoming'] as const) {
      const buffers = this.buffers[side];
      for (let p = 0; p < buffers.length; p++) {
        const lines = buffers[p]!;
        if (lines.length === 0) continue;
        buffers[p] = [];
        await appendFile(this.partitionPath(side, p), lines.join(''));
      }
    }
    this.buffered = 0;
  }
}

interface PartitionLine {
  key: string;
  payload: string;
}

/**
 * A partition file's lines, read at once: a partition holds some 4 MiB (see partitionCount), and its
 * new members are held in memory for the comparison anyway. A partition no member fell into has no file.
 */
async function partitionLines(path: string): Promise<Generator<PartitionLine>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
  return linesOf(text);
}

function* linesOf(text: string): Generator<PartitionLine> {
  for (let start = 0; start < text.length;) {
    let end = text.indexOf('\n', start);
    if (end < 0) end = text.length;
    const tab = text.indexOf('\t', start);
    yield { key: text.slice(start, tab), payload: text.slice(tab + 1, end) };
    start = end + 1;
  }
}

/** Lines appended to one file, written out once per partition. */
class LineFile {
  private lines: string[] = [];

  constructor(private readonly path: string) {}

  async create(): Promise<void> {
    await appendFile(this.path, '', { flag: 'w' });
  }

  add(line: string): void {
    this.lines.push(`${line}\n`);
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const text = this.lines.join('');
    this.lines = [];
    await appendFile(this.path, text);
  }
}
