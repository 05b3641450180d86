import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/errors.js';
import { loadSettings, settingsFromText } from '../../src/config/load.js';

const dir = mkdtempSync(join(tmpdir(), 'settings-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string | Buffer): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const YAML = `# result_settings
organization: my_org
list_api_name: master_contacts
segment_column: selligent_segment
key_fields: customer_identifier, email
segment_data_import_option: replace
skip_invalid_records: false
`;

const MAP = {
  organization: 'json_org',
  list_api_name: 'json_list',
  segment_column: 'seg',
  key_fields: ['id'],
  mode: 'Stream',
};
const JSON_TEXT = JSON.stringify(MAP);

async function configError(promise: Promise<unknown> | (() => unknown), code: string): Promise<ConfigError> {
  try {
    if (typeof promise === 'function') promise();
    else await promise;
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 2);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('settingsFromText', () => {
  it('reads a YAML map', () => {
    const settings = settingsFromText(YAML, 'test');
    assert.equal(settings.organization, 'my_org');
    assert.deepEqual(settings.key_fields, ['CUSTOMER_IDENTIFIER', 'EMAIL']);
    assert.equal(settings.segment_data_import_option, 'replace');
    assert.equal(settings.skip_invalid_records, false);
  });

  it('reads a JSON map', () => {
    const settings = settingsFromText(JSON_TEXT, 'test');
    assert.equal(settings.organization, 'json_org');
    assert.equal(settings.mode, 'Stream');
    assert.deepEqual(settings.key_fields, ['ID']);
  });

  it('reads a document with a top-level result_settings key', () => {
    const text = `result_settings:\n${YAML.split('\n')
      .map((line) => `  ${line}`)
      .join('\n')}`;
    assert.equal(settingsFromText(text, 'test').list_api_name, 'master_contacts');
  });

  it('reads result_settings beside other digdag keys (td>, result_connection)', () => {
    const text = `td>: queries/selligent_export.sql
database: sample_datasets
result_connection: selligent
result_settings:
  organization: my_org
  list_api_name: master_contacts
  create_list_if_not_exists: false
  segment_column: selligent_segment
  key_fields: CUSTOMER_IDENTIFIER
  deduplication: ImportFirstMatch
`;
    const settings = settingsFromText(text, 'task.dig');
    assert.equal(settings.deduplication, 'ImportFirstMatch');
    assert.deepEqual(settings.key_fields, ['CUSTOMER_IDENTIFIER']);
  });

  it('reads result_settings given as JSON text inside the document', () => {
    const text = JSON.stringify({ result_settings: JSON_TEXT });
    assert.equal(settingsFromText(text, 'env').organization, 'json_org');
  });

  it('names result_settings as the source of problems inside it', () => {
    assert.throws(
      () => settingsFromText('td>: q.sql\nresult_settings:\n  organization: o\n', 'task.dig'),
      (error: Error) => {
        assert.match(error.message, /^task\.dig result_settings has 3 problems/);
        return true;
      },
    );
  });

  it('refuses a result_settings key that is not a map', async () => {
    const error = await configError(() => settingsFromText('result_settings: null\n', 'task.dig'), 'SETTINGS_INVALID');
    assert.match(error.message, /task\.dig result_settings: expected a map of result_settings, got null/);
  });

  it('refuses text that is not YAML, naming the line', async () => {
    const error = await configError(
      () => settingsFromText('organization: o\nlist_api_name: L\n  bad: indent\n', 'my.yml'),
      'SETTINGS_INVALID',
    );
    assert.match(error.message, /^my\.yml: not valid YAML or JSON/);
  });

  it('names the line and column of a YAML syntax error', async () => {
    const error = await configError(
      () => settingsFromText('organization: o\nlist_api_name: L\n  bad: indent\n', 'my.yml'),
      'SETTINGS_INVALID',
    );
    assert.match(
      error.message,
      /^my\.yml: not valid YAML or JSON at line 2, column \d+: Nested mappings are not allowed in compact mappings$/,
    );
  });

  it('names the line of a JSON syntax error', async () => {
    const error = await configError(
      () => settingsFromText('{"organization": "o",\n "list_api_name": "L",\n "x": [1, 2\n}', 'env'),
      'SETTINGS_INVALID',
    );
    assert.match(error.message, /^env: not valid YAML or JSON at line \d+, column \d+: [^\n]*[^:]$/);
    assert.equal(error.message.match(/at line/g)?.length, 1, 'the position is given once');
  });

  it('refuses duplicate keys', async () => {
    const error = await configError(
      () => settingsFromText('organization: a\norganization: b\n', 'dup.yml'),
      'SETTINGS_INVALID',
    );
    assert.match(error.message, /unique/i);
  });

  it('refuses a "billion laughs" alias bomb quickly', async () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 12; i++) {
      const name = String.fromCharCode(97 + i);
      const previous = String.fromCharCode(96 + i);
      lines.push(`${name}: &${name} [${Array(9).fill(`*${previous}`).join(',')}]`);
    }
    const started = performance.now();
    const error = await configError(() => settingsFromText(lines.join('\n'), 'bomb.yml'), 'SETTINGS_INVALID');
    assert.ok(performance.now() - started < 500, 'refused within 500 ms');
    assert.match(error.message, /^bomb\.yml: /);
  });

  it('allows a few aliases (ordinary YAML anchors)', () => {
    const text =
      'base: &org my_org\nresult_settings:\n  organization: *org\n  list_api_name: L\n  segment_column: s\n  key_fields: id\n';
    assert.equal(settingsFromText(text, 'anchors.yml').organization, 'my_org');
  });

  it('resolves YAML merge keys (<<: *defaults)', () => {
    const text = [
      'defaults: &defaults',
      '  organization: my_org',
      '  segment_column: seg',
      '  key_fields: id',
      '  batch_rows: 1000',
      'result_settings:',
      '  <<: *defaults',
      '  list_api_name: L',
      '  batch_rows: "2000"',
      '',
    ].join('\n');
    const settings = settingsFromText(text, 'merge.yml');
    assert.equal(settings.organization, 'my_org');
    assert.equal(settings.segment_column, 'seg');
    assert.deepEqual(settings.key_fields, ['ID']);
    assert.equal(settings.list_api_name, 'L');
    assert.equal(settings.batch_rows, 2000, 'a key written beside the merge wins over the merged one');
  });

  it('refuses text over 1 MiB', async () => {
    const error = await configError(
      () => settingsFromText(`# ${'x'.repeat(1024 * 1024)}\n${YAML}`, 'huge'),
      'SETTINGS_INVALID',
    );
    assert.match(error.message, /larger than 1 MiB/);
  });

  for (const [text, shown] of [
    ['', 'null'],
    ['- a\n- b\n', 'a list'],
    ['just text', '"just text"'],
  ]) {
    it(`refuses a document that is not a map (${shown})`, async () => {
      const error = await configError(() => settingsFromText(text!, 'src'), 'SETTINGS_INVALID');
      assert.equal(error.message, `src: expected a map of result_settings, got ${shown}`);
    });
  }
});

