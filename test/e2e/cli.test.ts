import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, FIXTURES, assertBalanced, runCli, tempDir } from '../helpers/cli.ts';
import { LIST, ORG, members, seededList, simulator } from '../helpers/sim.ts';

const SECRET_KEY = 'k3y-Very-Distinct-0a9f';
const SECRET = 's3cr3t-Never-Print-77e1';
const AWS_SECRET = 'aws-Secret-Access-Key-Zz91';

const settings = {
  organization: ORG,
  list_api_name: LIST,
  segment_column: 'selligent_segment',
  key_fields: 'CUSTOMER_IDENTIFIER',
  create_segment_if_not_exists: true,
};

test('--help, run --help and --version are readable and exit 0', () => {
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /selligent-export run \[options\]/);
  assert.match(help.stdout, /Exit codes/);
  const runHelp = spawnSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(runHelp.status, 0);
  for (const flag of ['--settings', '--input', '--schema', '--report', '--dry-run', 'SELLIGENT_API_SECRET'])
    assert.ok(runHelp.stdout.includes(flag), flag);
  const version = spawnSync(process.execPath, [CLI, '--version'], { encoding: 'utf8' });
  assert.equal(version.status, 0);
  assert.match(version.stdout.trim(), /^\d+\.\d+\.\d+$/);
  const unknown = spawnSync(process.execPath, [CLI, 'run', '--bogus'], { encoding: 'utf8' });
  assert.equal(unknown.status, 2);
  assert.match(unknown.stderr, /bogus/);
});

test('run --help tells the truth about defaults, marks what is required, lists the required settings and shows an example', () => {
  const runHelp = spawnSync(process.execPath, [CLI, 'run', '--help'], { encoding: 'utf8' });
  assert.equal(runHelp.status, 0);
  const text = runHelp.stdout;
  assert.match(text, /Default: env\s+SELLIGENT_EXPORT_TMPDIR, else the OS temp directory/);
  assert.doesNotMatch(text, /Default: env TMPDIR/);
  assert.match(text, /Default: env SCHEMA_PATH/);
  assert.match(text, /Default: env REJECTED_PATH/);
  assert.match(text, /^Required/m);
  assert.match(text, /Required settings: organization, list_api_name, segment_column, key_fields/);
  assert.match(text, /^Example/m);
  assert.match(text, /selligent-export run --settings settings\.yml --input \S+/);
  // help run is the same text.
  const helpRun = spawnSync(process.execPath, [CLI, 'help', 'run'], { encoding: 'utf8' });
  assert.equal(helpRun.status, 0);
  assert.equal(helpRun.stdout, text);
  const helpReport = spawnSync(process.execPath, [CLI, 'help', 'report'], { encoding: 'utf8' });
  assert.equal(helpReport.status, 0);
  assert.match(helpReport.stdout, /^Usage: selligent-export report FILE \[--json\]/);
  const helpSimulate = spawnSync(process.execPath, [CLI, 'help', 'simulate'], { encoding: 'utf8' });
  assert.equal(helpSimulate.status, 0);
  assert.match(helpSimulate.stdout, /^Usage: selligent-export simulate/);
});

test('a mistyped flag or command gets the one it most likely meant; exit 2', () => {
  for (const [args, expected] of [
    [['run', '--setting', 'x.yml'], /unknown option --setting \(did you mean --settings\?\)/],
    [['run', '--inptu=data.csv'], /unknown option --inptu \(did you mean --input\?\)/],
    [['run', '--dryrun'], /unknown option --dryrun \(did you mean --dry-run\?\)/],
    [['rnu'], /unknown command "rnu" \(did you mean run\?\)/],
    [['help', 'reprot'], /no command "reprot" \(did you mean report\?\)/],
  ] as const) {
    const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8' });
    assert.equal(result.status, 2, args.join(' '));
    assert.match(result.stderr, expected);
  }
  const far = spawnSync(process.execPath, [CLI, 'run', '--colour'], { encoding: 'utf8' });
  assert.equal(far.status, 2);
  assert.match(far.stderr, /unknown option --colour\n/);
});

