import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BatchBuilder, rowJson, splitBatch, type Batch } from '../../src/pipeline/batches.js';

const batchBody = (batch: Batch): Buffer => batch.body;
const rowsJson = (batch: Batch): string[] => batch.rows.map((_, i) => rowJson(batch, i));

/** Feeds every row through a builder and collects the batches, the last partial one included. */
function build(rows: string[], maxRows: number, maxBytes: number): Batch[] {
  const builder = new BatchBuilder(maxRows, maxBytes);
  const batches: Batch[] = [];
  rows.forEach((json, i) => {
    const full = builder.add(i + 1, json);
    if (full) batches.push(full);
  });
  const last = builder.finish();
  if (last) batches.push(last);
  return batches;
}

function assertExact(batch: Batch): void {
  assert.equal(batch.rows.length, batch.starts.length);
  // The body is moved to another thread whole: it must not share memory with anything else.
  assert.equal(batch.body.byteOffset, 0);
  assert.equal(batch.body.byteLength, batch.body.buffer.byteLength, 'the body owns its whole ArrayBuffer');
  assert.deepEqual(
    rowsJson(batch).map((json) => JSON.parse(json) as unknown),
    JSON.parse(batch.body.toString()) as unknown[],
    'each row offset points at that row of the body',
  );
}

function assertOrderKept(batches: Batch[], count: number): void {
  assert.deepEqual(
    batches.flatMap((batch) => batch.rows),
    Array.from({ length: count }, (_, i) => i + 1),
  );
}

const row = (...values: unknown[]) => JSON.stringify(values);

describe('BatchBuilder', () => {
  it('caps rows per batch', () => {
    const rows = Array.from({ length: 10 }, (_, i) => row(i));
    const batches = build(rows, 3, 1_000_000);
    assert.deepEqual(
      batches.map((batch) => batch.rows.length),
      [3, 3, 3, 1],
    );
    batches.forEach(assertExact);
    assertOrderKept(batches, 10);
  });

  it('returns a batch as soon as it reaches the row cap', () => {
    const builder = new BatchBuilder(2, 1_000_000);
    assert.equal(builder.add(1, row('a')), undefined);
    const full = builder.add(2, row('b'));
    assert.deepEqual(full?.rows, [1, 2]);
    assert.equal(builder.finish(), undefined, 'nothing left over');
  });

  it('an exact multiple of the row cap leaves no partial batch', () => {
    const batches = build(
      Array.from({ length: 6 }, (_, i) => row(i)),
      3,
      1_000_000,
    );
    assert.deepEqual(
      batches.map((batch) => batch.rows.length),
      [3, 3],
    );
  });

  it('one row per batch', () => {
    const batches = build([row(1), row(2), row(3)], 1, 1_000_000);
    assert.deepEqual(
      batches.map((batch) => batch.rows),
      [[1], [2], [3]],
    );
  });

  it('caps the body size, counting exact bytes', () => {
    const rows = Array.from({ length: 50 }, (_, i) => row(`value-${i}`, i));
    for (const maxBytes of [40, 64, 100, 257, 1_000]) {
      const batches = build(rows, 1_000, maxBytes);
      for (const batch of batches) {
        assertExact(batch);
        if (batch.rows.length > 1) assert.ok(batch.body.length <= maxBytes, `${batch.body.length} > ${maxBytes}`);
      }
      assertOrderKept(batches, rows.length);
    }
  });

  it('fills a batch up to exactly the byte cap', () => {
    // Each row '["x"]' is 5 bytes; a body of n rows is 5n + n + 1 bytes: 3 rows = 19.
    const rows = Array.from({ length: 7 }, () => row('x'));
    const batches = build(rows, 1_000, 19);
    assert.deepEqual(
      batches.map((batch) => batch.rows.length),
      [3, 3, 1],
    );
    assert.equal(batches[0]!.body.length, 19);
    const tighter = build(rows, 1_000, 18);
    assert.deepEqual(
      tighter.map((batch) => batch.rows.length),
      [2, 2, 2, 1],
    );
  });

  it('counts multi-byte text in bytes, not characters', () => {
    const rows = [row('日本語テキスト'), row('é'.repeat(20)), row('😀😀😀'), row('plain'), row('Ω≈ç√∫')];
    for (const maxBytes of [30, 50, 80]) {
      const batches = build(rows, 100, maxBytes);
      for (const batch of batches) {
        assertExact(batch);
        if (batch.rows.length > 1) assert.ok(batchBody(batch).length <= maxBytes);
      }
      assertOrderKept(batches, rows.length);
    }
    const [single] = build([row('日本')], 10, 1_000);
    assert.equal(single!.body.length, Buffer.byteLength('[["日本"]]'));
  });

  it('puts a row larger than the byte cap alone in its batch', () => {
    const big = row('x'.repeat(500));
    const batches = build([row('a'), row('b'), big, row('c')], 100, 100);
    assert.deepEqual(
      batches.map((batch) => batch.rows),
      [[1, 2], [3], [4]],
    );
    assert.ok(batches[1]!.body.length > 100);
    batches.forEach(assertExact);
  });

  it('a first row larger than the cap, then small rows', () => {
    const batches = build([row('y'.repeat(300)), row('a'), row('b')], 100, 50);
    assert.deepEqual(
      batches.map((batch) => batch.rows),
      [[1], [2, 3]],
    );
  });

  it('escaped JSON (quotes, newlines, backslashes) is measured as sent', () => {
    const rows = [row('a "quoted"\nline\\x'), row('tab\there'), row('\u0001ctl')];
    const batches = build(rows, 100, 1_000);
    assert.equal(batches.length, 1);
    assertExact(batches[0]!);
    assert.deepEqual(JSON.parse(batchBody(batches[0]!).toString()), [
      ['a "quoted"\nline\\x'],
      ['tab\there'],
      ['\u0001ctl'],
    ]);
  });

  it('the body is a JSON array of the rows', () => {
    const [batch] = build([row('a', 1, null), row('b', 2.5, true)], 10, 1_000);
    assert.equal(batchBody(batch!).toString(), '[["a",1,null],["b",2.5,true]]');
  });

  it('finish on an empty builder gives nothing; the builder is reusable', () => {
    const builder = new BatchBuilder(5, 1_000);
    assert.equal(builder.finish(), undefined);
    builder.add(7, row('x'));
    assert.deepEqual(builder.finish()?.rows, [7]);
    assert.equal(builder.finish(), undefined);
  });

  it('many rows against both caps at once', () => {
    let seed = 1;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const rows = Array.from({ length: 2_000 }, (_, i) =>
      row(i, 'ü'.repeat(Math.floor(random() * 60)), 'x'.repeat(Math.floor(random() * 40))),
    );
    const batches = build(rows, 37, 1_500);
    for (const batch of batches) {
      assertExact(batch);
      assert.ok(batch.rows.length <= 37);
      if (batch.rows.length > 1) assert.ok(batch.body.length <= 1_500);
    }
    assertOrderKept(batches, rows.length);
  });
});

