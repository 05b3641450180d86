/**
 * A dry run says what a real run would do: the summary speaks of rows it would load (not of rows "not
 * applied"), and the plan lists every write request, adding up to its total.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { CLI, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, seededList, selligentEnv, simulator, writes } from '../helpers/sim.ts';

test('dry run: the summary says what would be loaded and the plan lists every request it would make', async () => {
  const sim = await simulator({ seed: seededList() });
  try {
    const dir = tempDir();
    const rows = Array.from(
      { length: 20 },
      (_, i) => `seg_${i % 2 ? 'a' : 'b'},C${i < 2 ? 100 : i},row${i}@example.com,Name${i}`,
    );
    const input = writeInput(
      dir,
      'input.csv',
      ['selligent_segment,customer_identifier,email,first_name', ...rows].join('\n') + '\n',
    );
    const result = await runCli({
      settings: { ...BASE_SETTINGS, batch_rows: 5, segment_batch_rows: 5, segment_batch_rows_max: 5 },
      input,
      dir,
      env: selligentEnv(sim),
      args: ['--dry-run'],
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(writes(sim).length, 0);
    const report = result.report!;
    const summary = (result.stdout + result.stderr)
      .split('\n')
      .find((line) => line.startsWith('selligent-export: dry run'));
    assert.ok(summary, result.stdout + result.stderr);
    assert.match(summary, /would load 19 into List master_contacts/);
    assert.doesNotMatch(summary, /not applied/);

    const plan = report.plan!;
    assert.deepEqual(
      plan.steps?.map((step) => [step.action, step.target, step.requests]),
      [
        ['load List rows', 'master_contacts', 4],
        ['create Segment', 'seg_a', 1],
        ['load Segment members', 'seg_a', 2],
        ['create Segment', 'seg_b', 1],
        ['load Segment members', 'seg_b', 2],
      ],
    );
    assert.equal(
      plan.requests,
      plan.steps.reduce((sum, step) => sum + step.requests, 0),
    );

    const rendered = spawnSync(process.execPath, [CLI, 'report', result.reportPath], { encoding: 'utf8' });
    assert.equal(rendered.status, 0, rendered.stderr);
    for (const step of plan.steps)
      assert.match(
        rendered.stdout,
        new RegExp(`^  ${step.action}\\s+${step.target}\\s+(\\d+\\s+)?${step.requests}$`, 'm'),
      );
    assert.match(rendered.stdout, new RegExp(`^  ${plan.requests} requests in all$`, 'm'));
  } finally {
    await sim.close();
  }
});
