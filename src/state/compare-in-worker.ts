import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ColumnType } from '../schema/types.js';
import { countEntry, emptyTotals, PartitionDiff, type ChangeTotals, type EntryDiff } from './diff.js';
import type { StateIdentity, StateManifest } from './format.js';
import { StateJournal } from './journal.js';
import { keyValuesJson } from './key-values.js';
import { localStateStore } from './local-store.js';
import { readEntriesFor } from './reader.js';

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
  /** Where the removals go: one file per Segment (see removalFile). */
  removalDirectory: string;
  keyTypes: ColumnType[];
  keyForm: StateIdentity['key_form'];
}

/** The removals of one Segment: lines of key value JSON arrays, as a Segment request takes them. */
export function removalFile(directory: string, segment: string): string {
  return join(directory, `removals-${Buffer.from(segment).toString('base64url')}.jsonl`);
}

/**
 * The comparison as the deduplicated winners go by, partition after partition (a partition's winners
 * may come in several parts, but never mixed with another partition's): the state's entries of one
 * partition are in memory at a time, so memory stays flat however large the state is.
 */
export class WorkerComparer {
  readonly totals: ChangeTotals = emptyTotals();
  private readonly journal: StateJournal;
  private current = -1;
  private diff: PartitionDiff | undefined;
  private readonly removals = new Map<string, string[]>();
  private removalChars = 0;

  constructor(private readonly job: CompareJob) {
    this.journal = new StateJournal(job.journalFile);
  }

  /** Moves on to partition `partition`, finishing every partition before it (also those the input has no row in). */
  async enter(partition: number): Promise<void> {
    while (this.current < partition) {
      await this.finishCurrent();
      this.current++;
      this.diff = new PartitionDiff(await this.entriesOf(this.current), this.job.replace);
    }
  }

  async compare(
    row: number,
    key: string,
    rowHash: string,
    segments: readonly string[],
    sendable: boolean,
    keyJson: string | undefined,
  ): Promise<EntryDiff> {
    const current = { key, rowHash, segments };
    const d = this.diff!.compare(current);
    countEntry(this.totals, d);
    for (const segment of d.remove) if (keyJson) await this.remove(segment, keyJson);
    await this.journal.input(row, current, d, sendable && d.row !== 'unchanged');
    return d;
  }

  /** After the last winner: the remaining partitions and the keys that left. */
  async finish(): Promise<ChangeTotals> {
    await this.enter(this.job.partitionCount - 1);
    await this.finishCurrent();
    this.diff = undefined;
    await this.journal.flush();
    await this.flushRemovals();
    return this.totals;
  }

  private async finishCurrent(): Promise<void> {
    if (!this.diff) return;
    for (const left of this.diff.left()) {
      countEntry(this.totals, left);
      await this.journal.left(left);
      for (const segment of left.remove)
        await this.remove(segment, keyValuesJson(left.key, this.job.keyTypes, this.job.keyForm));
    }
  }

  private async entriesOf(partition: number) {
    const { stateDirectory, manifest } = this.job;
    if (!stateDirectory || !manifest) return [];
    return readEntriesFor(localStateStore(stateDirectory), { manifest, token: '' }, partition, this.job.partitionCount);
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
