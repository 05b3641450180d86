import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// .ci/run counts each step's results from node:test's closing lines with .ci/count.sh. The suite runs under
// Node 20 and Node 24, whose default reporters differ when the output is not a terminal (TAP on 20,
// spec from 23 on): the count must be right for both.
const COUNT = fileURLToPath(new URL('../../.ci/count.sh', import.meta.url));

const count = (output: string): string => {
  const file = join(dir, `out-${Math.random().toString(36).slice(2)}.txt`);
  writeFileSync(file, output);
  const result = spawnSync('bash', [COUNT, file], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout.trim();
};

/** Runs a small node:test file with this Node (2 pass, 1 fail, 1 skipped) and returns its output. */
const runSample = (args: string[], extraEnv: NodeJS.ProcessEnv = {}): string => {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extraEnv };
  // Without this the child's runner would report to this one instead of printing.
  delete env.NODE_TEST_CONTEXT;
  if (!('FORCE_COLOR' in extraEnv)) delete env.FORCE_COLOR;
  const result = spawnSync(process.execPath, ['--test', ...args, sample], { cwd: dir, env, encoding: 'utf8' });
  assert.equal(result.status, 1, `the sample run has one failing test:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
};

/** A run's closing block as node:test prints it, after `mark` ("#" for TAP, "ℹ" for spec). */
const closing = (mark: string, pass: number, fail: number, cancelled = 0): string =>
  [
    `tests ${pass + fail + cancelled}`,
    'suites 1',
    `pass ${pass}`,
    `fail ${fail}`,
    `cancelled ${cancelled}`,
    'skipped 0',
    'todo 0',
    'duration_ms 12.5',
  ]
    .map((line) => `${mark} ${line}\n`)
    .join('');

let dir: string;
let sample: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'ci-count-'));
  sample = join(dir, 'sample.test.mjs');
  writeFileSync(
    sample,
    [
      "import { describe, it } from 'node:test';",
      "describe('group', () => {",
      "  it('one', () => {});",
      "  it('two', () => {});",
      "  it('three', () => { throw new Error('expected failure'); });",
      "  it('four', { skip: true }, () => {});",
      '});',
      '',
    ].join('\n'),
  );
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe('.ci/count.sh', () => {
  it(`counts a real run with this Node's default reporter (${process.version})`, () => {
    assert.equal(count(runSample([])), '2 1');
  });

  it('counts the TAP and the spec reporter alike', () => {
    assert.equal(count(runSample(['--test-reporter=tap'])), '2 1');
    assert.equal(count(runSample(['--test-reporter=spec'])), '2 1');
  });

  it('ignores colour codes', () => {
    const coloured = runSample(['--test-reporter=spec'], { FORCE_COLOR: '1' });
    // The ANSI escape is what is looked for.
    // eslint-disable-next-line no-control-regex
    assert.match(coloured, /\x1b\[/);
    assert.equal(count(coloured), '2 1');
  });

  it('takes whole closing blocks only: indented subtest counts and other text are not totals', () => {
    assert.equal(count(`    # pass 9\n# pass 7\n${closing('#', 3, 1)}`), '3 1');
    assert.equal(count(`ℹ pass 3 of them\n${closing('ℹ', 4, 0)}ℹ pass 5\n`), '4 0');
  });

  it('adds up every run of a step (the Ceph RGW step runs two suites)', () => {
    assert.equal(count(`${closing('#', 88, 0)}more output\n${closing('#', 12, 1)}`), '100 1');
    assert.equal(count(runSample(['--test-reporter=tap']) + runSample(['--test-reporter=spec'])), '4 2');
  });

  it('counts cancelled tests as failed', () => {
    assert.equal(count(closing('#', 3, 1, 2)), '3 3');
    assert.equal(count(closing('ℹ', 3, 0, 1)), '3 1');
  });

  it('prints nothing for output without closing lines', () => {
    assert.equal(count('building the image\nsmoke: all checks passed\n'), '');
  });
});
