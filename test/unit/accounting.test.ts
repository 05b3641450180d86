/** The run's accounting from the read counts and the deduplication and List tallies (pure). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { accountRun, accountingReport } from '../../src/pipeline/accounting.ts';
import { emptyTally, type LoadTally } from '../../src/pipeline/send-batches.ts';

function tally(counts: Partial<LoadTally>): LoadTally {
  return { ...emptyTally(), ...counts };
}

describe('accountingReport', () => {
  it('balances when every input row is in exactly one count', () => {
    const a = accountingReport({
      inputRows: 10,
      skipped: 1,
      mergedDuplicates: 2,
      rejected: 3,
      notApplied: { duplicate: 1, not_found: 0 },
      loaded: 3,
    });
    assert.deepEqual(a, {
      input_rows: 10,
      skipped: 1,
      merged_duplicates: 2,
      rejected: 3,
      not_applied: 1,
      not_applied_by_reason: { duplicate: 1 },
      loaded: 3,
      balanced: true,
    });
  });

  it('does not balance when a row is missing or counted twice', () => {
    assert.equal(
      accountingReport({ inputRows: 10, skipped: 0, mergedDuplicates: 0, rejected: 0, notApplied: {}, loaded: 9 })
        .balanced,
      false,
    );
    assert.equal(
      accountingReport({ inputRows: 10, skipped: 1, mergedDuplicates: 0, rejected: 0, notApplied: {}, loaded: 10 })
        .balanced,
      false,
    );
  });
});

describe('accountRun', () => {
  const rows = { inputRows: 100, skipped: 5, spooledRows: 95 };

  it('a finished run: loaded, rejected before and by Selligent, merged and not applied add up', () => {
    const a = accountRun(rows, {
      winners: 90,
      merged: 5,
      clientRejected: 2,
      complete: true,
      tally: tally({ loaded: 80, rejected: 3, notApplied: { already_exists: 5 } }),
    });
    assert.equal(a.rejected, 5);
    assert.equal(a.loaded, 80);
    assert.equal(a.merged_duplicates, 5);
    assert.deepEqual(a.not_applied_by_reason, { already_exists: 5 });
    assert.equal(a.balanced, true);
  });

  it('a run that stopped early counts the rows it never sent as not_sent', () => {
    const a = accountRun(rows, {
      winners: 40,
      merged: 5,
      clientRejected: 0,
      complete: false,
      tally: tally({ loaded: 30, rejected: 1 }),
    });
    assert.deepEqual(a.not_applied_by_reason, { not_sent: 95 - 5 - 31 });
    assert.equal(a.balanced, true);
  });

  it('a run that stopped before sending anything has every valid row not sent', () => {
    const a = accountRun(rows, { winners: 0, merged: 0, clientRejected: 0, complete: false, tally: tally({}) });
    assert.deepEqual(a.not_applied_by_reason, { not_sent: 95 });
    assert.equal(a.balanced, true);
  });

  it('does not change the tally it reads', () => {
    const t = tally({ loaded: 30, notApplied: { unknown: 1 } });
    accountRun(rows, { winners: 31, merged: 0, clientRejected: 0, complete: false, tally: t });
    assert.deepEqual(t.notApplied, { unknown: 1 });
  });

  it('a finished run whose spool lost or gained rows does not balance, even if the counts add up', () => {
    const a = accountRun(
      { inputRows: 10, skipped: 0, spooledRows: 9 },
      { winners: 10, merged: 0, clientRejected: 0, complete: true, tally: tally({ loaded: 10 }) },
    );
    assert.equal(a.balanced, false);
  });
});
