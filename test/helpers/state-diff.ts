import { compareEntry, leftEntry, type EntryDiff, type InputEntry, type LeftEntry } from '../../src/state/diff.js';
import type { StateEntry } from '../../src/state/format.js';

/**
 * A whole partition compared with the rules a run applies key by key (compareEntry, leftEntry): each
 * input entry's diff in input order, then the recorded keys no input entry named.
 */
export function diffPartition(
  stateEntries: Iterable<StateEntry>,
  input: Iterable<InputEntry>,
  removeLeavers: boolean,
): { entries: EntryDiff[]; left: LeftEntry[] } {
  const recorded = new Map<string, StateEntry>();
  for (const entry of stateEntries) recorded.set(entry.key, entry);
  const entries: EntryDiff[] = [];
  for (const current of input) {
    entries.push(compareEntry(recorded.get(current.key), current, removeLeavers));
    recorded.delete(current.key);
  }
  return { entries, left: [...recorded.values()].map((previous) => leftEntry(previous, removeLeavers)) };
}
