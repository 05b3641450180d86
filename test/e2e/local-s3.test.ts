/**
 * `npm run s3 -- FILE`, the local S3 recipe of the README: it serves the file, prints what an export
 * needs, and an export from the printed URI with the printed environment loads it.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { FIXTURES, ROOT, assertBalanced, runCli } from '../helpers/cli.ts';
import { LIST, ORG, members, records, selligentEnv, simulator } from '../helpers/sim.ts';

test('npm run s3 serves a file; an export from the URI and environment it prints loads it', async () => {
  const child = spawn('npm', ['run', '-s', 's3', '--', '--port', '0', join(FIXTURES, 'multi_segment.csv')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner within 60 s:\n${stdout}${stderr}`)), 60_000);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      if (stdout.includes('Ctrl-C')) {
        clearTimeout(timer);
        resolve();
      }
    });
    void exited.then(() => reject(new Error(`npm run s3 exited:\n${stdout}${stderr}`)));
  });
  const sim = await simulator();
  try {
    const env = Object.fromEntries(
      [...(/export (.+)/.exec(stdout)?.[1] ?? '').matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]),
    );
    const input = /--input (s3:\/\/\S+)/.exec(stdout)?.[1];
    assert.equal(input, 's3://exports/multi_segment.csv', stdout);
    assert.ok(env.AWS_ENDPOINT_URL_S3?.startsWith('http://127.0.0.1:'), stdout);
    const result = await runCli({
      settings: {
        organization: ORG,
        list_api_name: LIST,
        segment_column: 'selligent_segment',
        key_fields: 'CUSTOMER_IDENTIFIER',
        create_list_if_not_exists: true,
        create_segment_if_not_exists: true,
      },
      input,
      env: { ...selligentEnv(sim), ...env },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertBalanced(result.report);
    assert.equal(records(sim).length, 3);
    assert.deepEqual(members(sim, 'vip_customers'), ['C101']);
  } finally {
    await sim.close();
    child.kill('SIGINT');
  }
  assert.equal(await exited, 0, stderr);
});
