import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchCases } from '../../scripts/bench/cases.ts';
import { parseOptions } from '../../scripts/bench/options.ts';

test('a plain invocation has one unnamed case with the options as given', () => {
  const p = parseOptions(['--rows', '1000']);
  const cases = benchCases(p, true);
  assert.deepEqual(
    cases.map((c) => [c.name, c.params, c.settings]),
    [[null, p, {}]],
  );
});

test('--realistic: fixed Segment batches (the maximum at the batch size), then adaptive ones with the options as given', () => {
  const p = parseOptions(['--realistic', '--batch-rows', '2000']);
  const [fixed, adaptive, ...more] = benchCases(p, true);
  assert.equal(more.length, 0);
  assert.deepEqual(
    [fixed?.name, fixed?.params.segmentBatchRowsMax, fixed?.tag],
    ['fixed', 2000, { segmentBatches: 'fixed' }],
  );
  assert.deepEqual([adaptive?.name, adaptive?.params, adaptive?.tag], ['adaptive', p, { segmentBatches: 'adaptive' }]);
});

test('--realistic with a build that has no segment_batch_rows_max: the fixed case alone, without the setting', () => {
  const p = parseOptions(['--realistic']);
  const cases = benchCases(p, false);
  assert.deepEqual(
    cases.map((c) => [c.name, c.params.segmentBatchRowsMax]),
    [['fixed', undefined]],
  );
});

test('--as-image: off by default, on when given', () => {
  assert.equal(parseOptions([]).asImage, false);
  assert.equal(parseOptions(['--as-image']).asImage, true);
});
