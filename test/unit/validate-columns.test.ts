import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSettings } from '../../src/config/settings.js';
import { InputError } from '../../src/errors.js';
import { planColumns, settleInferredTypes, type ColumnPlan } from '../../src/pipeline/columns.js';
import { validateRow, type Verdict } from '../../src/pipeline/validate.js';
import type { ColumnType } from '../../src/schema/types.js';

const settings = parseSettings({
  organization: 'o',
  list_api_name: 'L',
  segment_column: 'Selligent_Segment',
  key_fields: 'customer_identifier, email',
});
const HEADER = ['customer_identifier', 'selligent_segment', 'Email', 'age', 'score', 'opted_in', 'updated_at'];
const SCHEMA = new Map<string, ColumnType>([
  ['CUSTOMER_IDENTIFIER', 'string'],
  ['EMAIL', 'string'],
  ['AGE', 'long'],
  ['SCORE', 'double'],
  ['OPTED_IN', 'boolean'],
  ['UPDATED_AT', 'timestamp'],
]);

function inputError(fn: () => unknown, code: string): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 3);
    assert.equal(error.stage, 'read');
    return error;
  }
  assert.fail(`expected ${code}`);
}

function skipped(verdict: Verdict): Extract<Verdict, { ok: false }> {
  assert.equal(verdict.ok, false, `the row was accepted: ${JSON.stringify(verdict)}`);
  return verdict;
}

const valid = () => ['C001', 'vip_customers', 'a@example.com', '42', '1.5', 'true', '2026-05-01 10:15:00'];

describe('planColumns', () => {
  it('maps every column but the routing column to an upper-case field, in input order', () => {
    const plan = planColumns(HEADER, settings, undefined, 'inferred');
    assert.deepEqual(
      plan.fields.map((column) => [column.index, column.name, column.field]),
      [
        [0, 'customer_identifier', 'CUSTOMER_IDENTIFIER'],
        [2, 'Email', 'EMAIL'],
        [3, 'age', 'AGE'],
        [4, 'score', 'SCORE'],
        [5, 'opted_in', 'OPTED_IN'],
        [6, 'updated_at', 'UPDATED_AT'],
      ],
    );
    assert.equal(plan.segmentIndex, 1);
    assert.equal(plan.segmentColumn, 'selligent_segment');
    assert.equal(plan.width, 7);
    assert.equal(plan.typesFrom, 'inferred');
    assert.deepEqual(plan.inferred, ['unknown', 'unknown', 'unknown', 'unknown', 'unknown', 'unknown']);
  });

  it('matches key fields and the routing column case-insensitively, keys in key_fields order', () => {
    const plan = planColumns(
      ['EMAIL', 'x', 'SELLIGENT_SEGMENT', 'Customer_Identifier'],
      settings,
      undefined,
      'inferred',
    );
    assert.deepEqual(
      plan.keys.map((column) => column.name),
      ['Customer_Identifier', 'EMAIL'],
    );
    assert.deepEqual(plan.keyPositions, [2, 0]);
    assert.equal(plan.segmentIndex, 2);
    for (const [i, position] of plan.keyPositions.entries()) assert.equal(plan.fields[position], plan.keys[i]);
  });

  it('takes types from a schema file and does not infer', () => {
    const plan = planColumns(HEADER, settings, SCHEMA, 'schema-file');
    assert.deepEqual(
      plan.fields.map((column) => [column.field, column.type, column.sendType]),
      [
        ['CUSTOMER_IDENTIFIER', 'string', 'string'],
        ['EMAIL', 'string', 'string'],
        ['AGE', 'long', 'long'],
        ['SCORE', 'double', 'double'],
        ['OPTED_IN', 'boolean', 'boolean'],
        ['UPDATED_AT', 'timestamp', 'timestamp'],
      ],
    );
    assert.equal(plan.inferred, undefined);
  });

  it('the schema need not type the routing column', () => {
    assert.doesNotThrow(() => planColumns(HEADER, settings, SCHEMA, 'schema-file'));
  });

  it('a missing routing column: INPUT_COLUMNS_MISSING naming it and the columns present', () => {
    const error = inputError(
      () => planColumns(['customer_identifier', 'email'], settings, undefined, 'inferred'),
      'INPUT_COLUMNS_MISSING',
    );
    assert.match(error.message, /segment_column "Selligent_Segment"/);
    assert.match(error.message, /\(columns: customer_identifier, email\)/);
    assert.deepEqual(error.details, {
      missing: ['segment_column "Selligent_Segment"'],
      columns: ['customer_identifier', 'email'],
    });
  });

  it('missing key columns: INPUT_COLUMNS_MISSING naming each', () => {
    const error = inputError(
      () => planColumns(['selligent_segment', 'name'], settings, undefined, 'inferred'),
      'INPUT_COLUMNS_MISSING',
    );
    assert.deepEqual(error.details?.missing, ['key field CUSTOMER_IDENTIFIER', 'key field EMAIL']);
  });

  it('everything missing at once', () => {
    const error = inputError(() => planColumns(['a'], settings, undefined, 'inferred'), 'INPUT_COLUMNS_MISSING');
    assert.equal((error.details?.missing as string[]).length, 3);
  });

  it('a schema without a type for some input column: SCHEMA_MISMATCH naming it', () => {
    const partial = new Map(SCHEMA);
    partial.delete('SCORE');
    partial.delete('AGE');
    const error = inputError(() => planColumns(HEADER, settings, partial, 'schema-file'), 'SCHEMA_MISMATCH');
    assert.match(error.message, /AGE, SCORE/);
    assert.deepEqual(error.details, { columns: ['AGE', 'SCORE'] });
  });

  it('extra schema columns not in the input are fine', () => {
    const extra = new Map(SCHEMA).set('UNUSED', 'long');
    assert.equal(planColumns(HEADER, settings, extra, 'schema-file').fields.length, 6);
  });
});

