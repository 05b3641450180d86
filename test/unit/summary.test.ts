/** The one line a run prints last, from its report (pure). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { summaryLine } from '../../src/report/summary.ts';
import { buildReport } from '../../src/report/build.ts';
import { emptyPipelineResults, emptySettingsResult } from '../../src/pipeline/results.ts';
import type { RunReport } from '../../src/report/types.ts';

function report(change: (r: RunReport) => void = () => undefined): RunReport {
  const r = buildReport({
    dryRun: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:01.000Z',
    totalSeconds: 1,
    settings: emptySettingsResult(),
    pipeline: emptyPipelineResults(),
    outcome: { status: 'succeeded', exitCode: 0, stage: null, error: null, log: null },
  });
  change(r);
  return r;
}

const ACCOUNTING = {
  input_rows: 10,
  skipped: 1,
  merged_duplicates: 2,
  rejected: 1,
  not_applied: 0,
  not_applied_by_reason: {},
  loaded: 6,
  balanced: true,
};
const LIST = {
  api_name: 'L',
  existed: true,
  created: false,
  fields_created: [],
  fields_created_types: [],
  business_key_set: false,
  requests: 1,
  rows_sent: 7,
  inserted: 4,
  updated: 2,
  failed: 1,
  duplicates: 0,
  not_found: 0,
  not_applied: 0,
  failed_without_detail: 0,
};
const SEGMENT = {
  api_name: 's',
  existed: true,
  created: false,
  cleared: false,
  rows: 3,
  rows_sent: 3,
  members_loaded: 3,
  not_found: 0,
  failed: 0,
  failed_without_detail: 0,
  skipped_rejected_keys: 0,
  requests: 1,
};

describe('summaryLine', () => {
  it('a run that failed before reading names the error, its stage, the exit code and the report', () => {
    const line = summaryLine(
      report((r) => {
        r.status = 'failed';
        r.exit_code = 2;
        r.error = { code: 'SETTINGS_MISSING', message: 'no settings', stage: 'settings', exit_code: 2 };
      }),
      '/r/report.json',
    );
    assert.equal(
      line,
      'selligent-export: failed - error SETTINGS_MISSING in settings: no settings, exit 2, report /r/report.json',
    );
  });

  it('a loaded run counts rows, List figures and Segments', () => {
    const line = summaryLine(
      report((r) => {
        r.status = 'partial';
        r.accounting = ACCOUNTING;
        r.list = LIST;
        r.segments = [
          { ...SEGMENT, status: 'succeeded' },
          { ...SEGMENT, api_name: 't', members_loaded: 0, status: 'failed' },
        ];
      }),
      'r.json',
    );
    assert.equal(
      line,
      'selligent-export: partial - 10 rows read, 6 loaded into List L (4 inserted, 2 updated), 1 skipped, 2 duplicates merged, 1 rejected, 1/2 Segments loaded (3 members), exit 0, report r.json',
    );
  });

  it('rows not applied, those failed without detail among them, and warnings are named', () => {
    const line = summaryLine(
      report((r) => {
        r.accounting = {
          ...ACCOUNTING,
          loaded: 3,
          not_applied: 3,
          not_applied_by_reason: { failed_without_detail: 2, unknown: 1 },
        };
        r.warnings = [
          { code: 'A', message: 'a' },
          { code: 'B', message: 'b' },
        ];
      }),
      'r.json',
    );
    assert.match(
      line,
      /, 1 rejected, 3 not applied, 2 of them failed without detail, 2 warnings \(see report\), exit 0, report r\.json$/,
    );
    assert.match(
      summaryLine(
        report((r) => (r.warnings = [{ code: 'A', message: 'a' }])),
        'r.json',
      ),
      / - 1 warning \(see report\), exit 0/,
    );
  });

  it('a dry run says what it would load and in how many requests', () => {
    const line = summaryLine(
      report((r) => {
        r.dry_run = true;
        r.accounting = ACCOUNTING;
        r.list = LIST;
        r.segments = [{ ...SEGMENT, status: 'planned' }];
        r.plan = {
          list_to_create: false,
          fields_to_create: [],
          business_key_to_set: null,
          list_rows: 7,
          list_requests: 1,
          segments: [{ api_name: 's', rows: 3, create: false, clear: false, requests: 1 }],
          requests: 2,
        };
      }),
      'r.json',
    );
    assert.equal(
      line,
      'selligent-export: dry run succeeded - 10 rows read, would load 7 into List L and 1 Segment(s) in 2 requests, 1 skipped, 2 duplicates merged, 1 rejected, exit 0, report r.json',
    );
  });

  it('a run that failed while reading gives the rows read so far', () => {
    const line = summaryLine(
      report((r) => {
        r.input.rows = 42;
        r.status = 'failed';
        r.exit_code = 3;
        r.error = { code: 'INVALID_ROW', message: 'input row 43: bad', stage: 'read', exit_code: 3 };
      }),
      'r.json',
    );
    assert.equal(
      line,
      'selligent-export: failed - 42 rows read, error INVALID_ROW in read: input row 43: bad, exit 3, report r.json',
    );
  });

  it('a multi-line message is folded into the line, and a long one is cut', () => {
    const folded = summaryLine(
      report(
        (r) =>
          (r.error = {
            code: 'SETTINGS_INVALID',
            message: 'settings are invalid:\n  - a: bad\n  - b: bad',
            stage: 'settings',
            exit_code: 2,
          }),
      ),
      'r.json',
    );
    assert.match(folded, /error SETTINGS_INVALID in settings: settings are invalid: a: bad; b: bad, exit/);
    const long = summaryLine(
      report((r) => (r.error = { code: 'X', message: 'x'.repeat(1000), stage: null, exit_code: 1 })),
      'r.json',
    );
    assert.match(long, /error X in run: x{597}\.\.\., exit/);
  });
});
