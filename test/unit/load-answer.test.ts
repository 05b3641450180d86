/**
 * The accounting of one batch from Selligent's answer (pure), and how the client reads an answer's
 * envelope. Every case checks that each row of the batch lands in exactly one count.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  accountAnswer,
  sendBatch,
  emptyTally,
  type AnswerContext,
  type BatchAccount,
  type LoadTarget,
  type Rejection,
} from '../../src/pipeline/send-batches.ts';
import { BatchBuilder, type Batch } from '../../src/pipeline/batches.ts';
import { classifyAnswer } from '../../src/selligent/answer.ts';
import type { LoadResult } from '../../src/selligent/types.ts';

const LIST: AnswerContext = { kind: 'list', stopOnError: false, uncertain: false };
const SEGMENT: AnswerContext = { kind: 'segment', stopOnError: false, uncertain: false };

function counts(size: number, result: LoadResult, context: AnswerContext = LIST): BatchAccount {
  const account = accountAnswer(result, size, context);
  const notApplied = Object.values(account.notApplied).reduce((a, b) => a + b, 0);
  assert.equal(
    account.invalid.length + account.loaded + notApplied,
    size,
    `every row once: ${JSON.stringify(account)}`,
  );
  return account;
}

const invalid = (...indexes: number[]) =>
  indexes.map((record_index) => ({
    record_index,
    field_name: 'EMAIL',
    message: 'bad',
    validation_code: 'InvalidType',
  }));

describe('accountAnswer', () => {
  test('Succeeded with counters that add up: every row loaded', () => {
    const a = counts(5, { result_code: 'Succeeded', number_of_inserted_records: 3, number_of_updated_records: 2 });
    assert.equal(a.loaded, 5);
    assert.deepEqual(a.notApplied, {});
  });

  test('PartiallySucceeded: identified rows rejected, the rest loaded', () => {
    const a = counts(5, {
      result_code: 'PartiallySucceeded',
      number_of_inserted_records: 4,
      number_of_failed_records: 1,
      invalid_records: invalid(2),
    });
    assert.deepEqual([a.invalid.map((r) => r.record_index), a.loaded, a.notApplied], [[2], 4, {}]);
  });

  test('failed rows the answer does not identify are failed_without_detail, never loaded', () => {
    const a = counts(10, {
      result_code: 'PartiallySucceeded',
      number_of_inserted_records: 7,
      number_of_failed_records: 3,
      invalid_records: invalid(4),
    });
    assert.equal(a.invalid.length, 1);
    assert.equal(a.loaded, 7);
    assert.deepEqual(a.notApplied, { failed_without_detail: 2 });
    const none = counts(10, {
      result_code: 'PartiallySucceeded',
      number_of_inserted_records: 10,
      number_of_failed_records: 4,
      invalid_records: null,
    });
    assert.equal(none.loaded, 6);
    assert.deepEqual(none.notApplied, { failed_without_detail: 4 });
  });

  test('more identified rows than the failure count: the identified rows count', () => {
    const a = counts(4, {
      result_code: 'PartiallySucceeded',
      number_of_updated_records: 2,
      number_of_failed_records: 1,
      invalid_records: invalid(0, 1),
    });
    assert.deepEqual([a.invalid.length, a.loaded, a.notApplied], [2, 2, {}]);
  });

  test('counters that do not add up to the rows sent: the rest is unknown, not loaded', () => {
    assert.deepEqual(counts(5, { result_code: 'Succeeded' }).notApplied, { unknown: 5 });
    const a = counts(5, { result_code: 'Succeeded', number_of_inserted_records: 2, number_of_duplicate_records: 1 });
    assert.deepEqual([a.loaded, a.notApplied], [2, { already_exists: 1, unknown: 2 }]);
    // Counters larger than the batch, negative or not numbers never make rows up.
    const b = counts(3, {
      result_code: 'Succeeded',
      number_of_inserted_records: 9,
      number_of_failed_records: -2,
      number_of_duplicate_records: '1' as unknown as number,
    });
    assert.deepEqual([b.loaded, b.notApplied], [3, {}]);
  });

  test('invalid_records out of range or repeated are ignored', () => {
    const a = counts(3, {
      result_code: 'PartiallySucceeded',
      number_of_inserted_records: 2,
      invalid_records: [...invalid(1, 1, 7, -1)],
    });
    assert.deepEqual([a.invalid.map((r) => r.record_index), a.loaded], [[1], 2]);
  });

  test('ContinueOnError and Failed because nothing could be applied: invalid rows rejected, the rest from the counters, the run goes on', () => {
    const a = counts(
      5,
      {
        result_code: 'Failed',
        number_of_failed_records: 1,
        number_of_duplicate_records: 4,
        invalid_records: invalid(3),
      },
      { ...LIST },
    );
    assert.equal(a.stopped, false);
    assert.deepEqual([a.invalid.map((r) => r.record_index), a.loaded, a.notApplied], [[3], 0, { already_exists: 4 }]);
    const all = counts(2, { result_code: 'Failed', number_of_failed_records: 2, invalid_records: invalid(0, 1) });
    assert.deepEqual([all.stopped, all.invalid.length, all.notApplied], [false, 2, {}]);
    const bare = counts(3, { result_code: 'Failed', number_of_failed_records: 3, invalid_records: [] });
    assert.deepEqual([bare.stopped, bare.notApplied], [false, { failed_without_detail: 3 }]);
  });

  test('StopOnError and Failed: nothing loaded, the batch stops the export', () => {
    const a = counts(
      5,
      { result_code: 'Failed', number_of_failed_records: 2, invalid_records: invalid(1) },
      { ...LIST, stopOnError: true },
    );
    assert.equal(a.stopped, true);
    assert.deepEqual(
      [a.invalid.length, a.loaded, a.notApplied],
      [1, 0, { failed_without_detail: 1, stopped_on_error: 3 }],
    );
  });

  test('an OnlyInsert answer after an attempt that may have been applied: existing rows are outcome_unknown', () => {
    const a = counts(
      4,
      { result_code: 'Succeeded', number_of_inserted_records: 1, number_of_duplicate_records: 3 },
      { ...LIST, uncertain: true },
    );
    assert.deepEqual([a.loaded, a.notApplied], [1, { outcome_unknown: 3 }]);
    // Segment duplicates are members already there: a set, whatever happened before.
    const s = counts(
      4,
      {
        result_code: 'Succeeded',
        number_of_inserted_records: 2,
        number_of_duplicate_records: 1,
        number_of_records_not_found: 1,
      },
      { ...SEGMENT, uncertain: true },
    );
    assert.deepEqual([s.loaded, s.notApplied], [2, { duplicate: 1, not_found: 1 }]);
  });

  test('any other result code is a refusal', () => {
    for (const code of ['ValidationFailed', 'NotFound', undefined]) {
      assert.throws(() => accountAnswer({ result_code: code }, 2, LIST), /refused/);
    }
  });
});

describe('classifyAnswer', () => {
  const body = (value: unknown) => JSON.stringify(value);
  test('only Succeeded and PartiallySucceeded are applied on a write', () => {
    assert.deepEqual(classifyAnswer(200, body({ result_code: 'Succeeded' }), false), { verdict: 'applied' });
    assert.deepEqual(classifyAnswer(201, body({ result_code: 'PartiallySucceeded' }), false), { verdict: 'applied' });
    for (const code of ['Failed', 'ValidationFailed', 'NotFound'])
      assert.deepEqual(classifyAnswer(200, body({ result_code: code }), false), { verdict: 'refused' }, code);
    assert.deepEqual(classifyAnswer(200, body({ result_code: 'Failed', number_of_failed_records: 1 }), false), {
      verdict: 'refused',
    });
  });

  test('a load answered Failed with row detail is a row-level answer, in a 200 or a 400', () => {
    const failed = body({ result_code: 'Failed', number_of_failed_records: 1, invalid_records: invalid(0) });
    assert.deepEqual(classifyAnswer(200, failed, true), { verdict: 'applied' });
    assert.deepEqual(classifyAnswer(400, failed, true), { verdict: 'applied' });
    assert.deepEqual(
      classifyAnswer(200, body({ result_code: 'Failed', number_of_failed_records: 3, invalid_records: null }), true),
      { verdict: 'applied' },
    );
    assert.deepEqual(
      classifyAnswer(200, body({ result_code: 'Failed', errors: [{ error_code: 'ERR', description: 'no' }] }), true),
      { verdict: 'refused' },
    );
    assert.deepEqual(classifyAnswer(400, body({ result_code: 'ValidationFailed' }), true), { verdict: 'refused' });
  });

  test('ServiceUnavailable and InternalServerError in a 200 are retried like 503 and 500', () => {
    assert.deepEqual(classifyAnswer(200, body({ result_code: 'ServiceUnavailable' }), true), {
      verdict: 'transient',
      resultCode: 'ServiceUnavailable',
      asStatus: 503,
    });
    assert.deepEqual(classifyAnswer(200, body({ result_code: 'InternalServerError' }), false), {
      verdict: 'transient',
      resultCode: 'InternalServerError',
      asStatus: 500,
    });
  });

  test('a body without a valid result_code is a bad response, retried', () => {
    for (const text of [
      'null',
      '{}',
      '[]',
      '"Succeeded"',
      '',
      'not json',
      '{"result_code":"Maybe"}',
      '{"result_code":1}',
      '<html>ok</html>',
    ]) {
      assert.deepEqual(
        classifyAnswer(200, text, true),
        { verdict: 'transient', resultCode: null, asStatus: 502 },
        text,
      );
    }
  });
});

describe('sendBatch', () => {
  function batch(rows: number[]): Batch {
    const builder = new BatchBuilder(1000, 1 << 20);
    for (const row of rows) builder.add(row, JSON.stringify([`C${row}`]));
    return builder.finish()!;
  }
  function target(result: LoadResult, rejections: Rejection[], uncertain = false): LoadTarget {
    return {
      kind: 'list',
      stopOnError: false,
      send: async () => ({ result, uncertain, attemptMs: 1 }),
      reject: async (r) => void rejections.push(r),
    };
  }

  test('rejects identified rows by input row number and records the batch of unidentified failures', async () => {
    const rejections: Rejection[] = [];
    const tally = emptyTally();
    const outcome = await sendBatch(
      target(
        {
          result_code: 'PartiallySucceeded',
          number_of_inserted_records: 2,
          number_of_failed_records: 3,
          invalid_records: invalid(1),
        },
        rejections,
      ),
      batch([7, 9, 12, 15, 20]),
      tally,
    );
    assert.equal(outcome, 'continue');
    assert.deepEqual(
      rejections.map((r) => [r.row, r.json]),
      [[9, '["C9"]']],
    );
    assert.deepEqual(
      [tally.loaded, tally.rejected, tally.notApplied, tally.requests, tally.rowsSent],
      [2, 1, { failed_without_detail: 2 }, 1, 5],
    );
    assert.deepEqual(tally.undetailed, [{ batch_rows: 5, first_row: 7, last_row: 20, failed: 2 }]);
  });

  test('an answer that came after a lost attempt marks existing rows outcome_unknown', async () => {
    const tally = emptyTally();
    await sendBatch(
      target({ result_code: 'Succeeded', number_of_duplicate_records: 2 }, [], true),
      batch([1, 2]),
      tally,
    );
    assert.deepEqual([tally.loaded, tally.notApplied], [0, { outcome_unknown: 2 }]);
  });
});
