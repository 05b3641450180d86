import { appendFile, rm } from 'node:fs/promises';
import { readLineGroups } from '../pipeline/lines.js';
import { recordedEntry, type EntryDiff, type InputEntry, type LeftEntry } from './diff.js';
import { parseEntryLine, type StateEntry } from './format.js';

/**
 * What a run decided per key, kept on disk between the comparison (before the writes) and the commit
 * (after them), when what Selligent applied is known. Memory stays flat: lines are appended in chunks
 * and replayed as a stream.
 */

/** What Selligent applied, asked per key while the journal is replayed. */
export interface AppliedOutcome {
  /** The List row of input row `row` was applied (asked only for rows sent). */
  rowApplied(row: number): boolean;
  /** Input row `row`'s membership load into `segment` was applied. */
  membershipApplied(segment: string, row: number): boolean;
  /** The removal of the key's membership of `segment` was applied. */
  removalApplied(segment: string, key: string): boolean;
}

type JournalLine =
  /** An input key: its row number, whether its row was sent, its input entry and its comparison. */
  | ['i', number, boolean, InputEntry, StateEntry | null, string[], string[]]
  /** A recorded key that left the input, with the memberships to remove. */
  | ['l', StateEntry, string[]];

const FLUSH_CHARS = 1024 * 1024;

/**
 * A new key's line is not JSON: `n` row TAB partition TAB Segment indexes TAB the state line it gets
 * when everything was applied. The `h` line before the first one names the Segments and the partition
 * count those numbers refer to.
 */
const NEW_KEY = 0x6e;
const HEADER = 0x68;

interface NewKeyHeader {
  partitionCount: number;
  segments: string[];
}

/** Where a replay puts the new state's entries (StateWriter). */
export interface EntrySink {
  readonly partitionCount: number;
  add(entry: StateEntry): Promise<void>;
  /** A state line as entryLine writes it, of a key of `partition`, whose Segments are `segments`. */
  addLine(partition: number, line: string, segments: readonly string[]): Promise<void>;
}

export class StateJournal {
  private lines: string[] = [];
  private chars = 0;
  private header: NewKeyHeader | undefined;

  constructor(readonly file: string) {}

  /**
   * A key the state does not record, sent with `segments` (indexes into `header.segments`) to load:
   * its state line is built now, so the replay neither parses nor writes it anew when all was applied.
   * A key not sent is never recorded, so it is not journalled.
   */
  async newKey(
    row: number,
    partition: number,
    segments: readonly number[],
    line: string,
    header: NewKeyHeader,
  ): Promise<void> {
    if (!this.header) {
      this.header = header;
      await this.pushText(`h${JSON.stringify(header)}`);
    }
    await this.pushText(`n${row}\t${partition}\t${segments.join(',')}\t${line}`);
  }

  /**
   * An input key after comparison. `sent` is false for an unchanged row and for a row not sent at all
   * (rejected before sending: its value does not convert); its entry's rowHash is then ignored.
   */
  async input(row: number, current: InputEntry, diff: EntryDiff, sent: boolean): Promise<void> {
    await this.push([
      'i',
      row,
      sent,
      { key: current.key, rowHash: current.rowHash, segments: [...current.segments] },
      diff.previous ?? null,
      diff.add,
      diff.remove,
    ]);
  }

  async left(entry: LeftEntry): Promise<void> {
    await this.push(['l', entry.previous, entry.remove]);
  }

  private async push(line: JournalLine): Promise<void> {
    await this.pushText(JSON.stringify(line));
  }

