import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { SETTING_NAMES, parseSettings } from '../../src/config/settings.ts';
import { emptyPipelineResults, emptySettingsResult } from '../../src/pipeline/results.ts';
import { buildReport } from '../../src/report/build.ts';
import type { RunReport } from '../../src/report/types.ts';
import { renderReport } from '../../src/report/render.ts';
import { countRowsFile } from '../../src/report/rows-file-counts.ts';
import { REPORT_SCHEMA_URL, validateReport } from '../../src/report/schema-check.ts';

/** A report as a run that has not got past its settings builds it. */
function emptyReport(dryRun: boolean): RunReport {
  const now = new Date().toISOString();
  return buildReport({
    dryRun,
    startedAt: now,
    finishedAt: now,
    totalSeconds: 0,
    settings: emptySettingsResult(),
    pipeline: emptyPipelineResults(),
    outcome: { status: 'failed', exitCode: 1, stage: null, error: null, log: null },
  });
}

const schema = JSON.parse(readFileSync(REPORT_SCHEMA_URL, 'utf8')) as {
  $defs: Record<string, { properties: Record<string, unknown>; required: string[] }>;
};

test('the schema lists exactly the settings the exporter knows, each one required (a report holds effective settings)', () => {
  assert.deepEqual(Object.keys(schema.$defs.Settings!.properties).sort(), [...SETTING_NAMES].sort());
  assert.deepEqual([...schema.$defs.Settings!.required].sort(), [...SETTING_NAMES].sort());
});

test('a report as a run starts it, and one with effective settings, conform; report_version is allowed', () => {
  const report = emptyReport(false);
  assert.deepEqual(validateReport(report), []);
  report.settings = parseSettings({ organization: 'o', list_api_name: 'l', segment_column: 's', key_fields: 'K' });
  assert.deepEqual(validateReport(report), []);
  assert.deepEqual(validateReport({ ...report, report_version: 1 }), []);
});

test('problems name the JSON path: a wrong enum, a missing field, an unknown field, a wrong type', () => {
  const report = emptyReport(true) as unknown as Record<string, unknown>;
  const problems = validateReport({
    ...report,
    status: 'done',
    exit_code: 9,
    extra: true,
    input: { ...(report.input as object), rows: -1 },
    tool: { name: 'x' },
  });
  const text = problems.map((p) => `${p.path}: ${p.message}`);
  assert.ok(text.includes('/status: must be one of "succeeded", "partial", "failed"'), text.join('\n'));
  assert.ok(text.includes('/exit_code: must be one of 0, 1, 2, 3, 4, 5, 6'), text.join('\n'));
  assert.ok(text.includes(': unknown field "extra"'), text.join('\n'));
  assert.ok(text.includes('/tool: missing field "version"'), text.join('\n'));
  assert.ok(
    text.some((line) => line.startsWith('/input/rows: must be >= 0')),
    text.join('\n'),
  );
  assert.ok(validateReport([]).length > 0);
});

test('renderReport: a report that never got past the settings still reads, and names its error', () => {
  const report = emptyReport(false);
  report.exit_code = 2;
  report.error = {
    code: 'SETTINGS_INVALID',
    message: 'settings has 2 problems:\n  - a: x\n  - b: y',
    stage: 'settings',
    exit_code: 2,
  };
  const text = renderReport(report);
  assert.match(text, /^ {2}status +failed \(exit 2\)$/m);
  assert.match(text, /^ {2}error +SETTINGS_INVALID in stage settings$/m);
  assert.match(text, /^ {4}- b: y$/m);
  assert.doesNotMatch(text, /Rows|Segments|Requests/);
});

test('countRowsFile: lines by stage and reason, in order of appearance; an unreadable line counts under ?', () => {
  const text = [
    '{"stage":"validate","code":"key_blank"}',
    '{"stage":"list-load","code":"InvalidType"}',
    '{"stage":"validate","code":"key_blank"}',
    'not json',
    '',
  ].join('\n');
  assert.deepEqual(countRowsFile(text).byReason, [
    { stage: 'validate', code: 'key_blank', rows: 2 },
    { stage: 'list-load', code: 'InvalidType', rows: 1 },
    { stage: '?', code: '?', rows: 1 },
  ]);
});
