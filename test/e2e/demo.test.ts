/**
 * `npm run demo` (and `-- --s3`) as a person runs it: every row of the input it prints can be found in
 * its output with its fate (loaded into the List, merged away as a duplicate, skipped by validation,
 * rejected by Selligent), and each kind of fate occurs.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { ROOT } from '../helpers/cli.ts';

interface DemoRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function runDemo(args: string[]): Promise<DemoRun> {
  const child = spawn('npm', ['run', '-s', 'demo', '--', ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  return new Promise((resolve) =>
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

/** The text of the section `== TITLE ...` up to the next section. */
function section(output: string, title: string): string {
  const start = output.indexOf(`\n== ${title}`);
  assert.ok(start >= 0, `no section "${title}" in:\n${output}`);
  const end = output.indexOf('\n== ', start + 1);
  return output.slice(start, end < 0 ? undefined : end);
}

type Fate = 'loaded' | 'merged' | 'skipped' | 'rejected';

/** Each input row's fate as the output shows it; fails on a row the output does not account for. */
function fates(output: string): Map<number, Fate> {
  const input = section(output, 'Input');
  const header = /header\s+(\S+)/.exec(input)?.[1]?.split(',') ?? [];
  const rows = [...input.matchAll(/^\s+row\s+(\d+)\s+(\S.*)$/gm)].map((m) => {
    const values = (m[2] ?? '').split(',');
    return { row: Number(m[1]), record: Object.fromEntries(header.map((name, i) => [name, values[i] ?? ''])) };
  });
  assert.ok(rows.length >= 5, `the input rows are printed:\n${input}`);

  const rowsFile = section(output, 'Rows file');
  const listed = new Map<number, { stage: string; code: string; winner?: number }>();
  for (const line of rowsFile.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    const entry = JSON.parse(line) as { row: number; stage: string; code: string; winner?: number };
    assert.ok(!listed.has(entry.row), `row ${entry.row} is listed once:\n${rowsFile}`);
    listed.set(entry.row, entry);
  }
  const state = section(output, 'Simulator state');
  const records = [...state.matchAll(/^\s+ID \d+\s+(.*)$/gm)].map((m) =>
    Object.fromEntries((m[1] ?? '').split(' ').map((pair) => pair.split('=') as [string, string])),
  );
  const segments = new Map(
    [...state.matchAll(/^Segment (\S+): \d+ member\(s\)(?:: (.*))?$/gm)].map((m) => [m[1], (m[2] ?? '').split(', ')]),
  );
  const accounting = section(output, 'Report');
  const merged = Number(/merged duplicates\s+(\d+)/.exec(accounting)?.[1]);

  const result = new Map<number, Fate>();
  for (const { row, record } of rows) {
    const entry = listed.get(row);
    const key = record.customer_identifier ?? '';
    if (entry) {
      if (entry.stage === 'deduplicate') {
        // Merged away: the rows file names the row that won, which has the same key.
        const winner = rows.find((other) => other.row === entry.winner);
        assert.ok(winner && winner.row !== row, `row ${row}: merged into row ${entry.winner}, an input row`);
        assert.equal(winner.record.customer_identifier, key, `row ${row} and its winner share the key`);
        result.set(row, 'merged');
      } else result.set(row, entry.stage === 'validate' ? 'skipped' : 'rejected');
      continue;
    }
    const stored = records.find((r) => r.CUSTOMER_IDENTIFIER === key);
    assert.ok(stored, `row ${row} (key ${key}) is neither in the rows file nor in the List:\n${output}`);
    assert.equal(stored.EMAIL, record.email, `row ${row} is not in the rows file, so it is the one loaded for ${key}`);
    result.set(row, 'loaded');
    const members = segments.get(record.selligent_segment ?? '');
    assert.ok(
      members?.includes(key),
      `row ${row}: ${key} is a member of Segment ${record.selligent_segment}:\n${state}`,
    );
  }
  const mergedRows = [...result.values()].filter((fate) => fate === 'merged').length;
  assert.equal(merged, mergedRows, `the report's merged duplicates count the rows merged away:\n${accounting}`);
  return result;
}

function assertEveryFate(run: DemoRun): void {
  assert.equal(run.code, 0, run.stderr + run.stdout);
  const output = run.stdout;
  // The log at info, the report's summary and accounting, and the rows file's path.
  assert.match(section(output, 'Log'), /INFO.*export starting/);
  assert.match(section(output, 'Report'), /^selligent-export: partial - 7 rows read/m);
  assert.match(section(output, 'Report'), /^Rows \(each input row is counted once\)$/m);
  const path = /^(\/\S+\.jsonl) \(\d+ line\(s\)\):$/m.exec(section(output, 'Rows file'))?.[1];
  assert.ok(path && existsSync(path), `the rows file's path is printed and the file is there:\n${output}`);
  assert.match(section(output, 'Report'), new RegExp(`^Rows file: \\d+ rows in ${path}$`, 'm'));
  const found = fates(output);
  assert.deepEqual(
    new Set(found.values()),
    new Set(['loaded', 'merged', 'skipped', 'rejected']),
    JSON.stringify([...found]),
  );
}

describe('npm run demo', () => {
  test('every input row is in the output with its fate: loaded, merged, skipped or rejected', async () => {
    assertEveryFate(await runDemo([]));
  });

  test('--s3: the same through a local S3 server the demo starts and stops', async () => {
    const run = await runDemo(['--s3']);
    assert.match(run.stdout, /^== Input: s3:\/\/demo-results\//m);
    assertEveryFate(run);
  });
});
