import { UNCONFIRMED_ROW_HASH, parseEntryLine, type StateIdentity } from './format.js';
import type { StateJournal } from './journal.js';
import { readRecordedPartition, type LoadedState } from './reader.js';
import type { StateStore } from './store.js';
import { StateWriter, type WrittenState } from './writer.js';

/**
 * Keys a failed run may leave unconfirmed in memory at once; a run that sent more changed rows before
 * failing asks for a full run instead (see ChangeSync.recordFailure).
 */
export const MAX_UNCONFIRMED_KEYS = 500_000;

/**
 * The state a run compared with (its pieces read and checked again from the store: the run's local
 * copy is gone with its spool), written again as a new generation in which every known key whose changed
 * row the run sent gets UNCONFIRMED_ROW_HASH: the run failed, so nothing of it is recorded as applied, but
 * Selligent may hold those rows, and an input changed back to the recorded value must be sent too.
 * Undefined when the run sent more changed rows than MAX_UNCONFIRMED_KEYS.
 */
export async function writeUnconfirmed(
  store: StateStore,
  state: LoadedState,
  journal: StateJournal,
  identity: StateIdentity,
  workDir: string,
  maxKeys = MAX_UNCONFIRMED_KEYS,
): Promise<WrittenState | undefined> {
  const unconfirmed = new Set<string>();
  for await (const key of journal.sentRecordedKeys()) {
    unconfirmed.add(key);
    if (unconfirmed.size > maxKeys) return undefined;
  }
  const { partition_count: partitionCount } = state.manifest;
  const writer = new StateWriter(workDir, partitionCount);
  try {
    for (let partition = 0; partition < partitionCount; partition++) {
      for (const recorded of await readRecordedPartition(store, state, partition)) {
        const segments = JSON.parse(recorded.segmentsJson) as string[];
        if (!unconfirmed.has(recorded.key)) await writer.addLine(partition, recorded.line, segments);
        else await writer.add({ ...parseEntryLine(recorded.line)!, rowHash: UNCONFIRMED_ROW_HASH });
      }
    }
    return await writer.write(store, identity, state.manifest.generation);
  } finally {
    await writer.discard();
  }
}
