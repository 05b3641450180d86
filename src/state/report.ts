import type { ChangeTotals } from './diff.js';
import type { CommitGuarantee } from './store.js';

/** The run report's `changes` block (null in the report when sync_mode is full). */
export interface ChangesReport {
  mode: 'changes' | 'full-resync' | 'reset';
  /** The state location, without credentials. */
  state: string;
  generation_read: number | null;
  /** null until committed: a failed, dry or conflicting run writes none. */
  generation_written: number | null;
  rows_in_state: number;
  new: number;
  changed: number;
  unchanged: number;
  left_input: number;
  /** Per Segment: memberships added and removed (removals only under replace). */
  segments: Record<string, { added: number; removed: number }>;
  /** Member removal requests made (or, in a dry run, that would be made). */
  removal_requests: number;
  /** Compressed bytes of the state read and of the state written. */
  state_bytes_read: number;
  state_bytes_written: number | null;
  /** Why this run did not compare with the state (identity change, --full-resync, no state yet), else null. */
  reset_reason: string | null;
  /** How the commit was protected against a concurrent run, or null when nothing was committed. */
  commit_guarantee: CommitGuarantee | null;
  /** STATE_CONFLICT when another run committed first; this run's state was then not committed. */
  commit_error: string | null;
}

/** The block before the commit, from the comparison's totals. */
export function changesReport(args: {
  mode: ChangesReport['mode'];
  location: string;
  generationRead: number | null;
  rowsInState: number;
  bytesRead: number;
  totals: ChangeTotals;
  resetReason: string | null;
}): ChangesReport {
  const segments: ChangesReport['segments'] = {};
  for (const [segment, counts] of Object.entries(args.totals.segments))
    segments[segment] = { added: counts.add, removed: counts.remove };
  return {
    mode: args.mode,
    state: args.location,
    generation_read: args.generationRead,
    generation_written: null,
    rows_in_state: args.rowsInState,
    new: args.totals.new,
    changed: args.totals.changed,
    unchanged: args.totals.unchanged,
    left_input: args.totals.left,
    segments,
    removal_requests: 0,
    state_bytes_read: args.bytesRead,
    state_bytes_written: null,
    reset_reason: args.resetReason,
    commit_guarantee: null,
    commit_error: null,
  };
}
