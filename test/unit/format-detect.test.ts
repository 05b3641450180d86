import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { InputError } from '../../src/errors.js';
import { formatFor } from '../../src/source/format-detect.js';

describe('formatFor', () => {
  for (const [uri, format] of [
    ['s3://b/part-0.csv', 'csv'],
    ['s3://b/part-0.csv.gz', 'csv'],
    ['s3://b/part-0', 'csv'],
    ['s3://b/part-0.gz', 'csv'],
    ['file:///x/result.TSV', 'tsv'],
    ['file:///x/result.tsv.gz', 'tsv'],
    ['file:///x/result.tab', 'tsv'],
    ['file:///x/result.jsonl', 'jsonl'],
    ['file:///x/result.ndjson.gzip', 'jsonl'],
    ['file:///x/result.json', 'jsonl'],
    ['file:///x/result.JSONL.GZ', 'jsonl'],
    ['file:///x/tsv/result.csv', 'csv'],
  ]) {
    it(`${uri} -> ${format}`, () => assert.equal(formatFor(uri!), format));
  }

  it('an explicit format wins, in any case', () => {
    assert.equal(formatFor('s3://b/x.csv', 'tsv'), 'tsv');
    assert.equal(formatFor('s3://b/x.tsv', 'CSV'), 'csv');
    assert.equal(formatFor('s3://b/x', 'JsonL'), 'jsonl');
  });

  it('an unknown explicit format: INPUT_FORMAT_INVALID', () => {
    assert.throws(
      () => formatFor('s3://b/x.csv', 'parquet'),
      (error: InputError) => {
        assert.equal(error.code, 'INPUT_FORMAT_INVALID');
        assert.equal(error.message, '--format: expected one of csv, tsv, jsonl, got "parquet"');
        return true;
      },
    );
  });
});
