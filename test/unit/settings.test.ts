import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/errors.js';
import { parseSettings, SETTING_NAMES } from '../../src/config/settings.js';
import { REQUIRED_SETTINGS } from '../../src/config/required-settings.js';

const BASE = {
  organization: 'my_org',
  list_api_name: 'master_contacts',
  segment_column: 'selligent_segment',
  key_fields: 'customer_identifier',
};

/** The ConfigError thrown for `raw`, checked for its code and exit code. */
function failure(raw: unknown): ConfigError {
  try {
    parseSettings(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${String(error)}`);
    assert.equal(error.code, 'SETTINGS_INVALID');
    assert.equal(error.exitCode, 2);
    assert.equal(error.stage, 'settings');
    return error;
  }
  assert.fail(`settings were accepted: ${JSON.stringify(raw)}`);
}

function problems(raw: unknown): string[] {
  const error = failure(raw);
  const list = (error.details as { problems?: string[] } | undefined)?.problems;
  assert.ok(Array.isArray(list), 'details.problems lists every problem');
  for (const problem of list) assert.ok(error.message.includes(problem), 'each problem is in the message');
  return list;
}

function onlyProblem(patch: Record<string, unknown>): string {
  const list = problems({ ...BASE, ...patch });
  assert.equal(list.length, 1, `one problem expected, got ${JSON.stringify(list)}`);
  return list[0]!;
}

describe('parseSettings: defaults', () => {
  const settings = parseSettings(BASE);

  const defaults: Record<string, unknown> = {
    create_list_if_not_exists: false,
    list_data_import_option: 'InsertAndUpdate',
    create_segment_if_not_exists: false,
    segment_data_import_option: 'append',
    deduplication: 'ImportLastMatch',
    error_handling: 'ContinueOnError',
    mode: 'Sync',
    skip_invalid_records: true,
    batch_rows: 5_000,
    batch_bytes: 10 * 1024 * 1024,
    segment_batch_rows: 5_000,
    segment_batch_rows_max: null,
    list_busy_retry_seconds: 600,
    requests_per_minute: 2_500,
    request_timeout_seconds: 120,
    connect_timeout_seconds: 10,
    max_attempts: 8,
    retry_budget_seconds: 900,
    max_rejected_rows: null,
    max_rejected_ratio: null,
    max_decompressed_bytes: 100 * 1024 * 1024 * 1024,
    max_field_bytes: 1024 * 1024,
    segment_replace_strategy: 'clear_then_load',
    max_segment_removal_ratio: null,
    min_segment_members: null,
    force: false,
    sync_mode: 'full',
    state_uri: null,
    full_resync: false,
    state_sse: null,
    state_sse_kms_key_id: null,
  };

  for (const [name, value] of Object.entries(defaults)) {
    it(`${name} defaults to ${JSON.stringify(value)}`, () => {
      assert.deepEqual((settings as Record<string, unknown>)[name], value);
    });
  }

  it('covers every setting (required ones plus the defaults above)', () => {
    assert.deepEqual([...SETTING_NAMES].sort(), [...REQUIRED_SETTINGS, ...Object.keys(defaults)].sort());
  });

  it('keeps the required values, key fields in upper case', () => {
    assert.equal(settings.organization, 'my_org');
    assert.equal(settings.list_api_name, 'master_contacts');
    assert.equal(settings.segment_column, 'selligent_segment');
    assert.deepEqual(settings.key_fields, ['CUSTOMER_IDENTIFIER']);
  });

  it('accepts every documented enum value as written', () => {
    for (const [name, values] of Object.entries({
      list_data_import_option: ['InsertAndUpdate', 'OnlyInsert', 'OnlyUpdate'],
      segment_data_import_option: ['append', 'replace'],
      deduplication: ['ImportLastMatch', 'ImportFirstMatch'],
      error_handling: ['ContinueOnError', 'StopOnError'],
      mode: ['Sync', 'Stream'],
    })) {
      for (const value of values)
        assert.equal((parseSettings({ ...BASE, [name]: value }) as Record<string, unknown>)[name], value);
    }
  });

  it('accepts the boundary values of the numeric extensions', () => {
    const settings = parseSettings({
      ...BASE,
      batch_rows: 100_000,
      batch_bytes: 1024,
      segment_batch_rows: 1,
      requests_per_minute: 1,
      request_timeout_seconds: 3_600,
      connect_timeout_seconds: 0.5,
      max_attempts: 1,
      retry_budget_seconds: 86_400,
      max_rejected_rows: 0,
      max_rejected_ratio: 1,
      max_decompressed_bytes: 1,
      max_field_bytes: 64 * 1024 * 1024,
    });
    assert.equal(settings.batch_rows, 100_000);
    assert.equal(settings.batch_bytes, 1024);
    assert.equal(settings.connect_timeout_seconds, 0.5);
    assert.equal(settings.max_rejected_rows, 0);
    assert.equal(settings.max_rejected_ratio, 1);
  });

  it('accepts null for the optional thresholds', () => {
    const settings = parseSettings({ ...BASE, max_rejected_rows: null, max_rejected_ratio: null });
    assert.equal(settings.max_rejected_rows, null);
    assert.equal(settings.max_rejected_ratio, null);
  });

  it('trims the organization and api names', () => {
    const settings = parseSettings({ ...BASE, organization: ' my-org.eu_1 ', list_api_name: ' LIST_1 ' });
    assert.equal(settings.organization, 'my-org.eu_1');
    assert.equal(settings.list_api_name, 'LIST_1');
  });
});

describe('parseSettings: booleans', () => {
  for (const name of ['create_list_if_not_exists', 'create_segment_if_not_exists', 'skip_invalid_records']) {
    it(`${name}: true/false as YAML booleans and as the text "true"/"false"`, () => {
      assert.equal((parseSettings({ ...BASE, [name]: true }) as Record<string, unknown>)[name], true);
      assert.equal((parseSettings({ ...BASE, [name]: false }) as Record<string, unknown>)[name], false);
      assert.equal((parseSettings({ ...BASE, [name]: 'true' }) as Record<string, unknown>)[name], true);
      assert.equal((parseSettings({ ...BASE, [name]: 'false' }) as Record<string, unknown>)[name], false);
    });

    for (const value of ['yes', 'no', 'TRUE', 'True', '1', 1, 0, null, [true]]) {
      it(`${name}: refuses ${JSON.stringify(value)}`, () => {
        const problem = onlyProblem({ [name]: value });
        assert.ok(problem.startsWith(`${name}: expected true or false, got `), problem);
      });
    }
  }

  it('names the given text in the message', () => {
    assert.equal(
      onlyProblem({ skip_invalid_records: 'yes' }),
      'skip_invalid_records: expected true or false, got "yes"',
    );
  });
});

describe('parseSettings: enums', () => {
  it('a case-only mismatch is refused, naming the allowed values and the right spelling', () => {
    const problem = onlyProblem({ segment_data_import_option: 'Replace' });
    assert.ok(
      problem.startsWith('segment_data_import_option: expected one of append, replace, got "Replace"'),
      problem,
    );
    assert.match(problem, /case-sensitive: write replace/);
  });

  const cases: Array<[string, unknown, string, string | undefined]> = [
    ['list_data_import_option', 'insertandupdate', 'InsertAndUpdate, OnlyInsert, OnlyUpdate', 'InsertAndUpdate'],
    ['list_data_import_option', 'Upsert', 'InsertAndUpdate, OnlyInsert, OnlyUpdate', undefined],
    ['segment_data_import_option', 'APPEND', 'append, replace', 'append'],
    ['segment_data_import_option', 'merge', 'append, replace', undefined],
    ['deduplication', 'importfirstmatch', 'ImportLastMatch, ImportFirstMatch', 'ImportFirstMatch'],
    ['deduplication', 'LastMatch', 'ImportLastMatch, ImportFirstMatch', undefined],
    ['error_handling', 'stoponerror', 'ContinueOnError, StopOnError', 'StopOnError'],
    ['error_handling', 'Continue', 'ContinueOnError, StopOnError', undefined],
    ['mode', 'stream', 'Sync, Stream', 'Stream'],
    ['mode', 'Async', 'Sync, Stream', undefined],
  ];
  for (const [name, value, allowed, hint] of cases) {
    it(`${name}: refuses ${JSON.stringify(value)}`, () => {
      const problem = onlyProblem({ [name]: value });
      assert.ok(problem.startsWith(`${name}: expected one of ${allowed}, got ${JSON.stringify(value)}`), problem);
      if (hint) assert.ok(problem.includes(`write ${hint}`), problem);
      else assert.ok(!problem.includes('case-sensitive'), problem);
    });
  }

  for (const [name, value, shown] of [
    ['mode', 5, 'number 5'],
    ['deduplication', true, 'boolean true'],
    ['error_handling', null, 'null'],
    ['list_data_import_option', ['OnlyInsert'], 'a list'],
    ['segment_data_import_option', { replace: true }, 'a map'],
  ] as const) {
    it(`${name}: refuses a value of the wrong type (${shown})`, () => {
      const problem = onlyProblem({ [name]: value });
      assert.match(
        problem,
        new RegExp(`^${name}: expected one of .*, got ${shown.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`),
      );
    });
  }
});

describe('parseSettings: required settings', () => {
  it('names every missing required setting', () => {
    const list = problems({});
    assert.deepEqual(list.sort(), REQUIRED_SETTINGS.map((name) => `${name}: required setting is missing`).sort());
    assert.match(failure({}).message, /has 4 problems/);
  });

  for (const name of REQUIRED_SETTINGS) {
    it(`names ${name} alone when only it is missing`, () => {
      const raw: Record<string, unknown> = { ...BASE };
      delete raw[name];
      assert.equal(onlyProblem({ ...raw, [name]: undefined }), `${name}: required setting is missing`);
    });
  }

  for (const [raw, shown] of [
    [null, 'null'],
    [[], 'a list'],
    ['organization: x', '"organization: x"'],
    [42, 'number 42'],
    [undefined, 'nothing'],
  ] as const) {
    it(`refuses a document that is not a map (${shown})`, () => {
      const error = failure(raw);
      assert.equal(error.message, `settings: expected a map of result_settings, got ${shown}`);
    });
  }

  it('uses the given source name in messages', () => {
    assert.throws(() => parseSettings({}, 'env RESULT_SETTINGS'), /^ConfigError: env RESULT_SETTINGS has 4 problems/);
  });
});

describe('parseSettings: string settings', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['organization', '', /^organization: must not be empty, got ""$/],
    ['organization', '   ', /^organization: must not be empty/],
    [
      'organization',
      'a/b',
      /^organization: must be an organization name \(letters, digits, "_", "\." and "-"\), got "a\/b"$/,
    ],
    ['organization', 'a b', /^organization: must be an organization name/],
    ['organization', '..', /^organization: must be an organization name, not a path, got "\.\."$/],
    ['organization', '.', /^organization: must be an organization name, not a path/],
    ['organization', 5, /^organization: expected string, got number 5$/],
    ['organization', null, /^organization: expected string, got null$/],
    [
      'list_api_name',
      'master-contacts',
      /^list_api_name: must be a Selligent api_name \(letters, digits and underscores only\).*got "master-contacts"$/,
    ],
    ['list_api_name', 'x'.repeat(101), /^list_api_name: must be at most 100 characters/],
    ['list_api_name', '', /^list_api_name: must not be empty/],
    ['list_api_name', 7, /^list_api_name: expected string, got number 7$/],
    ['segment_column', '', /^segment_column: must name the input column holding each row's Segment, got ""$/],
    ['segment_column', ' ', /^segment_column: must name the input column/],
    ['segment_column', false, /^segment_column: expected string, got boolean false$/],
  ];
  for (const [name, value, pattern] of cases) {
    it(`${name}: refuses ${JSON.stringify(value).slice(0, 30)}`, () => {
      const list = problems({ ...BASE, [name]: value });
      assert.ok(
        list.some((problem) => pattern.test(problem)),
        `${JSON.stringify(list)} should match ${pattern}`,
      );
      assert.ok(
        list.every((problem) => problem.startsWith(`${name}: `)),
        'every problem names the setting',
      );
    });
  }

  it('a list name of exactly 100 characters is fine', () => {
    assert.equal(parseSettings({ ...BASE, list_api_name: 'x'.repeat(100) }).list_api_name.length, 100);
  });

  it('a long value is abbreviated in the message', () => {
    const problem = onlyProblem({ list_api_name: 'x'.repeat(300) });
    assert.ok(problem.length < 250, problem);
    assert.ok(problem.includes('..."'), problem);
  });
});

describe('parseSettings: key_fields', () => {
  it('parses comma-separated text, trimming and upper-casing', () => {
    assert.deepEqual(parseSettings({ ...BASE, key_fields: 'a, b' }).key_fields, ['A', 'B']);
    assert.deepEqual(parseSettings({ ...BASE, key_fields: ' customer_identifier ,email ' }).key_fields, [
      'CUSTOMER_IDENTIFIER',
      'EMAIL',
    ]);
    assert.deepEqual(parseSettings({ ...BASE, key_fields: 'a,,b,' }).key_fields, ['A', 'B']);
  });

  it('parses a list of names', () => {
    assert.deepEqual(parseSettings({ ...BASE, key_fields: ['customer_identifier', ' Email '] }).key_fields, [
      'CUSTOMER_IDENTIFIER',
      'EMAIL',
    ]);
  });

  it('refuses the same field twice, also when only the case differs', () => {
    assert.equal(
      onlyProblem({ key_fields: 'a,b,a' }).startsWith('key_fields: must not name the same field twice'),
      true,
    );
    assert.equal(
      onlyProblem({ key_fields: ['id', 'ID'] }).startsWith('key_fields: must not name the same field twice'),
      true,
    );
  });

  it('at most 3 key fields when the exporter may create the List: its business key takes 1 to 3 fields', () => {
    const problem = onlyProblem({ key_fields: 'a,b,c,d', create_list_if_not_exists: true });
    assert.equal(
      problem,
      'key_fields: must name at most 3 fields when create_list_if_not_exists is true: the exporter defines the List\'s business key (its unique key index) over key_fields, and Selligent\'s business key takes 1 to 3 fields, got "a,b,c,d"',
    );
    assert.match(
      onlyProblem({ key_fields: ['a', 'b', 'c', 'd'], create_list_if_not_exists: 'true' }),
      /^key_fields: must name at most 3 fields when create_list_if_not_exists is true/,
    );
    assert.deepEqual(parseSettings({ ...BASE, key_fields: 'a,b,c', create_list_if_not_exists: true }).key_fields, [
      'A',
      'B',
      'C',
    ]);
    // An existing List's key is the List's own business: any number of key fields.
    assert.deepEqual(parseSettings({ ...BASE, key_fields: 'a,b,c,d' }).key_fields, ['A', 'B', 'C', 'D']);
  });

  it('refuses the routing column as a key field (case-insensitively)', () => {
    for (const key_fields of ['selligent_segment', 'id, SELLIGENT_SEGMENT', ['Selligent_Segment']]) {
      const problem = onlyProblem({ key_fields });
      assert.ok(
        problem.startsWith('key_fields: segment_column is used for routing only and cannot also be a key field'),
        problem,
      );
    }
  });

  for (const value of ['', ' , ', []]) {
    it(`refuses no field at all (${JSON.stringify(value)})`, () => {
      assert.ok(onlyProblem({ key_fields: value }).startsWith('key_fields: must name at least one field'));
    });
  }

  for (const value of ['a-b', 'a b', 'email;phone', 'é']) {
    it(`refuses a name that is not letters, digits and underscores (${JSON.stringify(value)})`, () => {
      assert.match(
        onlyProblem({ key_fields: value }),
        /^key_fields\.0: each key field must be letters, digits and underscores only, got /,
      );
    });
  }

  for (const [value, shown] of [
    [5, 'number 5'],
    [{ a: 1 }, 'a map'],
    [true, 'boolean true'],
  ] as const) {
    it(`refuses a value of the wrong type (${shown})`, () => {
      assert.equal(
        onlyProblem({ key_fields: value }),
        `key_fields: expected a comma-separated text of field names or a list of them, got ${shown}`,
      );
    });
  }

  it('refuses a list holding something other than text', () => {
    assert.match(onlyProblem({ key_fields: ['a', 5] }), /^key_fields/);
  });
});

describe('parseSettings: numeric extensions', () => {
  const MIB = 1024 * 1024;
  const cases: Array<[string, unknown, RegExp]> = [
    ['batch_rows', 0, />=1, got number 0$/],
    ['batch_rows', 100_001, /<=100000, got number 100001$/],
    ['batch_rows', 1.5, /expected int, got number 1\.5$/],
    ['batch_rows', 'five', /expected number, got "five"$/],
    ['batch_rows', '5000 rows', /expected number, got "5000 rows"$/],
    ['batch_rows', '1.5', /expected int, got "1\.5"$/],
    ['batch_rows', '0', />=1, got "0"$/],
    ['batch_rows', null, /expected number, got null$/],
    ['batch_bytes', 1023, />=1024/],
    ['batch_bytes', 32 * MIB + 1, /<=33554432/],
    ['segment_batch_rows', 0, />=1/],
    ['segment_batch_rows', 100_001, /<=100000/],
    ['requests_per_minute', 0, />=1/],
    ['requests_per_minute', -5, />=1/],
    ['requests_per_minute', 100_001, /<=100000/],
    ['request_timeout_seconds', 0, />0/],
    ['request_timeout_seconds', 3_601, /<=3600/],
    ['request_timeout_seconds', 'thirty', /expected number, got "thirty"$/],
    ['connect_timeout_seconds', -1, />0/],
    ['connect_timeout_seconds', 601, /<=600/],
    ['max_attempts', 0, />=1/],
    ['max_attempts', 51, /<=50/],
    ['max_attempts', 2.5, /expected int/],
    ['retry_budget_seconds', 0, />0/],
    ['retry_budget_seconds', 86_401, /<=86400/],
    ['max_rejected_rows', -1, />=0/],
    ['max_rejected_rows', 0.5, /expected int/],
    ['max_rejected_ratio', 1.01, /<=1/],
    ['max_rejected_ratio', -0.1, />=0/],
    ['max_rejected_ratio', '10%', /expected number/],
    ['max_decompressed_bytes', 0, />=1/],
    ['max_field_bytes', 0, />=1/],
    ['max_field_bytes', 64 * MIB + 1, /<=67108864/],
  ];
  for (const [name, value, pattern] of cases) {
    it(`${name}: refuses ${JSON.stringify(value)}`, () => {
      const problem = onlyProblem({ [name]: value });
      assert.ok(problem.startsWith(`${name}: `), problem);
      assert.match(problem, pattern);
    });
  }

  for (const value of [Infinity, NaN]) {
    it(`batch_rows: refuses ${value}`, () => {
      assert.match(onlyProblem({ batch_rows: value }), /^batch_rows: /);
    });
  }
});

describe('parseSettings: numbers written as text (digdag interpolation)', () => {
  it('reads a numeric text as the number, as "true" is read as true', () => {
    const settings = parseSettings({
      ...BASE,
      batch_rows: '5000',
      batch_bytes: ' 2048 ',
      segment_batch_rows: '100',
      requests_per_minute: '600',
      request_timeout_seconds: '30.5',
      connect_timeout_seconds: '5',
      max_attempts: '3',
      retry_budget_seconds: '60',
      max_rejected_rows: '10',
      max_rejected_ratio: '0.25',
      max_decompressed_bytes: '1e6',
      max_field_bytes: '1024',
    });
    assert.equal(settings.batch_rows, 5000);
    assert.equal(settings.batch_bytes, 2048);
    assert.equal(settings.segment_batch_rows, 100);
    assert.equal(settings.requests_per_minute, 600);
    assert.equal(settings.request_timeout_seconds, 30.5);
    assert.equal(settings.connect_timeout_seconds, 5);
    assert.equal(settings.max_attempts, 3);
    assert.equal(settings.retry_budget_seconds, 60);
    assert.equal(settings.max_rejected_rows, 10);
    assert.equal(settings.max_rejected_ratio, 0.25);
    assert.equal(settings.max_decompressed_bytes, 1_000_000);
    assert.equal(settings.max_field_bytes, 1024);
  });
});

describe('parseSettings: unknown settings', () => {
  for (const [key, hint] of [
    ['segmnt_column', 'segment_column'],
    ['dedupliction', 'deduplication'],
    ['key_field', 'key_fields'],
    ['Mode', 'mode'],
    ['KEY_FIELDS', 'key_fields'],
    ['batch_row', 'batch_rows'],
    ['list_data_import_options', 'list_data_import_option'],
  ]) {
    it(`${key}: suggests ${hint}`, () => {
      assert.equal(onlyProblem({ [key!]: 'x' }), `${key}: unknown setting (did you mean ${hint}?)`);
    });
  }

  it('gives no hint when nothing is close', () => {
    assert.equal(onlyProblem({ zzzzzzzz: 1 }), 'zzzzzzzz: unknown setting');
    assert.equal(onlyProblem({ timezone: 'UTC' }), 'timezone: unknown setting');
  });

  it('names every unknown key', () => {
    const list = problems({ ...BASE, foo: 1, bar: 2 });
    assert.ok(list.join('\n').includes('foo: unknown setting'));
    assert.ok(list.join('\n').includes('bar: unknown setting'));
  });

  it('reports several problems at once', () => {
    const error = failure({ ...BASE, mode: 'x', batch_rows: 0, skip_invalid_records: 'yes' });
    assert.match(error.message, /^settings has 3 problems:\n {2}- /);
    assert.match(error.message, /mode: /);
    assert.match(error.message, /batch_rows: /);
    assert.match(error.message, /skip_invalid_records: /);
  });
});
