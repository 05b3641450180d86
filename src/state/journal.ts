import { appendFile, rm } from 'node:fs/promises';
import { readLines } from '../pipeline/lines.js';
import { recordedEntry, type EntryDiff, type InputEntry, type LeftEntry } from './diff.js';
import type { StateEntry } from './format.js';

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

export class StateJournal {
  private lines: string[] = [];
  private chars = 0;

  constructor(readonly file: string) {}

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
    const text = JSON.stringify(line);
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
    await this.flush();
    // A run whose input had no key has journalled nothing: the file may not exist yet.
    await appendFile(this.file, '');
    for await (const text of readLines(this.file)) {
      if (text === '') continue;
      const line = JSON.parse(text) as JournalLine;
      const entry = line[0] === 'i' ? replayInput(line, outcome) : replayLeft(line, outcome);
      if (entry) yield entry;
    }
  }

  async remove(): Promise<void> {
    this.lines = [];
    await rm(this.file, { force: true });
  }
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