test('settings from RESULT_SETTINGS (JSON), result_settings (YAML) and a result_settings: document', async () => {
  const sim = await simulator({ seed: seededList(), credentials: [{ key: SECRET_KEY, secret: SECRET }] });
  try {
    const env = { SELLIGENT_BASE_URL: sim.baseUrl, SELLIGENT_API_KEY: SECRET_KEY, SELLIGENT_API_SECRET: SECRET };
    const input = join(FIXTURES, 'basic.csv');
    const json = await runCli({ input, env: { ...env, RESULT_SETTINGS: JSON.stringify(settings) } });
    assert.equal(json.code, 0, json.stdout);
    assert.equal(json.report!.settings_source, 'env RESULT_SETTINGS');
    const yamlText = Object.entries(settings)
      .map(([k, v]) => `${k}: ${v}`)
      .join('\n');
    const yaml = await runCli({ input, env: { ...env, result_settings: yamlText } });
    assert.equal(yaml.code, 0, yaml.stdout);
    assert.equal(yaml.report!.settings_source, 'env result_settings');
    const dir = tempDir();
    const doc = join(dir, 'task.dig.yml');
    writeFileSync(
      doc,
      `td>: queries/export.sql\nresult_connection: selligent\nresult_settings:\n${yamlText.replace(/^/gm, '  ')}\n`,
    );
    const fromDoc = await runCli({ input, env, args: ['--settings', doc], dir });
    assert.equal(fromDoc.code, 0, fromDoc.stdout);
    assert.equal(fromDoc.report!.settings!.segment_data_import_option, 'append');
    assert.deepEqual(fromDoc.report!.settings!.key_fields, ['CUSTOMER_IDENTIFIER']);
    assert.deepEqual(members(sim, 'active_customers'), ['C001', 'C002', 'C003']);
  } finally {
    await sim.close();
  }
});

test('a bad setting: exit 2 with a message naming the setting and the allowed values; report written', async () => {
  const result = await runCli({
    settings: { ...settings, segment_data_import_option: 'Replace', batch_rowz: 3 },
    input: join(FIXTURES, 'basic.csv'),
    env: { SELLIGENT_BASE_URL: 'https://example.invalid', SELLIGENT_API_KEY: SECRET_KEY, SELLIGENT_API_SECRET: SECRET },
  });
  assert.equal(result.code, 2);
  const summary = result.stdout.trim().split('\n').at(-1)!;
  assert.match(summary, /segment_data_import_option: expected one of append, replace, got "Replace"/);
  assert.match(summary, /; batch_rowz: unknown setting \(did you mean batch_rows\?\)/);
  assert.match(result.report!.error!.message, /batch_rowz/);
  assert.equal(result.report!.status, 'failed');
  assert.equal(result.report!.error!.code, 'SETTINGS_INVALID');
  assert.equal(result.report!.error!.stage, 'settings');
});

test('missing credentials name each variable; exit 2', async () => {
  const result = await runCli({
    settings,
    input: join(FIXTURES, 'basic.csv'),
    env: { SELLIGENT_BASE_URL: 'https://tenant.slgnt.eu' },
  });
  assert.equal(result.code, 2);
  assert.equal(result.report!.error!.code, 'CREDENTIALS_MISSING');
  assert.match(result.report!.error!.message, /SELLIGENT_API_KEY, SELLIGENT_API_SECRET/);
});

test('a secret too short to scrub safely (5000) is refused naming its variable; the report stays valid JSON', async () => {
  const result = await runCli({
    settings,
    input: join(FIXTURES, 'basic.csv'),
    env: { SELLIGENT_BASE_URL: 'https://tenant.slgnt.eu', AWS_SESSION_TOKEN: '5000' },
  });
  assert.ok(result.report, 'the report is written and parses as JSON');
  assert.equal(result.code, 2);
  assert.equal(result.report.error!.code, 'SECRET_TOO_SHORT');
  assert.match(result.report.error!.message, /AWS_SESSION_TOKEN is shorter than 6 characters/);
  assert.doesNotMatch(readFileSync(result.reportPath, 'utf8'), /\[REDACTED\]/);
});

test('plain http is refused except to a loopback host', async () => {
  const result = await runCli({
    settings,
    input: join(FIXTURES, 'basic.csv'),
    env: { SELLIGENT_BASE_URL: 'http://tenant.slgnt.eu', SELLIGENT_API_KEY: SECRET_KEY, SELLIGENT_API_SECRET: SECRET },
  });
  assert.equal(result.code, 2);
  assert.equal(result.report!.error!.code, 'BASE_URL_INVALID');
  assert.match(result.report!.error!.message, /must use https/);
});

