import { generationOfDirectory } from './format.js';
import type { CommitGuarantee, StateStore } from './store.js';
import type { WrittenState } from './writer.js';

export interface CommitResult {
  generation: number;
  guarantee: CommitGuarantee;
  /** Generation directories removed because two newer ones exist. */
  removed: string[];
}

/**
 * Puts a written generation in force by replacing the pointer, if it still names the generation this
 * run read (`previous.token`, from readState or readResyncBase; undefined when there was none). Throws StateConflictError when another run
 * committed first: its state stays in force. Then removes generations older than the one replaced, so
 * the last two remain; a generation another run may still be writing is never older than that.
 */
export async function commitState(
  store: StateStore,
  written: WrittenState,
  previous: { token: string | undefined } | undefined,
): Promise<CommitResult> {
  const body = Buffer.from(`${JSON.stringify(written.pointer, null, 2)}\n`);
  const guarantee = await store.replacePointer(body, previous?.token);
  const removed: string[] = [];
  const keepFrom = written.manifest.generation - 1;
  for (const name of await store.listDirectories()) {
    const generation = generationOfDirectory(name);
    if (generation === undefined || generation >= keepFrom) continue;
    // Cleaning up is housekeeping: the new state is in force already, a later run retries.
    await store.removeDirectory(name).then(
      () => removed.push(name),
      () => undefined,
    );
  }
  return { generation: written.manifest.generation, guarantee, removed };
}
