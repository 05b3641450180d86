/**
 * workflows/scripts/selligent_export.sh, the retry wrapper the workflows run instead of digdag's
 * `_retry`: it must retry exit 5 only. A stand-in `selligent-export` on PATH exits with the codes
 * given to it, one per attempt, and records each attempt's arguments.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const WRAPPER = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'workflows',
  'scripts',
  'selligent_export.sh',
);

function wrapper(codes: number[], limit = 3) {
  const dir = mkdtempSync(join(tmpdir(), 'sx-retry-'));
  writeFileSync(join(dir, 'codes'), codes.join('\n') + '\n');
  const fake = join(dir, 'selligent-export');
  writeFileSync(
    fake,
    `#!/bin/sh\necho "$*" >> "${dir}/attempts"\ncode=$(head -n 1 "${dir}/codes")\nsed -i 1d "${dir}/codes"\nexit "\${code:-0}"\n`,
  );
  chmodSync(fake, 0o755);
  const result = spawnSync('sh', [WRAPPER, '--input', 'data/x.csv'], {
    encoding: 'utf8',
    env: { PATH: `${dir}:${process.env.PATH}`, EXPORT_RETRY_LIMIT: String(limit), EXPORT_RETRY_INTERVAL: '0' },
  });
  const attempts = readFileSync(join(dir, 'attempts'), 'utf8').trim().split('\n');
  return { code: result.status, stderr: result.stderr, attempts };
}

test('exit 5 is retried, and the attempt that succeeds ends the task with exit 0', () => {
  const run = wrapper([5, 5, 0]);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(run.attempts, ['run --input data/x.csv', 'run --input data/x.csv', 'run --input data/x.csv']);
  assert.match(run.stderr, /exit 5 \(transient\); attempt 2 of 4/);
});

test('exit 5 every time: EXPORT_RETRY_LIMIT more attempts, then exit 5', () => {
  const run = wrapper([5, 5, 5, 5, 5], 2);
  assert.equal(run.code, 5);
  assert.equal(run.attempts.length, 3);
  assert.match(run.stderr, /still failing after 3 attempt/);
});

for (const code of [1, 2, 3, 4, 6]) {
  test(`exit ${code} is not retried: one attempt, the same exit code`, () => {
    const run = wrapper([code, 0]);
    assert.equal(run.code, code);
    assert.equal(run.attempts.length, 1);
    assert.match(run.stderr, new RegExp(`exit ${code}.*not retried`));
  });
}
