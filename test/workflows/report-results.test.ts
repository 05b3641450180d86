/**
 * workflows/scripts/selligent_report.py, the py> tasks of selligent_export_results.dig, on a real run
 * report: the built CLI against the simulator writes it, Python reads it with a stand-in for digdag's
 * `digdag` module that records what digdag.env.store received.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, runCli, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, seededList, selligentEnv, simulator } from '../helpers/sim.ts';

const python = spawnSync('python3', ['--version']).status === 0 ? 'python3' : undefined;

function store(
  fn: string,
  reportPath: string,
): { stored: Record<string, Record<string, unknown>>; status: number | null; stderr: string } {
  const dir = mkdtempSync(join(tmpdir(), 'sx-py-'));
  const out = join(dir, 'stored.json');
  writeFileSync(
    join(dir, 'digdag.py'),
    `import json\nclass _Env:\n    def store(self, params):\n        with open(${JSON.stringify(out)}, "w") as f:\n            json.dump(params, f)\nenv = _Env()\n`,
  );
  const result = spawnSync(
    python!,
    [
      '-c',
      `import sys; sys.path[:0] = [${JSON.stringify(dir)}, ${JSON.stringify(join(ROOT, 'workflows'))}]\nimport scripts.selligent_report as r\nr.${fn}(report_path=${JSON.stringify(reportPath)})`,
    ],
    { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
  );
  let stored = {};
  try {
    stored = JSON.parse(readFileSync(out, 'utf8')) as Record<string, Record<string, unknown>>;
  } catch {
    // Nothing stored: the caller asserts on status and stderr.
  }
  return { stored, status: result.status, stderr: result.stderr };
}

test(
  "store_counts: a later task gets the report's counts as ${selligent_export.*}",
  { skip: python ? false : 'no python3' },
  async () => {
    const sim = await simulator({ seed: seededList({ fields: [{ name: 'NICKNAME', data_type: 'Text', length: 5 }] }) });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'sx-py-'));
      const input = writeInput(
        dir,
        'input.csv',
        [
          'selligent_segment,customer_identifier,email,first_name,nickname',
          'seg_a,C1,a@example.com,A,ok',
          'seg_a,C2,b@example.com,B,far too long',
          'seg_b,,c@example.com,C,ok',
          'seg_b,C3,c@example.com,C,ok',
          'seg_b,C3,c@example.com,C,ok',
        ].join('\n') + '\n',
      );
      const run = await runCli({ settings: BASE_SETTINGS, input, env: selligentEnv(sim) });
      assert.equal(run.code, 0, run.stdout);
      const a = run.report!.accounting!;
      const { stored, status, stderr } = store('store_counts', run.reportPath);
      assert.equal(status, 0, stderr);
      assert.deepEqual(stored.selligent_export, {
        report_path: run.reportPath,
        status: 'partial',
        exit_code: 0,
        dry_run: false,
        list: 'master_contacts',
        input_rows: a.input_rows,
        loaded: a.loaded,
        skipped: 1,
        merged_duplicates: 1,
        rejected: 1,
        not_applied: 0,
        segments: 2,
        segments_loaded: 2,
        members_loaded: 2,
        rows_file: run.report!.rejected_rows.file,
        error_code: null,
      });

      const alert = store('store_alert', run.reportPath);
      assert.equal(alert.status, 0, alert.stderr);
      const summary = String(alert.stored.selligent_export!.summary);
      assert.match(
        summary,
        /^selligent-export: partial \(exit 0\) - 5 rows read, 2 loaded, 1 skipped, 1 duplicates merged, 1 rejected, 0 not applied; 2\/2 Segments loaded \(2 members\); report /,
      );
      assert.deepEqual(JSON.parse(String(alert.stored.selligent_export!.alert_json)), { text: summary });
    } finally {
      await sim.close();
    }
  },
);

test(
  "store_alert: a failed run's error is in the summary; a missing report still gives one",
  { skip: python ? false : 'no python3' },
  async () => {
    const sim = await simulator({ seed: seededList() });
    try {
      const dir = mkdtempSync(join(tmpdir(), 'sx-py-'));
      const run = await runCli({
        settings: { ...BASE_SETTINGS, list_api_name: 'no_such_list' },
        input: writeInput(dir, 'input.csv', 'selligent_segment,customer_identifier\nseg_a,C1\n'),
        env: selligentEnv(sim),
      });
      assert.equal(run.code, 2);
      const alert = store('store_alert', run.reportPath);
      assert.equal(alert.status, 0, alert.stderr);
      assert.match(
        String(alert.stored.selligent_export!.summary),
        new RegExp(
          `^selligent-export: failed \\(exit 2\\) - .*; error ${run.report!.error!.code} in preflight: .*no_such_list`,
        ),
      );

      const missing = store('store_alert', join(dir, 'nothing.json'));
      assert.equal(missing.status, 0, missing.stderr);
      assert.match(
        String(missing.stored.selligent_export!.summary),
        /^selligent-export: no readable run report at .*nothing\.json/,
      );
      // store_counts has nothing to store without a report: the task fails, naming the path.
      const counts = store('store_counts', join(dir, 'nothing.json'));
      assert.notEqual(counts.status, 0);
      assert.match(counts.stderr, /nothing\.json/);
    } finally {
      await sim.close();
    }
  },
);
