import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, seededList, selligentEnv, simulator, type SimulatorHandle } from '../helpers/sim.ts';

const HEADER = 'selligent_segment,customer_identifier,email,first_name,nickname';

function reportCommand(...args: string[]) {
  return spawnSync(process.execPath, [CLI, 'report', ...args], { encoding: 'utf8' });
}

async function withSim<T>(
  work: (sim: SimulatorHandle, dir: string) => Promise<T>,
  seed = seededList({ fields: [{ name: 'NICKNAME', data_type: 'Text', length: 5 }] }),
): Promise<T> {
  const sim = await simulator({ seed });
  try {
    return await work(sim, tempDir());
  } finally {
    await sim.close();
  }
}

/** The line of a rendered key/value block, spaces squeezed, so the test does not depend on alignment. */
function line(text: string, start: string): string {
  const found = text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .find((l) => l.startsWith(start));
  assert.ok(found !== undefined, `no line starting with ${JSON.stringify(start)} in:\n${text}`);
  return found;
}

test('report FILE: a succeeded run, with a skipped row and a merged duplicate, read by a person', () =>
  withSim(async (sim, dir) => {
    const input = writeInput(
      dir,
      'input.csv',
      [
        HEADER,
        'seg_a,C1,a@example.com,Ann,ok',
        'seg_b,C2,b@example.com,Bo,ok',
        'seg_a,,x@example.com,X,ok',
        'seg_b,C2,b2@example.com,Bo,ok',
      ].join('\n') + '\n',
    );
    const run = await runCli({ settings: BASE_SETTINGS, input, env: selligentEnv(sim) });
    assert.equal(run.code, 0, run.stdout);
    assertBalanced(run.report);
    assert.equal(run.report!.status, 'succeeded');
    const shown = reportCommand(run.reportPath);
    assert.equal(shown.status, 0, shown.stderr);
    const text = shown.stdout;
    assert.equal(line(text, 'status'), 'status succeeded (exit 0)');
    assert.equal(line(text, 'input rows'), 'input rows 4');
    assert.equal(line(text, 'loaded'), 'loaded 2');
    assert.equal(line(text, 'skipped (invalid)'), 'skipped (invalid) 1');
    assert.equal(line(text, 'merged duplicates'), 'merged duplicates 1');
    assert.equal(line(text, 'rejected by Selligent'), 'rejected by Selligent 0');
    assert.equal(line(text, 'key_blank'), 'key_blank 1');
    assert.match(line(text, 'List master_contacts'), /existed/);
    // The Segment table: a header and one line per Segment.
    assert.equal(line(text, 'Segment status'), 'Segment status rows loaded failed not found requests created cleared');
    assert.equal(line(text, 'seg_a '), 'seg_a succeeded 1 1 0 0 1 yes no');
    assert.equal(line(text, 'seg_b '), 'seg_b succeeded 1 1 0 0 1 yes no');
    assert.match(line(text, 'total'), /^total \d+\.\d s$/);
    assert.equal(line(text, 'requests'), `requests ${run.report!.http.requests}`);
    assert.equal(line(text, 'retries'), 'retries 0');
    // The skipped row and the row merged away.
    assert.match(text, /Rows file: 2 rows in .*report\.rejected\.jsonl/);
    assert.equal(line(text, 'validate '), 'validate key_blank 1');
    assert.equal(line(text, 'deduplicate '), 'deduplicate MergedDuplicate 1');
    assert.doesNotMatch(text, /^error/m);
  }));

test('report FILE: a partial run shows the rejection, the Segment that lost a member, and the rejected-rows file', () =>
  withSim(async (sim, dir) => {
    const input = writeInput(
      dir,
      'input.csv',
      [
        HEADER,
        'seg_a,C1,a@example.com,A,ok',
        'seg_a,C2,b@example.com,B,far too long',
        'seg_a,C3,c@example.com,C,fine',
      ].join('\n') + '\n',
    );
    const run = await runCli({ settings: BASE_SETTINGS, input, env: selligentEnv(sim) });
    assert.equal(run.code, 0, run.stdout);
    assert.equal(run.report!.status, 'partial');
    const text = reportCommand(run.reportPath).stdout;
    assert.equal(line(text, 'status'), 'status partial (exit 0)');
    assert.equal(line(text, 'rejected by Selligent'), 'rejected by Selligent 1');
    assert.equal(line(text, 'loaded'), 'loaded 2');
    assert.equal(line(text, 'seg_a '), 'seg_a succeeded 3 2 1 0 1 yes no');
    assert.match(text, /failed includes members not loaded because their List row was rejected/);
    assert.match(line(text, 'Rows file'), /^Rows file: 1 row in /);
    // Why Selligent rejected it, from the rows file beside the report.
    assert.equal(line(text, 'list-load '), 'list-load MaxStringLengthExceeded 1');
  }));

test('report FILE: a failed run names the error, its stage and its exit code', () =>
  withSim(async (sim, dir) => {
    const run = await runCli({
      settings: { ...BASE_SETTINGS, list_api_name: 'no_such_list' },
      input: writeInput(dir, 'input.csv', `${HEADER}\nseg_a,C1,a@example.com,A,ok\n`),
      env: selligentEnv(sim),
    });
    assert.equal(run.code, 2, run.stdout);
    const text = reportCommand(run.reportPath).stdout;
    assert.equal(line(text, 'status'), 'status failed (exit 2)');
    assert.equal(line(text, 'error'), `error ${run.report!.error!.code} in stage preflight`);
    assert.match(text, /no_such_list/);
    assert.doesNotMatch(text, /^Segments/m);
  }));

test('report --json passes a valid report through, and refuses an invalid one naming each problem', () =>
  withSim(async (sim, dir) => {
    const run = await runCli({
      settings: BASE_SETTINGS,
      input: writeInput(dir, 'input.csv', `${HEADER}\nseg_a,C1,a@example.com,A,ok\n`),
      env: selligentEnv(sim),
    });
    assert.equal(run.code, 0, run.stdout);
    const valid = reportCommand(run.reportPath, '--json');
    assert.equal(valid.status, 0, valid.stderr);
    assert.deepEqual(JSON.parse(valid.stdout), JSON.parse(readFileSync(run.reportPath, 'utf8')));

    const broken = JSON.parse(readFileSync(run.reportPath, 'utf8')) as Record<string, unknown> & {
      accounting: Record<string, unknown>;
      segments: Array<Record<string, unknown>>;
    };
    broken.status = 'done';
    delete broken.accounting.loaded;
    broken.segments[0]!.colour = 'blue';
    const brokenPath = join(dir, 'broken.json');
    writeFileSync(brokenPath, JSON.stringify(broken));
    const refused = reportCommand(brokenPath, '--json');
    assert.equal(refused.status, 3);
    assert.equal(refused.stdout, '');
    assert.match(refused.stderr, /broken\.json is not a valid run report/);
    assert.match(refused.stderr, /\/status: must be one of "succeeded", "partial", "failed"/);
    assert.match(refused.stderr, /\/accounting: missing field "loaded"/);
    assert.match(refused.stderr, /\/segments\/0: unknown field "colour"/);
    // Without --json the same check comes first: nothing half-rendered.
    assert.equal(reportCommand(brokenPath).status, 3);

    writeFileSync(brokenPath, '{"status":');
    const notJson = reportCommand(brokenPath);
    assert.equal(notJson.status, 3);
    assert.match(notJson.stderr, /broken\.json is not JSON/);
    const missing = reportCommand(join(dir, 'nothing-here.json'));
    assert.equal(missing.status, 2);
    assert.match(missing.stderr, /cannot read .*nothing-here\.json/);
  }));