  private async pushText(text: string): Promise<void> {
    this.lines.push(text);
    this.chars += text.length + 1;
    if (this.chars >= FLUSH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const text = `${this.lines.join('\n')}\n`;
    this.lines = [];
    this.chars = 0;
    await appendFile(this.file, text);
  }

  /** Each key's entry for the new state, given what was applied (see recordedEntry). */
  async *replay(outcome: AppliedOutcome): AsyncGenerator<StateEntry> {
    const entries: StateEntry[] = [];
    const collect: EntrySink = {
      partitionCount: 0,
      add: (entry) => {
        entries.push(entry);
        return Promise.resolve();
      },
      addLine: () => Promise.reject(new Error('unreachable: a partition count of 0 takes no line')),
    };
    for await (const group of this.lineGroups()) {
      for (const text of group) await replayLine(text, outcome, collect, this);
      yield* entries.splice(0);
    }
  }

  /** As replay, into `sink`: a new key's line goes in as journalled when everything was applied. */
  async replayInto(outcome: AppliedOutcome, sink: EntrySink): Promise<void> {
    for await (const group of this.lineGroups()) for (const text of group) await replayLine(text, outcome, sink, this);
  }

  /** The keys the state records whose changed row was sent: what a run that failed may have changed. */
  async *sentRecordedKeys(): AsyncGenerator<string> {
    for await (const group of this.lineGroups()) {
      for (const text of group) {
        if (text === '' || text.charCodeAt(0) === NEW_KEY || text.charCodeAt(0) === HEADER) continue;
        const line = JSON.parse(text) as JournalLine;
        if (line[0] === 'i' && line[2] && line[4] !== null && line[4].rowHash !== line[3].rowHash) yield line[3].key;
      }
    }
  }

  private async *lineGroups(): AsyncGenerator<string[]> {
    await this.flush();
    // A run whose input had no key has journalled nothing: the file may not exist yet.
    await appendFile(this.file, '');
    this.header = undefined;
    yield* readLineGroups(this.file);
  }

  /** Set by replayLine from the journal's `h` line. */
  readHeader(header: NewKeyHeader | undefined): NewKeyHeader | undefined {
    if (header) this.header = header;
    return this.header;
  }

  async remove(): Promise<void> {
    this.lines = [];
    await rm(this.file, { force: true });
  }
}

async function replayLine(
  text: string,
  outcome: AppliedOutcome,
  sink: EntrySink,
  journal: StateJournal,
): Promise<void> {
  if (text === '') return;
  const kind = text.charCodeAt(0);
  if (kind === HEADER) {
    journal.readHeader(JSON.parse(text.slice(1)) as NewKeyHeader);
    return;
  }
  if (kind === NEW_KEY) {
    const header = journal.readHeader(undefined);
    const rowEnd = text.indexOf('\t');
    const partitionEnd = text.indexOf('\t', rowEnd + 1);
    const segmentsEnd = text.indexOf('\t', partitionEnd + 1);
    if (!header || segmentsEnd < 0) throw new Error(`state journal ${journal.file}: a new key's line out of place`);
    const row = Number(text.slice(1, rowEnd));
    if (!outcome.rowApplied(row)) return;
    const indexes = text.slice(partitionEnd + 1, segmentsEnd);
    const segments = indexes === '' ? [] : indexes.split(',').map((index) => header.segments[Number(index)]!);
    const line = text.slice(segmentsEnd + 1);
    const applied = segments.filter((segment) => outcome.membershipApplied(segment, row));
    if (applied.length === segments.length && header.partitionCount === sink.partitionCount) {
      await sink.addLine(Number(text.slice(rowEnd + 1, partitionEnd)), line, segments);
      return;
    }
    const entry = parseEntryLine(line);
    if (!entry) throw new Error(`state journal ${journal.file}: a new key's line holds no state entry`);
    await sink.add({ ...entry, segments: applied });
    return;
  }
  const line = JSON.parse(text) as JournalLine;
  const entry = line[0] === 'i' ? replayInput(line, outcome) : replayLeft(line, outcome);
  if (entry) await sink.add(entry);
}

function replayInput(line: Extract<JournalLine, ['i', ...unknown[]]>, outcome: AppliedOutcome): StateEntry | undefined {
  const [, row, sent, current, previous, add, remove] = line;
  const unchanged = previous !== null && previous.rowHash === current.rowHash;
  const diff: EntryDiff = {
    key: current.key,
    row: previous === null ? 'new' : unchanged ? 'unchanged' : 'changed',
    previous: previous ?? undefined,
    add,
    remove,
  };
  return recordedEntry(diff, current, {
    row: sent ? outcome.rowApplied(row) : unchanged,
    sent,
    added: add.filter((segment) => outcome.membershipApplied(segment, row)),
    removed: remove.filter((segment) => outcome.removalApplied(segment, current.key)),
  });
}

function replayLeft(line: Extract<JournalLine, ['l', ...unknown[]]>, outcome: AppliedOutcome): StateEntry | undefined {
  const [, previous, remove] = line;
  return recordedEntry({ key: previous.key, previous, remove }, undefined, {
    row: false,
    added: [],
    removed: remove.filter((segment) => outcome.removalApplied(segment, previous.key)),
  });
}
