import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdaptiveBatchSize } from '../../src/pipeline/adaptive-batch.ts';

const options = { initialRows: 5_000, maxRows: 50_000, targetMs: 5_000 };

test('grows by doubling while full requests answer in under half the target, up to the maximum', () => {
  const size = new AdaptiveBatchSize(options);
  const seen: number[] = [];
  for (let i = 0; i < 6; i++) {
    seen.push(size.rows);
    size.observe({ kind: 'answered', rows: size.rows, elapsedMs: 1_000 });
  }
  assert.deepEqual(seen, [5_000, 10_000, 20_000, 40_000, 50_000, 50_000]);
  assert.deepEqual(size.figures(), { initial: 5_000, smallest: 5_000, largest: 50_000, final: 50_000 });
  assert.deepEqual(new AdaptiveBatchSize(options).figures(), {
    initial: 5_000,
    smallest: null,
    largest: null,
    final: 5_000,
  });
});

test('holds between half the target and the target', () => {
  const size = new AdaptiveBatchSize(options);
  size.observe({ kind: 'answered', rows: 5_000, elapsedMs: 2_500 });
  size.observe({ kind: 'answered', rows: 5_000, elapsedMs: 5_000 });
  assert.equal(size.rows, 5_000);
});

test('a short last batch answered quickly does not grow the size', () => {
  const size = new AdaptiveBatchSize(options);
  size.observe({ kind: 'answered', rows: 12, elapsedMs: 10 });
  assert.equal(size.rows, 5_000);
});

test('an answer for a batch built one step earlier, at half the current size, still grows it', () => {
  const size = new AdaptiveBatchSize(options);
  size.observe({ kind: 'answered', rows: 5_000, elapsedMs: 100 });
  size.observe({ kind: 'answered', rows: 5_000, elapsedMs: 100 });
  assert.equal(size.rows, 20_000);
});

test('two slow answers in a row for batches of the same size halve once', () => {
  const size = new AdaptiveBatchSize({ ...options, initialRows: 40_000 });
  size.observe({ kind: 'answered', rows: 40_000, elapsedMs: 9_000 });
  size.observe({ kind: 'answered', rows: 40_000, elapsedMs: 9_000 });
  assert.equal(size.rows, 20_000);
});

test('halves after a slow answer and after a refusal as too large, never below one row', () => {
  const size = new AdaptiveBatchSize({ ...options, initialRows: 40_000 });
  size.observe({ kind: 'answered', rows: 40_000, elapsedMs: 9_000 });
  assert.equal(size.rows, 20_000);
  size.observe({ kind: 'too-large', rows: 20_000 });
  assert.equal(size.rows, 10_000);
  for (let i = 0; i < 20; i++) size.observe({ kind: 'too-large', rows: size.rows });
  assert.equal(size.rows, 1);
  assert.equal(size.figures().smallest, 1);
});

test('a refusal of a batch smaller than the current size shrinks below that batch', () => {
  const size = new AdaptiveBatchSize({ ...options, initialRows: 40_000 });
  size.observe({ kind: 'too-large', rows: 8_000 });
  assert.equal(size.rows, 4_000);
});

test('the initial size never exceeds the maximum', () => {
  const size = new AdaptiveBatchSize({ initialRows: 10_000, maxRows: 2_000, targetMs: 5_000 });
  assert.equal(size.rows, 2_000);
  assert.equal(size.figures().initial, 2_000);
});

test('with the maximum equal to the initial size the batches stay fixed', () => {
  const size = new AdaptiveBatchSize({ initialRows: 5_000, maxRows: 5_000, targetMs: 5_000 });
  for (let i = 0; i < 5; i++) size.observe({ kind: 'answered', rows: 5_000, elapsedMs: 1 });
  assert.equal(size.rows, 5_000);
});

test('after a refusal as too large, fast answers never grow the size back to the refused size', () => {
  const size = new AdaptiveBatchSize({ ...options, initialRows: 20_000 });
  size.observe({ kind: 'too-large', rows: 20_000 });
  for (let i = 0; i < 5; i++) size.observe({ kind: 'answered', rows: size.rows, elapsedMs: 10 });
  assert.equal(size.rows, 10_000);
});