describe('validateRow', () => {
  const plan = () => planColumns(HEADER, settings, SCHEMA, 'schema-file');

  it('accepts a valid row and returns its cells', () => {
    assert.deepEqual(validateRow(valid(), plan()), { ok: true, cells: valid() });
  });

  it('empty values of typed columns are nulls, not mismatches', () => {
    const row = valid();
    row[3] = '';
    row[4] = '';
    row[5] = '';
    row[6] = '';
    assert.equal(validateRow(row, plan()).ok, true);
  });

  it('field_count: fewer or more values than the header', () => {
    const short = skipped(validateRow(valid().slice(0, 5), plan()));
    assert.deepEqual(short, {
      ok: false,
      reason: 'field_count',
      column: null,
      message: 'has 5 value(s), the header has 7',
    });
    assert.equal(skipped(validateRow([...valid(), 'extra'], plan())).reason, 'field_count');
  });

  it('malformed_row and unknown_field pass through from the reader', () => {
    assert.deepEqual(validateRow({ problem: 'value too large', reason: 'malformed_row' }, plan()), {
      ok: false,
      reason: 'malformed_row',
      column: null,
      message: 'value too large',
    });
    assert.equal(
      skipped(validateRow({ problem: 'field "x"', reason: 'unknown_field' }, plan())).reason,
      'unknown_field',
    );
  });

  for (const value of ['', ' ', '\t']) {
    it(`segment_blank: ${JSON.stringify(value)}`, () => {
      const row = valid();
      row[1] = value;
      assert.deepEqual(validateRow(row, plan()), {
        ok: false,
        reason: 'segment_blank',
        column: 'selligent_segment',
        message: 'the Segment value is blank',
      });
    });
  }

  for (const value of ['vip-customers', 'vip customers', ' vip', 'vip\n', 'é', 'a.b']) {
    it(`segment_invalid: ${JSON.stringify(value)}`, () => {
      const row = valid();
      row[1] = value;
      const verdict = skipped(validateRow(row, plan()));
      assert.equal(verdict.reason, 'segment_invalid');
      assert.equal(verdict.column, 'selligent_segment');
      assert.match(verdict.message, /is not a Segment api_name/);
    });
  }

  it('segment_invalid message abbreviates a long value', () => {
    const row = valid();
    row[1] = `${'x'.repeat(200)}-`;
    assert.ok(skipped(validateRow(row, plan())).message.length < 150);
  });

  for (const [index, column, field] of [
    [0, 'customer_identifier', 'CUSTOMER_IDENTIFIER'],
    [2, 'Email', 'EMAIL'],
  ] as const) {
    for (const value of ['', '  ']) {
      it(`key_blank: ${column} = ${JSON.stringify(value)}`, () => {
        const row = valid();
        row[index] = value;
        assert.deepEqual(validateRow(row, plan()), {
          ok: false,
          reason: 'key_blank',
          column,
          message: `key field ${field} is blank`,
        });
      });
    }
  }

  it('nul_byte in any value', () => {
    for (const [index, column] of [
      [0, 'customer_identifier'],
      [3, 'age'],
      [6, 'updated_at'],
    ] as const) {
      const row = valid();
      row[index] = `${row[index]}\0`;
      const verdict = skipped(validateRow(row, plan()));
      assert.equal(verdict.reason, 'nul_byte');
      assert.equal(verdict.column, column);
    }
  });

  for (const [index, value, column, pattern] of [
    [3, 'forty', 'age', /^AGE \(long\): "forty" is not a whole number$/],
    [3, '1.5', 'age', /is not a whole number/],
    [3, '9223372036854775808', 'age', /does not fit a 64-bit long/],
    [4, 'abc', 'score', /^SCORE \(double\): "abc" is not a number$/],
    [4, 'NaN', 'score', /is not a finite number/],
    [5, 'yes', 'opted_in', /^OPTED_IN \(boolean\): "yes" is not true or false$/],
    [6, '2026-02-30', 'updated_at', /^UPDATED_AT \(timestamp\): "2026-02-30" is not a timestamp/],
  ] as const) {
    it(`type_mismatch: ${column} = ${JSON.stringify(value)}`, () => {
      const row = valid();
      row[index] = value;
      const verdict = skipped(validateRow(row, plan()));
      assert.equal(verdict.reason, 'type_mismatch');
      assert.equal(verdict.column, column);
      assert.match(verdict.message, pattern);
    });
  }

  it('a string column takes anything', () => {
    const row = valid();
    row[0] = 'any "thing"\nat all 😀';
    assert.equal(validateRow(row, plan()).ok, true);
  });

  it('checks in order: field count, segment, keys, NUL, types', () => {
    assert.equal(skipped(validateRow(['', 'x', ''], plan())).reason, 'field_count');
    assert.equal(skipped(validateRow(['', '', '', 'x', 'x', 'x', 'x'], plan())).reason, 'segment_blank');
    assert.equal(skipped(validateRow(['', 'ok', '', 'x', 'x', 'x', 'x'], plan())).reason, 'key_blank');
    assert.equal(skipped(validateRow(['a', 'ok', 'b', 'x\0', 'x', 'x', 'x'], plan())).reason, 'nul_byte');
    assert.equal(skipped(validateRow(['a', 'ok', 'b', 'x', 'x', 'x', 'x'], plan())).reason, 'type_mismatch');
  });
});

