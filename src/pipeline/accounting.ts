import type { AccountingReport } from '../report/types.js';
import type { ListCounts, ReadRows } from './results.js';
import { add } from './send-batches.js';

export interface AccountingCounts {
  inputRows: number;
  skipped: number;
  mergedDuplicates: number;
  rejected: number;
  notApplied: Record<string, number>;
  loaded: number;
  /** changes mode: rows not sent because the state records them as they are; undefined in full mode. */
  unchanged?: number;
}

/**
 * The accounting promise: every input row is skipped, merged away as a duplicate, rejected, not applied,
 * loaded or (changes mode) unchanged, exactly once. `balanced` is checked by the caller; a false value is a bug.
 */
export function accountingReport(counts: AccountingCounts): AccountingReport {
  const notApplied = Object.values(counts.notApplied).reduce((sum, n) => sum + n, 0);
  const total =
    counts.skipped + counts.mergedDuplicates + counts.rejected + notApplied + counts.loaded + (counts.unchanged ?? 0);
  return {
    input_rows: counts.inputRows,
    skipped: counts.skipped,
    merged_duplicates: counts.mergedDuplicates,
    rejected: counts.rejected,
    not_applied: notApplied,
    not_applied_by_reason: Object.fromEntries(Object.entries(counts.notApplied).filter(([, n]) => n > 0)),
    loaded: counts.loaded,
    ...(counts.unchanged === undefined ? {} : { unchanged: counts.unchanged }),
    balanced: total === counts.inputRows,
  };
}

/**
 * The run's accounting from the rows read and the deduplication and List tallies. Valid rows a run that
 * stopped early never got to are `not_sent`: counted, not lost. A finished run that spooled fewer or more
 * rows than were valid does not balance.
 */
export function accountRun(rows: ReadRows, counts: Omit<ListCounts, 'rejectedRows'>): AccountingReport {
  const tally = counts.tally;
  const valid = rows.inputRows - rows.skipped;
  const notApplied = { ...tally.notApplied };
  const processed =
    counts.clientRejected +
    tally.rejected +
    tally.loaded +
    (counts.unchanged ?? 0) +
    Object.values(tally.notApplied).reduce((a, b) => a + b, 0);
  if (!counts.complete) add(notApplied, 'not_sent', valid - counts.merged - processed);
  const accounting = accountingReport({
    inputRows: rows.inputRows,
    skipped: rows.skipped,
    mergedDuplicates: counts.merged,
    rejected: counts.clientRejected + tally.rejected,
    notApplied,
    loaded: tally.loaded,
    unchanged: counts.unchanged,
  });
  if (counts.complete && rows.spooledRows !== valid) accounting.balanced = false;
  return accounting;
}
