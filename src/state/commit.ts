import { StateConflictError } from './errors.js';
import { generationOfDirectory, type StatePointer } from './format.js';
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

/** Attempts at marking the pointer when other runs keep replacing it. */
const MARK_ATTEMPTS = 3;

/**
 * Marks the state in force, whichever it is now, so that the next run sends every row: what a run that
 * lost the race to commit does after writing to Selligent, since its writes may have landed after the
 * winner's and the winner's state would then skip rows whose value Selligent no longer holds. Returns
 * false when there is no state to mark or the pointer kept changing (the caller says to run a full
 * resync); a pointer that cannot be read is left as it is (the next run stops on it, asking for one).
 */
export async function requireResync(store: StateStore, reason: string, now = new Date()): Promise<boolean> {
  for (let attempt = 0; attempt < MARK_ATTEMPTS; attempt++) {
    const current = await store.readPointer();
    if (!current) return false;
    let pointer: StatePointer;
    try {
      pointer = JSON.parse(current.body.toString('utf8')) as StatePointer;
    } catch {
      return false;
    }
    if (pointer === null || typeof pointer !== 'object') return false;
    if (pointer.resync_required) return true;
    const marked: StatePointer = { ...pointer, resync_required: { reason, at: now.toISOString() } };
    try {
      await store.replacePointer(Buffer.from(`${JSON.stringify(marked, null, 2)}\n`), current.token);
      return true;
    } catch (error) {
      if (!(error instanceof StateConflictError)) throw error;
    }
  }
  return false;
}