describe('type inference through validateRow and settleInferredTypes', () => {
  function infer(rows: string[][]): ColumnPlan {
    const plan = planColumns(HEADER, settings, undefined, 'inferred');
    for (const row of rows) validateRow(row, plan);
    settleInferredTypes(plan);
    return plan;
  }
  const types = (plan: ColumnPlan) => Object.fromEntries(plan.fields.map((column) => [column.field, column.type]));

  it('infers each column from its values', () => {
    const plan = infer([valid(), ['C002', 'vip', 'b@example.com', '-7', '3', 'FALSE', '2026-05-02']]);
    assert.deepEqual(types(plan), {
      CUSTOMER_IDENTIFIER: 'string',
      EMAIL: 'string',
      AGE: 'long',
      SCORE: 'double',
      OPTED_IN: 'boolean',
      UPDATED_AT: 'timestamp',
    });
    for (const column of plan.fields) assert.equal(column.sendType, column.type);
  });

  it('never reports type_mismatch while inferring', () => {
    const plan = planColumns(HEADER, settings, undefined, 'inferred');
    assert.equal(validateRow(valid(), plan).ok, true);
    assert.equal(validateRow(['C2', 'vip', 'e', 'forty', 'x', 'maybe', 'later'], plan).ok, true);
    settleInferredTypes(plan);
    assert.deepEqual(types(plan), {
      CUSTOMER_IDENTIFIER: 'string',
      EMAIL: 'string',
      AGE: 'string',
      SCORE: 'string',
      OPTED_IN: 'string',
      UPDATED_AT: 'string',
    });
  });

  it('leading-zero ids stay text', () => {
    const plan = infer([
      ['007', 'vip', 'e', '0123', '1', 'true', '2026-05-01'],
      ['8', 'vip', 'f', '5', '2', 'true', '2026-05-01'],
    ]);
    assert.equal(types(plan).CUSTOMER_IDENTIFIER, 'string');
    assert.equal(types(plan).AGE, 'string');
  });

  it('a column with only empty values is text; empty values do not widen', () => {
    const plan = infer([
      ['1', 'vip', 'e', '', '', '', ''],
      ['2', 'vip', 'f', '5', '', '', ''],
    ]);
    assert.deepEqual(types(plan), {
      CUSTOMER_IDENTIFIER: 'long',
      EMAIL: 'string',
      AGE: 'long',
      SCORE: 'string',
      OPTED_IN: 'string',
      UPDATED_AT: 'string',
    });
  });

  it('invalid rows do not take part in inference', () => {
    const plan = infer([
      valid(),
      ['C9', '', 'e', 'not-a-number', 'x', 'x', 'x'],
      ['C9', 'vip', '', 'x', 'x', 'x', 'x'],
    ]);
    assert.equal(types(plan).AGE, 'long');
  });

  it('long and double widen to double; with text to string', () => {
    assert.equal(
      types(
        infer([
          ['1', 'v', 'e', '1', '1', 'true', '2026-05-01'],
          ['2', 'v', 'e', '1.5', '1', 'true', '2026-05-01'],
        ]),
      ).AGE,
      'double',
    );
    assert.equal(
      types(
        infer([
          ['1', 'v', 'e', '1', '1', 'true', 'x'],
          ['2', 'v', 'e', '1.5', 'true', '1', '2026-05-01'],
        ]),
      ).SCORE,
      'string',
    );
  });

  it('native types (JSON Lines) decide when given, by input column position', () => {
    const plan = planColumns(HEADER, settings, undefined, 'native');
    settleInferredTypes(plan, ['long', 'string', 'string', 'long', 'double', 'boolean', 'unknown']);
    assert.deepEqual(types(plan), {
      CUSTOMER_IDENTIFIER: 'long',
      EMAIL: 'string',
      AGE: 'long',
      SCORE: 'double',
      OPTED_IN: 'boolean',
      UPDATED_AT: 'string',
    });
  });

  it('native types shorter than the header leave the rest as text', () => {
    const plan = planColumns(HEADER, settings, undefined, 'native');
    settleInferredTypes(plan, ['long']);
    assert.equal(types(plan).CUSTOMER_IDENTIFIER, 'long');
    assert.equal(types(plan).SCORE, 'string');
  });

  it('settleInferredTypes does nothing with schema types', () => {
    const plan = planColumns(HEADER, settings, SCHEMA, 'schema-file');
    settleInferredTypes(plan);
    assert.equal(types(plan).AGE, 'long');
  });
});