test('missing input: exit 2; unreadable input: exit 3', async () => {
  const env = {
    SELLIGENT_BASE_URL: 'https://tenant.slgnt.eu',
    SELLIGENT_API_KEY: SECRET_KEY,
    SELLIGENT_API_SECRET: SECRET,
  };
  const none = await runCli({ settings, env });
  assert.equal(none.code, 2);
  assert.equal(none.report!.error!.code, 'INPUT_MISSING');
  const sim = await simulator({ seed: seededList(), credentials: [{ key: SECRET_KEY, secret: SECRET }] });
  try {
    const missing = await runCli({
      settings,
      input: '/nonexistent/result.csv',
      env: { ...env, SELLIGENT_BASE_URL: sim.baseUrl },
    });
    assert.equal(missing.code, 3);
    assert.equal(missing.report!.error!.code, 'INPUT_NOT_FOUND');
    assert.match(missing.report!.error!.message, /\/nonexistent\/result\.csv/);
  } finally {
    await sim.close();
  }
});

test('wrong credentials: exit 4, and no secret in any byte written', async () => {
  const sim = await simulator({ seed: seededList(), credentials: [{ key: 'other', secret: 'other-secret' }] });
  try {
    const result = await runCli({
      settings,
      input: join(FIXTURES, 'basic.csv'),
      env: {
        SELLIGENT_BASE_URL: sim.baseUrl,
        SELLIGENT_API_KEY: SECRET_KEY,
        SELLIGENT_API_SECRET: SECRET,
        AWS_SECRET_ACCESS_KEY: AWS_SECRET,
        LOG_LEVEL: 'trace',
      },
    });
    assert.equal(result.code, 4);
    assert.equal(result.report!.error!.code, 'SELLIGENT_UNAUTHORIZED');
    assertNoSecrets(result);
  } finally {
    await sim.close();
  }
});

test('a successful run at trace level writes no secret anywhere; the report carries effective settings', async () => {
  const sim = await simulator({ seed: seededList(), credentials: [{ key: SECRET_KEY, secret: SECRET }] });
  try {
    const result = await runCli({
      settings,
      input: join(FIXTURES, 'basic.csv'),
      env: {
        SELLIGENT_BASE_URL: sim.baseUrl,
        SELLIGENT_API_KEY: SECRET_KEY,
        SELLIGENT_API_SECRET: SECRET,
        AWS_SECRET_ACCESS_KEY: AWS_SECRET,
        LOG_LEVEL: 'trace',
      },
    });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assertNoSecrets(result);
    assert.equal(result.report!.settings!.deduplication, 'ImportLastMatch');
    assert.equal(result.report!.settings!.batch_rows, 5000);
    // JSON lines on stdout, the summary last.
    const lines = result.stdout.trim().split('\n');
    for (const line of lines.slice(0, -1)) JSON.parse(line);
    assert.match(lines.at(-1)!, /^selligent-export: succeeded/);
  } finally {
    await sim.close();
  }
});

test('the report goes under .digdag/tmp when that directory exists and no path is given', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, '.digdag', 'tmp'), { recursive: true });
  const result = spawnSync(process.execPath, [CLI, 'run', '--input', join(FIXTURES, 'basic.csv')], {
    cwd: dir,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, RESULT_SETTINGS: '{}' },
  });
  assert.equal(result.status, 2);
  const path = join(dir, '.digdag', 'tmp', 'selligent-export-report.json');
  assert.ok(existsSync(path));
  assert.equal(JSON.parse(readFileSync(path, 'utf8')).exit_code, 2);
  assert.match(result.stdout.trim().split('\n').at(-1)!, /report .*\.digdag\/tmp\/selligent-export-report\.json$/);
});

function assertNoSecrets(result: { stdout: string; stderr: string; reportPath: string; rejectedText: string }): void {
  const everything = result.stdout + result.stderr + readFileSync(result.reportPath, 'utf8') + result.rejectedText;
  for (const secret of [SECRET_KEY, SECRET, AWS_SECRET])
    assert.ok(!everything.includes(secret), `output contains ${secret}`);
}
