import { appendFile, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { keyForm, type ColumnType } from '../schema/types.js';
import type { SearchValue } from '../selligent/client.js';
import { parseJsonExact, stringifyExact } from '../json-exact.js';
import { readLineGroups } from './lines.js';
import { diffPartition, type MembershipChange } from './membership-diff.js';
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
  private incomingLines = 0;
  private unsendable = 0;
  private counts: MembershipCounts | undefined;
  /** A single key field of text: its canonical key is the text itself (the common case, read without parsing). */
  private readonly singleText: boolean;

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
    this.partitions = partitionCount(expectedMembers * BYTES_PER_MEMBER);
    this.forms = keyTypes.map((type) => keyForm(type));
    this.singleText = this.forms.length === 1 && this.forms[0] === undefined;
    this.buffers = {
      current: Array.from({ length: this.partitions }, () => []),
      incoming: Array.from({ length: this.partitions }, () => []),
    };
  }

  /** A page of the Segment's members now, as the search answers them (key fields in key_fields order). */
  async addCurrent(rows: readonly (readonly SearchValue[])[]): Promise<void> {
    for (const values of rows) {
      // What the search answered is sent back to remove it: the service's own spelling of the key.
      this.add('current', memberKey(values, this.forms), stringifyExact(values));
    }
    await this.drain();
  }

  /** New members: input row number and key row as the Segment load sends it ('' = a key that cannot be sent). */
  async addIncoming(members: readonly SegmentMember[]): Promise<void> {
    for (const { row, keyJson } of members) {
      if (keyJson === '') {
        this.unsendable++;
        continue;
      }
      this.add('incoming', this.keyOfRow(keyJson), `${row}\t${keyJson}`);
      this.incomingLines++;
    }
    await this.drain();
  }

  /** The canonical key of a key row as the Segment load sends it. */
  private keyOfRow(keyJson: string): string {
    // `["text"]` without escapes: the text, as parsing would give it.
    if (this.singleText && keyJson.startsWith('["') && keyJson.endsWith('"]') && !keyJson.includes('\\'))
      return keyJson.slice(2, -2);
    return memberKey(parseJsonExact(keyJson) as unknown[], this.forms);
  }

  /**
   * Compares the partitions one by one and writes the adds (`row TAB keyJson`) and removals (key rows)
   * out; the partition files are removed as they are read.
   */
  async compare(): Promise<MembershipCounts> {
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
    await this.comparePartitions([adds, removals], (change) => {
      if (change.change === 'stay') counts.kept++;
      else if (change.change === 'remove') {
        counts.removed++;
        removals.add(change.item.payload);
      } else {
        counts.added++;
        adds.add(change.item.payload);
      }
    });
    counts.before = counts.kept + counts.removed;
    counts.after = counts.kept + counts.added;
    counts.repeated = this.incomingLines - counts.after;
    this.counts = counts;
    return counts;
  }

  private async comparePartitions(
    outputs: LineFile[],
    take: (change: MembershipChange<PartitionLine>) => void,
  ): Promise<void> {
    await this.flush();
    for (const output of outputs) await output.create();
    for (let p = 0; p < this.partitions; p++) {
      const incoming = this.partitionPath('incoming', p);
      const current = this.partitionPath('current', p);
      for (const change of diffPartition(
        await partitionLines(incoming),
        await partitionLines(current),
        (line) => line.key,
      ))
        take(change);
      // Written out at the end of each partition: the lines are slices of its text, which they would keep alive.
      await Promise.all([
        rm(incoming, { force: true }),
        rm(current, { force: true }),
        ...outputs.map((output) => output.flush()),
      ]);
    }
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
   * The Segment load's own new members (the deduplication winners whose List row was not rejected) that
   * this plan adds, so the adds carry the rows the List load decided on. The winners are rows of the same
   * input as the planned new members, so a winner is added exactly when its key is among the planned adds:
   * compared with those rather than with every member now, the work is the size of the change, not of the
   * Segment.
   */
  async againstAdds(name: string, members: AsyncIterable<SegmentMember[]>): Promise<MembershipSpool> {
    const other = new MembershipSpool(this.directory, name, this.keyTypes, this.expectedMembers);
    for await (const group of this.adds()) await other.addPlanned(group);
    for await (const group of members) await other.addIncoming(group);
    await other.compareWithPlanned();
    return other;
  }

  /** Planned adds, on the side of the members now, to be met by the winners (see `againstAdds`). */
  private async addPlanned(members: readonly SegmentMember[]): Promise<void> {
    for (const { keyJson } of members) this.add('current', this.keyOfRow(keyJson), '');
    await this.drain();
  }

  /** Writes out the winners whose key is a planned add, the first winner of each key. */
  private async compareWithPlanned(): Promise<void> {
    const adds = new LineFile(this.addsPath);
    let added = 0;
    await this.comparePartitions([adds], (change) => {
      if (change.change !== 'stay') return;
      added++;
      adds.add(change.incoming.payload);
    });
    this.counts = { before: 0, added, kept: 0, removed: 0, after: added, repeated: 0, unsendable: this.unsendable };
  }

  /** Removes every file of this spool. */
  async destroy(): Promise<void> {
    const paths = [this.addsPath, this.removalsPath];
    for (let p = 0; p < this.partitions; p++)
      paths.push(this.partitionPath('current', p), this.partitionPath('incoming', p));
    await Promise.all(paths.map((path) => rm(path, { force: true })));
  }

  get addsPath(): string {
    return join(this.directory, `${this.name}-add.txt`);
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
