import { UNCONFIRMED_ROW_HASH, type StateEntry } from './format.js';

/**
 * Comparing the state with a new input, one partition at a time: pure, so the rules are tested apart
 * from the run. Keys are canonical values (the form the input's deduplication compares them in).
 */

/** One deduplicated input key: its canonical value, the hash of its row as it would be sent, its Segments. */
export interface InputEntry {
  key: string;
  rowHash: string;
  segments: readonly string[];
}

export type RowChange = 'new' | 'changed' | 'unchanged';

export interface EntryDiff {
  key: string;
  /** Whether the List row must be sent: new and changed rows are, unchanged ones are not. */
  row: RowChange;
  /** The key as recorded, if it was. */
  previous: StateEntry | undefined;
  /** Segments the key must be loaded into: its input Segments the state does not record for it. */
  add: string[];
  /** Under replace: Segments the exporter put the key in that the input no longer names. */
  remove: string[];
}

/** A recorded key the input no longer has; under replace, its memberships to remove. */
export interface LeftEntry {
  key: string;
  previous: StateEntry;
  remove: string[];
}

/** What a row change and its memberships are, given the key's record (if any). */
export function compareEntry(previous: StateEntry | undefined, current: InputEntry, removeLeavers: boolean): EntryDiff {
  const row: RowChange = !previous ? 'new' : previous.rowHash === current.rowHash ? 'unchanged' : 'changed';
  const recorded = previous?.segments ?? [];
  const add = unique(current.segments).filter((segment) => !recorded.includes(segment));
  const remove = removeLeavers ? recorded.filter((segment) => !current.segments.includes(segment)) : [];
  return { key: current.key, row, previous, add, remove };
}

/** A recorded key the input no longer has: under `replace`, every membership the exporter added goes. */
export function leftEntry(previous: StateEntry, removeLeavers: boolean): LeftEntry {
  return { key: previous.key, previous, remove: removeLeavers ? [...previous.segments] : [] };
}

/** Counts for the report's `changes` block. */
export interface ChangeTotals {
  new: number;
  changed: number;
  unchanged: number;
  left: number;
  /** Per Segment: memberships to add and to remove. */
  segments: Record<string, { add: number; remove: number }>;
}

export function emptyTotals(): ChangeTotals {
  return { new: 0, changed: 0, unchanged: 0, left: 0, segments: {} };
}

export function countEntry(totals: ChangeTotals, diff: EntryDiff | LeftEntry): void {
  if ('row' in diff) totals[diff.row] += 1;
  else totals.left += 1;
  if ('add' in diff) for (const segment of diff.add) segmentTotals(totals, segment).add += 1;
  for (const segment of diff.remove) segmentTotals(totals, segment).remove += 1;
}

function segmentTotals(totals: ChangeTotals, segment: string): { add: number; remove: number } {
  let counts = totals.segments[segment];
  if (!counts) {
    counts = { add: 0, remove: 0 };
    totals.segments[segment] = counts;
  }
  return counts;
}

/** What Selligent applied of one key's writes. */
export interface Applied {
  /** The List row was applied (or not sent because unchanged). */
  row: boolean;
  /**
   * The List row was sent: one sent and not confirmed applied (rejected, not applied, or its outcome
   * unknown) may have changed the record in Selligent all the same, so its previous hash no longer says
   * what Selligent holds.
   */
  sent?: boolean;
  /** Segments whose membership load for this key was applied. */
  added: readonly string[];
  /** Segments whose membership removal for this key was applied. */
  removed: readonly string[];
}

/**
 * The key's entry in the new state, or undefined when nothing about it is to be recorded. Only what
 * Selligent applied is recorded: a row not applied stays unrecorded (a new key) or, when it was sent,
 * gets UNCONFIRMED_ROW_HASH, so the next run sends it again whatever its value then (even one equal to
 * the previous, which Selligent may no longer hold); a membership not applied is not recorded, so the
 * next run loads it again; a removal not applied stays recorded, so the next run removes it again.
 */
export function recordedEntry(
  diff: EntryDiff | LeftEntry,
  current: InputEntry | undefined,
  applied: Applied,
): StateEntry | undefined {
  const previous = diff.previous;
  const rowHash =
    current && applied.row ? current.rowHash : previous && applied.sent ? UNCONFIRMED_ROW_HASH : previous?.rowHash;
  if (rowHash === undefined) return undefined;
  const segments: string[] = [];
  for (const segment of previous?.segments ?? []) {
    const stillNamed = current?.segments.includes(segment) ?? false;
    const pendingRemoval = diff.remove.includes(segment) && !applied.removed.includes(segment);
    if (stillNamed || pendingRemoval) segments.push(segment);
  }
  if ('add' in diff)
    for (const segment of diff.add)
      if (applied.added.includes(segment) && !segments.includes(segment)) segments.push(segment);
  // A key that left the input with no membership left to remove needs no record: the List keeps it either way.
  if (!current && segments.length === 0) return undefined;
  return { key: diff.key, rowHash, segments };
}

function unique(values: readonly string[]): string[] {
  return values.length < 2 ? [...values] : [...new Set(values)];
}
