/** The run report, assembled from the stages' results, the client's statistics and the outcome (pure). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSettings } from '../../src/config/settings.ts';
import { emptyPipelineResults, emptySettingsResult } from '../../src/pipeline/results.ts';
import { buildReport, hasWritten, type ReportInputs } from '../../src/report/build.ts';
import { emptyClientStats } from '../../src/selligent/stats.ts';
import { VERSION } from '../../src/version.ts';

function inputs(more: Partial<ReportInputs> = {}): ReportInputs {
  return {
    dryRun: false,
    startedAt: '2026-01-01T00:00:00.000Z',
    finishedAt: '2026-01-01T00:00:02.000Z',
    totalSeconds: 2.5,
    settings: emptySettingsResult(),
    pipeline: emptyPipelineResults(),
    outcome: {
      status: 'failed',
      exitCode: 2,
      stage: null,
      error: { code: 'SETTINGS_MISSING', message: 'no settings', stage: 'settings', exit_code: 2 },
      log: null,
    },
    ...more,
  };
}

describe('buildReport', () => {
  it('a run that failed before its settings were read: every field present, counts empty, versioned', () => {
    const report = buildReport(inputs());
    assert.deepEqual(Object.keys(report), [
      'report_version',
      'tool',
      'status',
      'exit_code',
      'dry_run',
      'started_at',
      'finished_at',
      'settings_source',
      'settings',
      'selligent',
      'stage',
      'input',
      'validation',
      'deduplication',
      'list',
      'segments',
      'http',
      'accounting',
      'rejected_rows',
      'failed_without_detail',
      'segment_batch_rows',
      'durations_seconds',
      'plan',
      'changes',
      'warnings',
      'error',
    ]);
    assert.equal(report.report_version, 1);
    assert.deepEqual(report.tool, { name: 'selligent-export', version: VERSION });
    assert.equal(report.status, 'failed');
    assert.equal(report.exit_code, 2);
    assert.deepEqual(report.selligent, { base_url: null, organization: null, list: null });
    assert.deepEqual(report.http, { ...emptyClientStats(), split_batches: 0 });
    assert.deepEqual(report.durations_seconds, { total: 2.5 });
    assert.deepEqual(report.rejected_rows, { file: null, count: 0 });
    assert.deepEqual(report.error, {
      code: 'SETTINGS_MISSING',
      message: 'no settings',
      stage: 'settings',
      exit_code: 2,
    });
  });

  it('takes the settings stage, the client statistics with the split batches, durations and the warnings of every stage in order', () => {
    const settings = parseSettings({ organization: 'o', list_api_name: 'L', segment_column: 'seg', key_fields: 'id' });
    const pipeline = emptyPipelineResults();
    pipeline.http = {
      ...emptyClientStats(),
      requests: 7,
      by_route: { loadList: 3 },
      by_status: { '200': 6, '503': 1 },
      retries: 1,
      list_busy_waits: 2,
    };
    pipeline.splitBatches = 4;
    pipeline.durations = { preflight: 0.5, read: 1 };
    pipeline.stage = 'segment-load';
    pipeline.warnings = [{ code: 'BUSINESS_KEY_UNSUPPORTED', message: 'b' }];
    pipeline.rejectedRows = { file: '/r/x.jsonl', count: 3 };
    const report = buildReport(
      inputs({
        settings: {
          source: 'settings.yml',
          settings,
          baseUrl: 'https://tenant.example',
          warnings: [{ code: 'SETTING_W', message: 's' }],
        },
        pipeline,
        outcome: { status: 'succeeded', exitCode: 0, stage: null, error: null, log: null },
      }),
    );
    assert.equal(report.settings_source, 'settings.yml');
    assert.equal(report.settings, settings);
    assert.deepEqual(report.selligent, { base_url: 'https://tenant.example', organization: 'o', list: 'L' });
    assert.equal(report.stage, null, 'the outcome decides the stage');
    assert.deepEqual(Object.keys(report.http), [
      'requests',
      'by_route',
      'by_status',
      'retries',
      'rate_limited',
      'rate_limit_waits',
      'rate_limit_wait_seconds',
      'pacing_wait_seconds',
      'split_batches',
      'list_busy_waits',
      'list_busy_wait_seconds',
    ]);
    assert.equal(report.http.requests, 7);
    assert.equal(report.http.split_batches, 4);
    assert.equal(report.http.list_busy_waits, 2);
    assert.deepEqual(report.durations_seconds, { preflight: 0.5, read: 1, total: 2.5 });
    assert.deepEqual(
      report.warnings.map((w) => w.code),
      ['SETTING_W', 'BUSINESS_KEY_UNSUPPORTED'],
    );
    assert.deepEqual(report.rejected_rows, { file: '/r/x.jsonl', count: 3 });
    assert.equal(report.error, null);
  });
});

describe('hasWritten', () => {
  const list = { ...emptyList() };
  it('nothing created and no rows taken: nothing written', () => {
    assert.equal(hasWritten(null, []), false);
    assert.equal(hasWritten(list, []), false);
  });
  it('a List created, fields created, a key set or rows taken; a Segment created, cleared or loaded', () => {
    assert.equal(hasWritten({ ...list, created: true }, []), true);
    assert.equal(hasWritten({ ...list, fields_created: ['A'] }, []), true);
    assert.equal(hasWritten({ ...list, business_key_set: true }, []), true);
    assert.equal(hasWritten({ ...list, rows_sent: 1 }, []), true);
    assert.equal(hasWritten({ ...list, requests: 1 }, []), false, 'a refused first batch changed nothing');
    const segment = {
      api_name: 's',
      existed: true,
      created: false,
      cleared: false,
      rows: 1,
      rows_sent: 0,
      members_loaded: 0,
      not_found: 0,
      failed: 0,
      failed_without_detail: 0,
      skipped_rejected_keys: 0,
      requests: 0,
      status: 'pending' as const,
    };
    assert.equal(hasWritten(list, [segment]), false);
    assert.equal(hasWritten(list, [{ ...segment, cleared: true }]), true);
    assert.equal(hasWritten(list, [{ ...segment, created: true }]), true);
    assert.equal(hasWritten(list, [{ ...segment, rows_sent: 1 }]), true);
  });
});

function emptyList() {
  return {
    api_name: 'L',
    existed: true,
    created: false,
    fields_created: [],
    fields_created_types: [],
    business_key_set: false,
    requests: 0,
    rows_sent: 0,
    inserted: 0,
    updated: 0,
    failed: 0,
    duplicates: 0,
    not_found: 0,
    not_applied: 0,
    failed_without_detail: 0,
  };
}