describe('validateRow: blank rows', () => {
  it('a row whose every value is empty or spaces is blank_row, whatever its number of values', () => {
    const plan = planColumns(HEADER, settings, undefined, 'inferred');
    for (const row of [
      ['', '', '', '', '', '', ''],
      [' ', '  ', '', '\t', '', '', ''],
      ['', ''],
      ['', '', '', '', '', '', '', ''],
    ]) {
      const verdict = skipped(validateRow(row, plan));
      assert.equal(verdict.reason, 'blank_row', JSON.stringify(row));
      assert.equal(verdict.message, 'the row is blank (every value is empty)');
    }
  });
});

describe('planColumns: field names', () => {
  it('a column that cannot be a Selligent field name is refused before anything is written, naming the column and the rule', () => {
    for (const bad of ['e-mail', 'First Name', 'prénom', 'a.b', 'x'.repeat(101)]) {
      const error = inputError(
        () => planColumns(['customer_identifier', 'selligent_segment', 'email', bad], settings, undefined, 'inferred'),
        'FIELD_NAME_INVALID',
      );
      assert.ok(error.message.includes(JSON.stringify(bad)), error.message);
      assert.match(error.message, /letters, digits and underscores/);
    }
  });

  it('names every bad column at once; the routing column is not a field and is not checked', () => {
    const error = inputError(
      () =>
        planColumns(
          ['customer_identifier', 'Selligent_Segment', 'email', 'e-mail', 'First Name'],
          settings,
          undefined,
          'inferred',
        ),
      'FIELD_NAME_INVALID',
    );
    assert.match(error.message, /"e-mail", "First Name"/);
    const segmentSettings = parseSettings({
      organization: 'o',
      list_api_name: 'L',
      segment_column: 'target segment',
      key_fields: 'customer_identifier, email',
    });
    const plan = planColumns(
      ['customer_identifier', 'target segment', 'email', 'x'.repeat(100)],
      segmentSettings,
      undefined,
      'inferred',
    );
    assert.equal(plan.fields.length, 3);
  });
});
