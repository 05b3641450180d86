/**
 * What the reader and the typing promise, end to end through the built CLI and the simulator: column
 * names checked before any write, every physical record accounted for, keys deduplicated as Selligent
 * stores them, values shaped by the List's field types, and created Text fields sized from the input.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';

interface Run {
  input: string;
  settings?: Record<string, unknown>;
  schema?: Array<[string, string]>;
  seed?: Parameters<typeof simulator>[0];
  args?: string[];
}

async function run(c: Run, check: (result: CliResult, sim: SimulatorHandle) => void | Promise<void>): Promise<void> {
  const sim = await simulator(c.seed ?? { seed: seededList() });
  try {
    const dir = tempDir();
    const input = writeInput(dir, 'input.csv', c.input);
    const args = [...(c.args ?? [])];
    if (c.schema) {
      writeFileSync(join(dir, 'schema.json'), JSON.stringify(c.schema));
      args.push('--schema', join(dir, 'schema.json'));
    }
    const result = await runCli({
      settings: { ...BASE_SETTINGS, ...c.settings },
      input,
      dir,
      args,
      env: selligentEnv(sim),
    });
    assert.notEqual(result.code, 1, `crashed: ${result.stdout}\n${result.stderr}`);
    assert.ok(result.report, 'no report');
    if (result.report.accounting) assertBalanced(result.report);
    await check(result, sim);
  } finally {
    await sim.close();
  }
}

describe('input checks', { concurrency: 2 }, () => {
  test('a column that cannot be a field name fails the dry run and the real run with exit 3 before any write', async () => {
    const input = 'selligent_segment,customer_identifier,e-mail,First Name\nseg_a,C1,a@example.com,Ann\n';
    for (const args of [['--dry-run'], []]) {
      await run({ input, settings: { create_list_if_not_exists: true }, seed: {}, args }, (result, sim) => {
        assert.equal(result.code, 3, result.stdout);
        assert.equal(result.report!.error!.code, 'FIELD_NAME_INVALID');
        assert.match(result.report!.error!.message, /"e-mail", "First Name".*letters, digits and underscores/);
        assert.equal(writes(sim).length, 0, 'something was written');
      });
    }
  });

  test('blank rows (,,, or an empty line inside the input) are counted and reported with their row numbers; a blank tail is not a row', async () => {
    const input =
      'selligent_segment,customer_identifier,email,first_name\nseg_a,C1,a@example.com,Ann\n,,,\n\nseg_a,C4,d@example.com,Di\n  ,  , ,\nseg_a,C6,f@example.com,Fay\n\n';
    await run({ input }, (result, sim) => {
      assert.equal(result.code, 0, result.stdout);
      assert.equal(result.report!.accounting!.input_rows, 6);
      assert.deepEqual(
        result.rejected.map((entry) => [entry.row, entry.code]),
        [
          [2, 'blank_row'],
          [3, 'blank_row'],
          [5, 'blank_row'],
        ],
      );
      assert.deepEqual(result.report!.validation.by_reason, { blank_row: 3 });
      assert.deepEqual(
        records(sim)
          .map((r) => r.CUSTOMER_IDENTIFIER)
          .sort(),
        ['C1', 'C4', 'C6'],
      );
    });
    await run({ input, settings: { skip_invalid_records: false } }, (result, sim) => {
      assert.equal(result.code, 3, result.stdout);
      assert.equal(result.report!.error!.code, 'INVALID_ROW');
      assert.match(result.report!.error!.message, /input row 2: the row is blank/);
      assert.equal(writes(sim).length, 0);
    });
  });

  test("7, 007 and +7 in a Long key are one record: deduplicated on the key's stored form, the values sent as written", async () => {
    const input =
      'selligent_segment,customer_identifier,email\nseg_a,7,a@example.com\nseg_b,007,b@example.com\nseg_a,+7,c@example.com\nseg_a,8,d@example.com\n';
    await run(
      {
        input,
        settings: { create_list_if_not_exists: true },
        seed: {},
        schema: [
          ['customer_identifier', 'bigint'],
          ['email', 'varchar'],
        ],
      },
      (result, sim) => {
        assert.equal(result.code, 0, result.stdout);
        assert.equal(result.report!.deduplication.unique_keys, 2);
        assert.equal(result.report!.accounting!.merged_duplicates, 2);
        assert.equal(result.report!.accounting!.loaded, 2);
        const stored = records(sim)
          .map((r) => [r.CUSTOMER_IDENTIFIER, r.EMAIL])
          .sort((a, b) => Number(a[0]) - Number(b[0]));
        assert.deepEqual(
          stored,
          [
            [7, 'c@example.com'],
            [8, 'd@example.com'],
          ],
          'the last row of key 7 wins',
        );
        assert.deepEqual(
          sim.segmentMembers('my_org', LIST, 'seg_b').map((r) => r.CUSTOMER_IDENTIFIER),
          [7],
          'the key keeps every Segment of its rows',
        );
      },
    );
  });

  test('values follow the List field types: Numeric is a 32-bit whole number, Date is YYYY-MM-DD, DateTime is 1753..9999', async () => {
    const input = [
      'selligent_segment,customer_identifier,score,birth,seen_at',
      'seg_a,C1,42,2026-05-01 10:00:00,2026-05-01 10:00:00',
      'seg_a,C2,1.5,2026-05-02,2026-05-02',
      'seg_a,C3,3000000000,2026-05-03,2026-05-03',
      'seg_a,C4,7,2026-05-04,1700-01-01',
      '',
    ].join('\n');
    const seed = {
      seed: seededList({
        fields: [
          { name: 'SCORE', data_type: 'Numeric' },
          { name: 'BIRTH', data_type: 'Date' },
          { name: 'SEEN_AT', data_type: 'DateTime' },
        ],
      }),
    };
    await run({ input, seed }, (result, sim) => {
      assert.equal(result.code, 0, result.stdout);
      assert.deepEqual(
        records(sim).map((r) => [r.CUSTOMER_IDENTIFIER, r.SCORE, r.BIRTH, r.SEEN_AT]),
        [['C1', 42, '2026-05-01', '2026-05-01T10:00:00.000Z']],
      );
      const reasons = result.rejected
        .map((entry) => [entry.row, entry.field, String(entry.message)] as const)
        .sort((a, b) => Number(a[0]) - Number(b[0]));
      assert.deepEqual(
        reasons.map(([row, field]) => [row, field]),
        [
          [2, 'SCORE'],
          [3, 'SCORE'],
          [4, 'SEEN_AT'],
        ],
      );
      assert.match(reasons[0]![2], /has a fraction; a Numeric field holds whole numbers only/);
      assert.match(reasons[1]![2], /outside the 32-bit range of a Numeric field/);
      assert.match(reasons[2]![2], /outside the DateTime range 1753-01-01\.\.9999-12-31/);
    });
  });

  test('created Text fields are sized from the longest value (LongText beyond 4000); the dry run and the report say so', async () => {
    const long = 'x'.repeat(300);
    const huge = 'y'.repeat(4500);
    const input = `selligent_segment,customer_identifier,email,note,essay\nseg_a,C1,a@example.com,${long},${huge}\nseg_a,C2,b@example.com,short,short\n`;
    const expected = [
      { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 255 },
      { name: 'EMAIL', data_type: 'Text', length: 255 },
      { name: 'NOTE', data_type: 'Text', length: 500 },
      { name: 'ESSAY', data_type: 'LongText' },
    ];
    await run({ input, settings: { create_list_if_not_exists: true }, seed: {}, args: ['--dry-run'] }, (result) => {
      assert.equal(result.code, 0, result.stdout);
      assert.deepEqual(result.report!.plan!.fields_to_create, expected);
      assert.deepEqual(
        result.report!.input.columns.map((c) => [c.column, c.longest]),
        [
          ['selligent_segment', undefined],
          ['customer_identifier', 2],
          ['email', 13],
          ['note', 300],
          ['essay', 4500],
        ],
      );
    });
    await run({ input, settings: { create_list_if_not_exists: true }, seed: {} }, (result, sim) => {
      assert.equal(result.code, 0, result.stdout);
      assert.deepEqual(result.report!.list!.fields_created_types, expected);
      assert.equal(records(sim).length, 2);
      assert.equal(records(sim).find((r) => r.CUSTOMER_IDENTIFIER === 'C1')!.ESSAY, huge);
    });
  });
});
