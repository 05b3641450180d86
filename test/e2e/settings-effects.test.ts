import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  ORG,
  members,
  record,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';

const base = BASE_SETTINGS;

const HEADER = 'selligent_segment,customer_identifier,email,first_name';

async function withSim<T>(
  seed: Parameters<typeof seededList>[0] | null,
  work: (sim: SimulatorHandle, dir: string) => Promise<T>,
  options = {},
): Promise<T> {
  const sim = await simulator({ ...(seed === null ? {} : { seed: seededList(seed) }), ...options });
  try {
    return await work(sim, tempDir());
  } finally {
    await sim.close();
  }
}

function csv(dir: string, rows: string[], header = HEADER): string {
  return writeInput(dir, 'input.csv', [header, ...rows].join('\n') + '\n');
}

test('list_data_import_option InsertAndUpdate inserts new keys and updates existing ones', () =>
  withSim({ records: [{ CUSTOMER_IDENTIFIER: 'C1', EMAIL: 'old@example.com' }] }, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,new@example.com,Ann', 'seg_a,C2,b@example.com,Bo']);
    const result = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.equal(record(sim, 'C1')!.EMAIL, 'new@example.com');
    assert.equal(records(sim).length, 2);
    assert.equal(result.report!.list!.inserted, 1);
    assert.equal(result.report!.list!.updated, 1);
  }));

