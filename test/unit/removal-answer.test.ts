import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accountAnswer } from '../../src/pipeline/send-batches.js';
import { removalAsLoad } from '../../src/pipeline/removal-answer.js';

const CONTEXT = { kind: 'segment' as const, stopOnError: false, uncertain: false };

describe('removalAsLoad', () => {
  it('accounts removed members as applied and non-members as not found', () => {
    const answer = removalAsLoad({
      result: { result_code: 'Succeeded', number_of_deleted_records: 8, number_of_records_not_found: 2 },
      uncertain: false,
      attemptMs: 5,
    });
    const account = accountAnswer(answer.result, 10, CONTEXT);
    assert.equal(account.loaded, 8);
    assert.deepEqual(account.notApplied, { not_found: 2 });
  });

  it('without the conversion the same answer would count nothing as applied', () => {
    const account = accountAnswer(
      { result_code: 'Succeeded', number_of_deleted_records: 8, number_of_records_not_found: 2 },
      10,
      CONTEXT,
    );
    assert.equal(account.loaded, 0);
  });

  it('failed rows stay failed, and a removal answer carrying insert counters is not trusted beyond its deletions', () => {
    const answer = removalAsLoad({
      result: {
        result_code: 'PartiallySucceeded',
        number_of_deleted_records: 3,
        number_of_inserted_records: 99,
        number_of_failed_records: 2,
        invalid_records: [{ record_index: 4, message: 'bad' }],
      },
      uncertain: false,
      attemptMs: 1,
    });
    const account = accountAnswer(answer.result, 5, CONTEXT);
    assert.equal(account.loaded, 3);
    assert.deepEqual(account.notApplied, { failed_without_detail: 1 });
    assert.equal(account.invalid.length, 1);
  });
});
