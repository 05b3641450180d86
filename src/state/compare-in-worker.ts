import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnType } from '../schema/types.js';
import {
  compareEntry,
  countEntry,
  emptyTotals,
  leftEntry,
  type ChangeTotals,
  type EntryDiff,
  type InputEntry,
} from './diff.js';
import { StateUnusableError } from './errors.js';
import {
  parseEntryLine,
  type RecordedLine,
  type StateEntry,
  type StateIdentity,
  type StateManifest,
} from './format.js';
import { StateJournal } from './journal.js';
import { keyValuesJson } from './key-values.js';
import { localStateStore } from './local-store.js';
import { readRecordedFor } from './reader.js';
import { SettledLines } from './writer.js';

/** What the List worker needs to compare its deduplicated rows with the state (plain data: it crosses threads). */
export interface CompareJob {
  /** A local directory holding the verified pieces (the state itself, or its staged copy); none on a reset. */
  stateDirectory: string | undefined;
  manifest: StateManifest | undefined;
  /** Spool partitions: the input is compared one of these at a time. */
  partitionCount: number;
  /** Under replace: remove memberships the exporter added that the input no longer has. */
  replace: boolean;
  journalFile: string;
  /** Where the keys carried over unchanged go (SettledLines, taken by StateWriter.adoptSettled). */
  settledDirectory: string;
  /** Where the removals go: one file per Segment (see removalFile). */
  removalDirectory: string;
  keyTypes: ColumnType[];
  keyForm: StateIdentity['key_form'];
}

/** A winner's key values as a JSON array (the List's types); undefined when a key value does not convert. */
export interface KeyValuesSource {
  keyJson(): string | undefined;
}

/** The removals of one Segment: lines of key value JSON arrays, as a Segment request takes them. */
export function removalFile(directory: string, segment: string): string {
  return join(directory, `removals-${Buffer.from(segment).toString('base64url')}.jsonl`);
}

/**
 * The comparison as the deduplicated winners go by, partition after partition (a partition's winners
 * may come in several parts, but never mixed with another partition's): the state's lines of one
 * partition are in memory at a time, so memory stays flat however large the state is.
 *
 * Most keys of a run are as they were: same row hash, same Segments in the same order. Such a key is
 * recorded again whatever Selligent answers, so its line goes into the new state as read (SettledLines),
 * without parsing it, journalling it or writing it anew. Only the other keys are parsed and journalled.
 */
export class WorkerComparer {
  readonly totals: ChangeTotals = emptyTotals();
  private readonly journal: StateJournal;
  private readonly settled: SettledLines;
  private current = -1;
  private recorded = new Map<string, RecordedLine>();
  private readonly removals = new Map<string, string[]>();
  private removalChars = 0;
  /** Each Segment's api_name as JSON, and a lone Segment's array, as entryLine writes them. */
  private readonly segmentJson: string[];
  private readonly loneSegmentJson: string[];
  private readonly header: { partitionCount: number; segments: string[] };

  constructor(
    /** segmentApiNames: the Segments by index, as `compare` is given a winner's Segments. */
    private readonly job: CompareJob & { segmentApiNames: string[] },
  ) {
    this.journal = new StateJournal(job.journalFile);
    this.settled = new SettledLines(job.settledDirectory, job.partitionCount, job.segmentApiNames);
    this.segmentJson = job.segmentApiNames.map((name) => JSON.stringify(name));
    this.loneSegmentJson = this.segmentJson.map((json) => `[${json}]`);
    this.header = { partitionCount: job.partitionCount, segments: job.segmentApiNames };
  }

  /** Moves on to partition `partition`, finishing every partition before it (also those the input has no row in). */
  async enter(partition: number): Promise<void> {
    while (this.current < partition) {
      await this.finishCurrent();
      this.current++;
      this.recorded = new Map();
      for (const line of await this.linesOf(this.current)) this.recorded.set(line.key, line);
    }
  }

