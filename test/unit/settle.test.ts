/** The status and exit-code decision at the end of a run (pure: no logger, no HTTP). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AuthError, ConfigError, ExitCode, InputError, InternalError, TransientError } from '../../src/errors.ts';
import { exceedsTolerance, exitCodeWithoutReport, settle, type SettleInputs } from '../../src/report/settle.ts';
import type { AccountingReport, SegmentReport } from '../../src/report/types.ts';

const TOLERANT = { max_rejected_rows: null, max_rejected_ratio: null };

function accounting(counts: Partial<AccountingReport> = {}): AccountingReport {
  return {
    input_rows: 10,
    skipped: 0,
    merged_duplicates: 0,
    rejected: 0,
    not_applied: 0,
    not_applied_by_reason: {},
    loaded: 10,
    balanced: true,
    ...counts,
  };
}

function segment(counts: Partial<SegmentReport> = {}): SegmentReport {
  return {
    api_name: 'seg',
    existed: true,
    created: false,
    cleared: false,
    rows: 1,
    rows_sent: 1,
    members_loaded: 1,
    not_found: 0,
    failed: 0,
    failed_without_detail: 0,
    skipped_rejected_keys: 0,
    requests: 1,
    status: 'succeeded',
    ...counts,
  };
}

function inputs(more: Partial<SettleInputs> = {}): SettleInputs {
  return {
    failure: undefined,
    stage: 'segment-load',
    written: true,
    accounting: accounting(),
    segments: [segment()],
    failedWithoutDetail: [],
    settings: TOLERANT,
    rejectedFile: '/r/rejected.jsonl',
    ...more,
  };
}

describe('settle: a run that finished', () => {
  it('succeeded, exit 0, no error, no stage, nothing to log', () => {
    assert.deepEqual(settle(inputs()), { status: 'succeeded', exitCode: 0, stage: null, error: null, log: null });
  });

  it('rejected rows make it partial, still exit 0 within the tolerance', () => {
    const outcome = settle(inputs({ accounting: accounting({ rejected: 1, loaded: 9 }) }));
    assert.equal(outcome.status, 'partial');
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.error, null);
  });

  it('rows whose outcome is unknown, a partial Segment, failed Segment members or rows failed without detail make it partial', () => {
    assert.equal(
      settle(inputs({ accounting: accounting({ not_applied_by_reason: { unknown: 1 } }) })).status,
      'partial',
    );
    assert.equal(
      settle(inputs({ accounting: accounting({ not_applied_by_reason: { outcome_unknown: 1 } }) })).status,
      'partial',
    );
    assert.equal(settle(inputs({ segments: [segment({ status: 'partial' })] })).status, 'partial');
    assert.equal(settle(inputs({ segments: [segment({ failed: 1 })] })).status, 'partial');
    const undetailed = [
      { stage: 'list-load' as const, target: 'L', batch_rows: 5, first_row: 1, last_row: 5, failed: 2 },
    ];
    assert.equal(settle(inputs({ failedWithoutDetail: undetailed })).status, 'partial');
    assert.equal(
      settle(inputs({ accounting: accounting({ not_applied_by_reason: { already_exists: 3 } }) })).status,
      'succeeded',
    );
  });

  it('rejections over the tolerance: exit 6 with REJECTIONS_OVER_TOLERANCE naming the rejected-rows file, and an error line to log', () => {
    const outcome = settle(
      inputs({
        accounting: accounting({ rejected: 2, loaded: 8 }),
        segments: [segment({ failed: 1 })],
        settings: { max_rejected_rows: 2, max_rejected_ratio: null },
      }),
    );
    assert.equal(outcome.status, 'partial');
    assert.equal(outcome.exitCode, ExitCode.partial);
    assert.equal(outcome.stage, null);
    assert.deepEqual(outcome.error, {
      code: 'REJECTIONS_OVER_TOLERANCE',
      message:
        'Selligent rejected 3 row(s), more than the tolerance (max_rejected_rows 2, max_rejected_ratio unset); see /r/rejected.jsonl',
      stage: 'report',
      exit_code: 6,
    });
    assert.deepEqual(outcome.log, {
      fields: { code: 'REJECTIONS_OVER_TOLERANCE', rejected: 3 },
      message: outcome.error.message,
    });
  });

  it('no settings (never read): no tolerance check', () => {
    assert.equal(settle(inputs({ accounting: accounting({ rejected: 5 }), settings: undefined })).exitCode, 0);
  });
});

describe('settle: a run that failed', () => {
  it('takes the exit code of the error and names its stage', () => {
    const failure = new TransientError('SELLIGENT_TIMEOUT', 'timed out', { stage: 'list-load' });
    const outcome = settle(inputs({ failure, stage: 'list-load' }));
    assert.equal(outcome.status, 'failed');
    assert.equal(outcome.exitCode, ExitCode.transient);
    assert.equal(outcome.stage, 'list-load');
    assert.deepEqual(outcome.error, {
      code: 'SELLIGENT_TIMEOUT',
      message: 'timed out',
      stage: 'list-load',
      exit_code: 5,
    });
    assert.deepEqual(outcome.log, {
      fields: { code: 'SELLIGENT_TIMEOUT', stage: 'list-load', exitCode: 5 },
      message: 'timed out',
    });
  });

  it('an error that names no stage is placed in the stage the run was in', () => {
    const outcome = settle(
      inputs({ failure: new AuthError('SETTINGS_INVALID', 'denied'), stage: 'read', written: false }),
    );
    assert.equal(outcome.error!.stage, 'read');
    assert.equal(outcome.exitCode, ExitCode.auth);
  });

  it('a configuration or input error after writes is a partial failure (exit 6); before writes it keeps its own code', () => {
    assert.equal(
      settle(inputs({ failure: new ConfigError('SETTINGS_INVALID', 'm'), written: true })).exitCode,
      ExitCode.partial,
    );
    assert.equal(
      settle(inputs({ failure: new InputError('SETTINGS_INVALID', 'm'), written: true })).exitCode,
      ExitCode.partial,
    );
    assert.equal(
      settle(inputs({ failure: new ConfigError('SETTINGS_INVALID', 'm'), written: false })).exitCode,
      ExitCode.config,
    );
    assert.equal(
      settle(inputs({ failure: new InputError('SETTINGS_INVALID', 'm'), written: false })).exitCode,
      ExitCode.input,
    );
    assert.equal(
      settle(inputs({ failure: new TransientError('SETTINGS_INVALID', 'm'), written: true })).exitCode,
      ExitCode.transient,
    );
  });

  it('an internal error logs its stack', () => {
    const failure = new InternalError('INTERNAL', 'bug', { stage: 'report' });
    const outcome = settle(inputs({ failure }));
    assert.equal(outcome.exitCode, ExitCode.internal);
    assert.deepEqual(outcome.log, {
      fields: { code: 'INTERNAL', stage: 'report', stack: failure.stack },
      message: 'bug',
    });
  });

  it('a failure before any stage has no stage', () => {
    const outcome = settle(
      inputs({ failure: new AuthError('SETTINGS_INVALID', 'denied'), stage: null, written: false }),
    );
    assert.equal(outcome.stage, null);
    assert.equal(outcome.error!.stage, null);
  });
});

describe('exceedsTolerance', () => {
  it('counts against max_rejected_rows and max_rejected_ratio, either one when set', () => {
    assert.equal(exceedsTolerance(3, 100, { max_rejected_rows: 3, max_rejected_ratio: null }), false);
    assert.equal(exceedsTolerance(4, 100, { max_rejected_rows: 3, max_rejected_ratio: null }), true);
    assert.equal(exceedsTolerance(5, 100, { max_rejected_rows: null, max_rejected_ratio: 0.05 }), false);
    assert.equal(exceedsTolerance(6, 100, { max_rejected_rows: null, max_rejected_ratio: 0.05 }), true);
    assert.equal(exceedsTolerance(1, 0, { max_rejected_rows: null, max_rejected_ratio: 0 }), false);
    assert.equal(exceedsTolerance(1_000, 1_000, TOLERANT), false);
  });
});

describe('exitCodeWithoutReport', () => {
  it('a run that succeeded but could not record it fails: partial after writes, configuration before', () => {
    assert.equal(exitCodeWithoutReport(ExitCode.ok, true), ExitCode.partial);
    assert.equal(exitCodeWithoutReport(ExitCode.ok, false), ExitCode.config);
    assert.equal(exitCodeWithoutReport(ExitCode.transient, true), ExitCode.transient);
  });
});
