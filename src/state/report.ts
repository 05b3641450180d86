import type { ChangeTotals } from './diff.js';
import type { ChangesReport } from '../report/types.js';

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