test('list_data_import_option OnlyInsert leaves existing records alone and counts them as not applied', () =>
  withSim({ records: [{ CUSTOMER_IDENTIFIER: 'C1', EMAIL: 'old@example.com' }] }, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,new@example.com,Ann', 'seg_a,C2,b@example.com,Bo']);
    const result = await runCli({
      settings: { ...base, list_data_import_option: 'OnlyInsert' },
      input,
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.equal(record(sim, 'C1')!.EMAIL, 'old@example.com');
    assert.equal(records(sim).length, 2);
    assert.equal(result.report!.accounting!.loaded, 1);
    assert.equal(result.report!.accounting!.not_applied_by_reason.already_exists, 1);
    // The existing record is still routed to its Segment.
    assert.deepEqual(members(sim, 'seg_a'), ['C1', 'C2']);
  }));

test('list_data_import_option OnlyUpdate never inserts and counts unknown keys as not found', () =>
  withSim({ records: [{ CUSTOMER_IDENTIFIER: 'C1', EMAIL: 'old@example.com' }] }, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,new@example.com,Ann', 'seg_a,C2,b@example.com,Bo']);
    const result = await runCli({
      settings: { ...base, list_data_import_option: 'OnlyUpdate' },
      input,
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.equal(record(sim, 'C1')!.EMAIL, 'new@example.com');
    assert.equal(record(sim, 'C2'), undefined);
    assert.equal(result.report!.accounting!.not_applied_by_reason.not_found, 1);
    assert.deepEqual(members(sim, 'seg_a'), ['C1']);
  }));

test('segment_data_import_option replace removes old members; append keeps them', async () => {
  const seed = {
    records: [{ CUSTOMER_IDENTIFIER: 'OLD1' }, { CUSTOMER_IDENTIFIER: 'OLD2' }],
    segments: [
      { api_name: 'seg_a', members: [{ CUSTOMER_IDENTIFIER: 'OLD1' }] },
      { api_name: 'untouched', members: [{ CUSTOMER_IDENTIFIER: 'OLD2' }] },
    ],
  };
  await withSim(seed, async (sim, dir) => {
    const result = await runCli({
      settings: { ...base, segment_data_import_option: 'append' },
      input: csv(dir, ['seg_a,C1,a@example.com,A']),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout);
    assert.deepEqual(members(sim, 'seg_a'), ['C1', 'OLD1']);
    assert.equal(result.report!.segments[0]!.cleared, false);
  });
  await withSim(seed, async (sim, dir) => {
    const result = await runCli({
      settings: { ...base, segment_data_import_option: 'replace' },
      input: csv(dir, ['seg_a,C1,a@example.com,A']),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.deepEqual(members(sim, 'seg_a'), ['C1']);
    assert.equal(result.report!.segments[0]!.cleared, true);
    // Segments the input does not route to are never touched, and the List keeps every record.
    assert.deepEqual(members(sim, 'untouched'), ['OLD2']);
    assert.equal(records(sim).length, 3);
    // The clear comes after the List load, right before the Segment's own load.
    const routes = writes(sim).map((entry) => entry.route);
    assert.deepEqual(routes, ['loadList', 'clearSegment', 'loadSegment']);
  });
});

test('deduplication ImportLastMatch and ImportFirstMatch hold across request boundaries', async () => {
  const rows = [
    'seg_a,C1,first@example.com,First',
    'seg_a,C2,x@example.com,X',
    'seg_a,C3,y@example.com,Y',
    'seg_b,C1,last@example.com,Last',
  ];
  for (const [strategy, expected] of [
    ['ImportLastMatch', 'last@example.com'],
    ['ImportFirstMatch', 'first@example.com'],
  ] as const) {
    await withSim({}, async (sim, dir) => {
      const result = await runCli({
        settings: { ...base, deduplication: strategy, batch_rows: 1 },
        input: csv(dir, rows),
        env: selligentEnv(sim),
      });
      assert.equal(result.code, 0, result.stdout);
      assertBalanced(result.report);
      assert.equal(record(sim, 'C1')!.EMAIL, expected, strategy);
      assert.equal(result.report!.accounting!.merged_duplicates, 1);
      assert.equal(result.report!.list!.requests, 3);
      // A key routed to two Segments is a member of both.
      assert.deepEqual(members(sim, 'seg_a'), ['C1', 'C2', 'C3']);
      assert.deepEqual(members(sim, 'seg_b'), ['C1']);
    });
  }
});

test('error_handling ContinueOnError: bad rows are rejected and reported, the rest load (status partial, exit 0)', () =>
  withSim({ fields: [{ name: 'NICKNAME', data_type: 'Text', length: 5 }] }, async (sim, dir) => {
    const input = csv(
      dir,
      ['seg_a,C1,a@example.com,A,ok', 'seg_a,C2,b@example.com,B,far too long', 'seg_a,C3,c@example.com,C,fine'],
      `${HEADER},nickname`,
    );
    const result = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.equal(result.report!.status, 'partial');
    assert.equal(result.report!.accounting!.rejected, 1);
    assert.equal(records(sim).length, 2);
    const [rejected] = result.rejected;
    assert.equal(rejected!.row, 2);
    assert.equal(rejected!.stage, 'list-load');
    assert.equal(rejected!.code, 'MaxStringLengthExceeded');
    assert.equal(rejected!.field, 'NICKNAME');
    assert.deepEqual(rejected!.key, { CUSTOMER_IDENTIFIER: 'C2' });
    // The rejected key is not routed to its Segment.
    assert.deepEqual(members(sim, 'seg_a'), ['C1', 'C3']);
    assert.equal(result.report!.segments[0]!.skipped_rejected_keys, 1);
  }));

test('error_handling StopOnError: the batch with a bad row loads nothing and the export stops with exit 6', () =>
  withSim({ fields: [{ name: 'NICKNAME', data_type: 'Text', length: 5 }] }, async (sim, dir) => {
    const input = csv(
      dir,
      ['seg_a,C1,a@example.com,A,ok', 'seg_a,C2,b@example.com,B,far too long', 'seg_a,C3,c@example.com,C,fine'],
      `${HEADER},nickname`,
    );
    const result = await runCli({
      settings: { ...base, error_handling: 'StopOnError' },
      input,
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 6, result.stdout);
    assertBalanced(result.report);
    assert.equal(result.report!.error!.code, 'STOPPED_ON_ERROR');
    assert.equal(records(sim).length, 0);
    assert.equal(result.report!.accounting!.rejected, 1);
    assert.equal(result.report!.accounting!.not_applied, 2);
    assert.equal(writes(sim).filter((w) => w.route === 'loadSegment').length, 0);
  }));

test('max_rejected_rows turns a partial run into exit 6', () =>
  withSim({ fields: [{ name: 'NICKNAME', data_type: 'Text', length: 5 }] }, async (sim, dir) => {
    const input = csv(
      dir,
      ['seg_a,C1,a@example.com,A,ok', 'seg_a,C2,b@example.com,B,far too long'],
      `${HEADER},nickname`,
    );
    const result = await runCli({ settings: { ...base, max_rejected_rows: 0 }, input, env: selligentEnv(sim) });
    assert.equal(result.code, 6, result.stdout);
    assert.equal(result.report!.status, 'partial');
    assert.equal(result.report!.error!.code, 'REJECTIONS_OVER_TOLERANCE');
  }));

test('mode Stream loads the same rows as Sync', () =>
  withSim({}, async (sim, dir) => {
    const result = await runCli({
      settings: { ...base, mode: 'Stream' },
      input: csv(dir, ['seg_a,C1,a@example.com,A', 'seg_b,C2,b@example.com,B']),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout);
    assert.equal(records(sim).length, 2);
    assert.ok(
      writes(sim)
        .filter((w) => w.route === 'loadList')
        .every((w) => w.query.mode === 'Stream'),
    );
  }));

test('skip_invalid_records true skips blank/invalid Segment values and blank keys, and reports each', () =>
  withSim({}, async (sim, dir) => {
    const input = csv(dir, [
      'seg_a,C1,a@example.com,A',
      ',C2,b@example.com,B',
      'bad name/..,C3,c@example.com,C',
      'seg_a,,d@example.com,D',
      'seg_a,C5,e@example.com',
    ]);
    const result = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    assert.deepEqual(result.report!.validation.by_reason, {
      segment_blank: 1,
      segment_invalid: 1,
      key_blank: 1,
      field_count: 1,
    });
    assert.deepEqual(
      result.rejected.map((r) => [r.row, r.code]),
      [
        [2, 'segment_blank'],
        [3, 'segment_invalid'],
        [4, 'key_blank'],
        [5, 'field_count'],
      ],
    );
    assert.deepEqual(
      records(sim).map((r) => r.CUSTOMER_IDENTIFIER),
      ['C1'],
    );
    // The invalid Segment name never reached a URL.
    assert.ok(sim.requestLog().every((entry) => !entry.path.includes('bad')));
  }));

test('skip_invalid_records false fails on the first invalid row, naming it, before any write', () =>
  withSim({}, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,a@example.com,A', 'seg_a,,b@example.com,B']);
    const result = await runCli({ settings: { ...base, skip_invalid_records: false }, input, env: selligentEnv(sim) });
    assert.equal(result.code, 3, result.stdout);
    assert.equal(result.report!.error!.code, 'INVALID_ROW');
    assert.match(
      result.report!.error!.message,
      /input row 2, column customer_identifier: key field CUSTOMER_IDENTIFIER is blank/,
    );
    assert.equal(writes(sim).length, 0);
  }));

test('a missing List fails with exit 2 unless create_list_if_not_exists', () =>
  withSim(null, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,a@example.com,A']);
    const refused = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(refused.code, 2);
    assert.equal(refused.report!.error!.code, 'LIST_NOT_FOUND');
    assert.equal(writes(sim).length, 0);
    const created = await runCli({
      settings: { ...base, create_list_if_not_exists: true },
      input,
      env: selligentEnv(sim),
    });
    assert.equal(created.code, 0, created.stdout);
    assert.equal(records(sim).length, 1);
  }));

test('a missing Segment fails with exit 2 unless create_segment_if_not_exists', () =>
  withSim({ segments: [{ api_name: 'seg_a' }] }, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,a@example.com,A', 'seg_new,C2,b@example.com,B']);
    const refused = await runCli({
      settings: { ...base, create_segment_if_not_exists: false },
      input,
      env: selligentEnv(sim),
    });
    assert.equal(refused.code, 2);
    assert.equal(refused.report!.error!.code, 'SEGMENT_NOT_FOUND');
    assert.match(refused.report!.error!.message, /seg_new/);
    assert.equal(writes(sim).length, 0);
    const created = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(created.code, 0, created.stdout);
    assert.deepEqual(members(sim, 'seg_new'), ['C2']);
    assert.equal(created.report!.segments.find((s) => s.api_name === 'seg_new')!.created, true);
    assert.equal(created.report!.segments.find((s) => s.api_name === 'seg_a')!.created, false);
  }));

test('input fields missing from an existing List fail with exit 2 naming them, before any write', () =>
  withSim({}, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,a@example.com,A,1,x'], `${HEADER},loyalty_points,favourite_colour`);
    const result = await runCli({ settings: base, input, env: selligentEnv(sim) });
    assert.equal(result.code, 2);
    assert.equal(result.report!.error!.code, 'FIELDS_MISSING');
    assert.match(result.report!.error!.message, /LOYALTY_POINTS, FAVOURITE_COLOUR/);
    assert.equal(writes(sim).length, 0);
  }));

test('a dynamic Segment fails with exit 2 before any write', () =>
  withSim({ segments: [{ api_name: 'seg_a', type: 'Dynamic' }] }, async (sim, dir) => {
    const result = await runCli({
      settings: base,
      input: csv(dir, ['seg_a,C1,a@example.com,A']),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 2);
    assert.equal(result.report!.error!.code, 'SEGMENT_NOT_STATIC');
    assert.equal(writes(sim).length, 0);
  }));

test('missing key or routing columns fail with exit 3 before any write', () =>
  withSim({}, async (sim, dir) => {
    const result = await runCli({
      settings: { ...base, key_fields: 'EMAIL,MEMBER_NO' },
      input: csv(dir, ['seg_a,C1,a@example.com,A']),
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 3);
    assert.equal(result.report!.error!.code, 'INPUT_COLUMNS_MISSING');
    assert.match(result.report!.error!.message, /key field MEMBER_NO/);
    assert.equal(writes(sim).length, 0);
  }));

test('dry run reads, validates and preflights, reports the plan, and writes nothing', () =>
  withSim(null, async (sim, dir) => {
    const input = csv(dir, ['seg_a,C1,a@example.com,A', 'seg_b,C2,b@example.com,B', 'seg_b,C2,b2@example.com,B']);
    const result = await runCli({
      settings: { ...base, create_list_if_not_exists: true },
      input,
      env: selligentEnv(sim),
      args: ['--dry-run'],
    });
    assert.equal(result.code, 0, result.stdout);
    assertBalanced(result.report);
    const plan = result.report!.plan!;
    assert.equal(plan.list_to_create, true);
    assert.deepEqual(
      plan.fields_to_create.map((f) => f.name),
      ['CUSTOMER_IDENTIFIER', 'EMAIL', 'FIRST_NAME'],
    );
    assert.equal(plan.list_rows, 2);
    assert.deepEqual(
      plan.segments.map((s) => [s.api_name, s.rows, s.create]),
      [
        ['seg_a', 1, true],
        ['seg_b', 1, true],
      ],
    );
    assert.ok(plan.requests >= 3);
    assert.equal(writes(sim).length, 0);
    assert.equal(sim.hasList(ORG, LIST), false);
    assert.match(result.stdout.trim().split('\n').at(-1)!, /dry run succeeded/);
  }));

test('the alternative "upsert then link" Segment semantics give the same end state', () =>
  withSim(
    {},
    async (sim, dir) => {
      const result = await runCli({
        settings: base,
        input: csv(dir, ['seg_a,C1,a@example.com,A', 'seg_b,C2,b@example.com,B']),
        env: selligentEnv(sim),
      });
      assert.equal(result.code, 0, result.stdout);
      assertBalanced(result.report);
      assert.deepEqual(members(sim, 'seg_a'), ['C1']);
      assert.equal(record(sim, 'C2')!.EMAIL, 'b@example.com');
    },
    { segmentSemantics: 'upsert' },
  ));

test('an existing List without a unique key index: a clear configuration error that says how to fix it', () =>
  withSim(
    {},
    async (sim, dir) => {
      // Seeded with a business key; remove it to simulate an old List.
      sim.seed({ lists: [{ ...seededList().lists[0]!, api_name: 'old_list', business_key: null }] });
      const result = await runCli({
        settings: { ...base, list_api_name: 'old_list' },
        input: csv(dir, ['seg_a,C1,a@example.com,A']),
        env: selligentEnv(sim),
      });
      assert.equal(result.code, 2, result.stdout);
      assert.equal(result.report!.error!.code, 'KEY_INDEX_MISSING');
      assert.match(result.report!.error!.message, /businesskey/);
    },
    { requireBusinessKey: true },
  ));