  /**
   * One winner: `rowHash` is empty when its row is not sent at all (a value that does not convert);
   * `segments` are indexes into segmentApiNames, each once; `keyOf` gives the key values as a Segment
   * request takes them, asked for only when a membership is removed. A promise only when something is
   * written: most keys of a run are as they were, and cost no await.
   */
  compare(
    row: number,
    key: string,
    rowHash: string,
    segments: readonly number[],
    sendable: boolean,
    keyOf: KeyValuesSource,
  ): EntryDiff | Promise<EntryDiff> {
    const recorded = this.recorded.get(key);
    if (recorded) {
      this.recorded.delete(key);
      if (sendable && recorded.rowHash === rowHash && recorded.segmentsJson === this.segmentsJson(segments)) {
        this.totals.unchanged += 1;
        const unchanged: EntryDiff = { key, row: 'unchanged', previous: undefined, add: [], remove: [] };
        const writing = this.settled.add(this.current, recorded.line, segments);
        return writing ? writing.then(() => unchanged) : unchanged;
      }
    }
    const names = segments.map((index) => this.job.segmentApiNames[index]!);
    if (!recorded) return this.newKey(row, key, rowHash, names, segments, sendable);
    return this.changed(row, recorded, { key, rowHash, segments: names }, sendable, keyOf);
  }

  private async changed(
    row: number,
    recorded: RecordedLine,
    current: InputEntry,
    sendable: boolean,
    keyOf: KeyValuesSource,
  ): Promise<EntryDiff> {
    const d = compareEntry(this.parse(recorded), current, this.job.replace);
    countEntry(this.totals, d);
    const keyJson = d.remove.length > 0 ? keyOf.keyJson() : undefined;
    for (const segment of d.remove) if (keyJson) await this.remove(segment, keyJson);
    await this.journal.input(row, current, d, sendable && d.row !== 'unchanged');
    return d;
  }

  /** A key the state does not record: journalled with the line it gets when all is applied. */
  private async newKey(
    row: number,
    key: string,
    rowHash: string,
    names: string[],
    segments: readonly number[],
    sendable: boolean,
  ): Promise<EntryDiff> {
    const d: EntryDiff = { key, row: 'new', previous: undefined, add: names, remove: [] };
    countEntry(this.totals, d);
    if (sendable) {
      const line = `[${JSON.stringify(key)},"${rowHash}",${this.segmentsJson(segments)}]`;
      await this.journal.newKey(row, this.current, segments, line, this.header);
    }
    return d;
  }

  /** Writes the journal's buffered lines. */
  flushJournal(): Promise<void> {
    return this.journal.flush();
  }

  /** After the last winner: the remaining partitions and the keys that left. */
  async finish(): Promise<ChangeTotals> {
    await this.enter(this.job.partitionCount - 1);
    await this.finishCurrent();
    this.recorded = new Map();
    await this.journal.flush();
    await this.settled.finish();
    await this.flushRemovals();
    return this.totals;
  }

  private segmentsJson(segments: readonly number[]): string {
    if (segments.length === 1) return this.loneSegmentJson[segments[0]!]!;
    let json = '[';
    for (const index of segments) json += (json.length > 1 ? ',' : '') + this.segmentJson[index]!;
    return json + ']';
  }

  private parse(recorded: RecordedLine): StateEntry {
    const entry = parseEntryLine(recorded.line);
    if (!entry)
      throw new StateUnusableError(
        'STATE_UNREADABLE',
        `${this.job.stateDirectory ?? ''}/${this.job.manifest?.directory ?? ''}`,
        'a piece holds a line that is not a state entry',
      );
    return entry;
  }

  private async finishCurrent(): Promise<void> {
    for (const recorded of this.recorded.values()) {
      const left = leftEntry(this.parse(recorded), this.job.replace);
      countEntry(this.totals, left);
      await this.journal.left(left);
      for (const segment of left.remove)
        await this.remove(segment, keyValuesJson(left.key, this.job.keyTypes, this.job.keyForm));
    }
    this.recorded.clear();
  }

  private async linesOf(partition: number): Promise<RecordedLine[]> {
    const { stateDirectory, manifest } = this.job;
    if (!stateDirectory || !manifest) return [];
    return readRecordedFor(
      localStateStore(stateDirectory),
      { manifest, token: '' },
      partition,
      this.job.partitionCount,
    );
  }

  private async remove(segment: string, keyJson: string): Promise<void> {
    let lines = this.removals.get(segment);
    if (!lines) this.removals.set(segment, (lines = []));
    lines.push(keyJson);
    this.removalChars += keyJson.length + 1;
    if (this.removalChars >= 1024 * 1024) await this.flushRemovals();
  }

  private async flushRemovals(): Promise<void> {
    if (this.removals.size > 0) await mkdir(this.job.removalDirectory, { recursive: true });
    for (const [segment, lines] of this.removals) {
      if (lines.length > 0) await appendFile(removalFile(this.job.removalDirectory, segment), `${lines.join('\n')}\n`);
    }
    this.removals.clear();
    this.removalChars = 0;
  }
}