describe('splitBatch', () => {
  it('splits into halves, the first taking the odd row, bytes exact', () => {
    const [batch] = build(
      Array.from({ length: 5 }, (_, i) => row(`r${i}`, 'é'.repeat(i))),
      10,
      10_000,
    );
    const [first, second] = splitBatch(batch!);
    assert.deepEqual(first.rows, [1, 2, 3]);
    assert.deepEqual(second.rows, [4, 5]);
    assert.deepEqual([...rowsJson(first), ...rowsJson(second)], rowsJson(batch!));
    assertExact(first);
    assertExact(second);
  });

  it('two rows split into one each', () => {
    const [batch] = build([row('a'), row('bb')], 10, 10_000);
    const [first, second] = splitBatch(batch!);
    assert.deepEqual([first.rows, second.rows], [[1], [2]]);
    assertExact(first);
    assertExact(second);
  });

  it('repeated splitting reaches single rows, each exact', () => {
    const [batch] = build(
      Array.from({ length: 13 }, (_, i) => row(i, '日'.repeat(i))),
      100,
      100_000,
    );
    const pending = [batch!];
    const singles: Batch[] = [];
    while (pending.length > 0) {
      const next = pending.shift()!;
      assertExact(next);
      if (next.rows.length === 1) singles.push(next);
      else pending.unshift(...splitBatch(next));
    }
    assert.deepEqual(
      singles.map((single) => single.rows[0]),
      Array.from({ length: 13 }, (_, i) => i + 1),
    );
  });

  it('does not change the batch it splits', () => {
    const [batch] = build([row(1), row(2), row(3)], 10, 1_000);
    const copy = { rows: [...batch!.rows], body: Buffer.from(batch!.body), starts: batch!.starts.slice() };
    splitBatch(batch!);
    assert.deepEqual(batch, copy);
  });
});