describe('loadSettings', () => {
  it('reads a YAML file given with --settings', async () => {
    const path = file('settings.yml', YAML);
    const source = await loadSettings(path, {});
    assert.equal(source.from, path);
    assert.equal(source.settings.organization, 'my_org');
  });

  it('reads a JSON file given with --settings', async () => {
    const path = file('settings.json', JSON_TEXT);
    const source = await loadSettings(path, {});
    assert.equal(source.settings.list_api_name, 'json_list');
  });

  it('reads a digdag task file with result_settings beside td>', async () => {
    const path = file(
      'task.dig',
      'td>: q.sql\nresult_connection: selligent\nresult_settings:\n  organization: dig_org\n  list_api_name: L\n  segment_column: s\n  key_fields: id\n',
    );
    assert.equal((await loadSettings(path, {})).settings.organization, 'dig_org');
  });

  it('reads the sample settings files', async () => {
    const fixtures = new URL('../fixtures/', import.meta.url);
    const basic = await loadSettings(fileURLToPath(new URL('basic.settings.yml', fixtures)), {});
    assert.equal(basic.settings.list_api_name, 'master_contacts');
    assert.equal(basic.settings.create_segment_if_not_exists, true);
    assert.deepEqual(basic.settings.key_fields, ['CUSTOMER_IDENTIFIER']);
    const multi = await loadSettings(fileURLToPath(new URL('multi_segment.settings.yml', fixtures)), {});
    assert.equal(multi.settings.deduplication, 'ImportLastMatch');
  });

  it('reads the result_settings block of the documented td> task unchanged', async () => {
    const dig = readFileSync(fileURLToPath(new URL('../fixtures/td-result-export.dig', import.meta.url)), 'utf8');
    const block = dig.slice(dig.indexOf('  result_settings:'));
    const text = block
      .split('\n')
      .map((line) => line.replace(/^ {2}/, ''))
      .join('\n');
    const settings = settingsFromText(text, 'td-result-export.dig');
    assert.equal(settings.organization, 'my_org');
    assert.equal(settings.mode, 'Sync');
    assert.equal(settings.skip_invalid_records, true);
  });

  it('reads RESULT_SETTINGS as JSON', async () => {
    const source = await loadSettings(undefined, { RESULT_SETTINGS: JSON_TEXT });
    assert.equal(source.from, 'env RESULT_SETTINGS');
    assert.equal(source.settings.organization, 'json_org');
  });

  it('reads RESULT_SETTINGS as YAML', async () => {
    const source = await loadSettings(undefined, { RESULT_SETTINGS: YAML });
    assert.equal(source.settings.organization, 'my_org');
  });

  it('reads result_settings (digdag passes a map parameter under its own name) as JSON and as YAML', async () => {
    const json = await loadSettings(undefined, { result_settings: JSON_TEXT });
    assert.equal(json.from, 'env result_settings');
    assert.equal(json.settings.organization, 'json_org');
    const yaml = await loadSettings(undefined, { result_settings: YAML });
    assert.equal(yaml.settings.organization, 'my_org');
  });

  it('prefers RESULT_SETTINGS over result_settings, and skips a blank one', async () => {
    assert.equal(
      (await loadSettings(undefined, { RESULT_SETTINGS: YAML, result_settings: JSON_TEXT })).settings.organization,
      'my_org',
    );
    assert.equal(
      (await loadSettings(undefined, { RESULT_SETTINGS: '  \n', result_settings: JSON_TEXT })).settings.organization,
      'json_org',
    );
  });

  it('the --settings file wins over the environment', async () => {
    const path = file('wins.yml', YAML);
    const source = await loadSettings(path, { RESULT_SETTINGS: JSON_TEXT, result_settings: JSON_TEXT });
    assert.equal(source.from, path);
    assert.equal(source.settings.organization, 'my_org');
  });

  it('the file wins even when it is invalid (the environment is not a fallback)', async () => {
    const path = file('invalid.yml', 'organization: o\n');
    const error = await configError(loadSettings(path, { RESULT_SETTINGS: JSON_TEXT }), 'SETTINGS_INVALID');
    assert.ok(error.message.startsWith(path), error.message);
  });

  it('with no settings at all: SETTINGS_MISSING', async () => {
    const error = await configError(loadSettings(undefined, {}), 'SETTINGS_MISSING');
    assert.match(error.message, /--settings FILE/);
    assert.match(error.message, /RESULT_SETTINGS/);
    await configError(loadSettings(undefined, { RESULT_SETTINGS: '', result_settings: ' ' }), 'SETTINGS_MISSING');
    await configError(loadSettings('', {}), 'SETTINGS_MISSING');
  });

  it('a missing file: SETTINGS_UNREADABLE naming the path and the reason', async () => {
    const path = join(dir, 'nope.yml');
    const error = await configError(loadSettings(path, { RESULT_SETTINGS: JSON_TEXT }), 'SETTINGS_UNREADABLE');
    assert.equal(error.message, `--settings ${path}: cannot read the file (ENOENT)`);
  });

  it('a directory: SETTINGS_UNREADABLE', async () => {
    const error = await configError(loadSettings(dir, {}), 'SETTINGS_UNREADABLE');
    assert.match(error.message, /EISDIR/);
  });

  it('a file without read permission: SETTINGS_UNREADABLE', async (t) => {
    if (process.getuid?.() === 0) {
      t.skip('root reads any file');
      return;
    }
    const path = file('locked.yml', YAML);
    chmodSync(path, 0o000);
    const error = await configError(loadSettings(path, {}), 'SETTINGS_UNREADABLE');
    assert.match(error.message, /EACCES/);
  });

  it('a path through a regular file: SETTINGS_UNREADABLE', async () => {
    const path = join(file('plain.txt', 'x'), 'settings.yml');
    const error = await configError(loadSettings(path, {}), 'SETTINGS_UNREADABLE');
    assert.match(error.message, /ENOTDIR/);
  });

  it('a file over 1 MiB is refused', async () => {
    const path = file('big.yml', `${YAML}# ${'x'.repeat(1024 * 1024)}\n`);
    const error = await configError(loadSettings(path, {}), 'SETTINGS_INVALID');
    assert.match(error.message, /larger than 1 MiB/);
  });

  it('a file that is not YAML is refused with its path in the message', async () => {
    const path = file('broken.yml', 'organization: [unclosed\nlist_api_name: L\n');
    const error = await configError(loadSettings(path, {}), 'SETTINGS_INVALID');
    assert.ok(error.message.startsWith(`${path}: not valid YAML or JSON`), error.message);
  });

  it('an environment value that is not YAML names the variable', async () => {
    const error = await configError(
      loadSettings(undefined, { RESULT_SETTINGS: '{"organization": ' }),
      'SETTINGS_INVALID',
    );
    assert.match(error.message, /^RESULT_SETTINGS: not valid YAML or JSON/);
  });
});
