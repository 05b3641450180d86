import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Column, ColumnPlan } from '../../src/pipeline/columns.js';
import { RowEncoder } from '../../src/pipeline/list-batches.js';
import { convertValue, type ColumnType } from '../../src/schema/types.js';

function planOf(types: ColumnType[], keyPositions: number[]): ColumnPlan {
  const fields: Column[] = types.map((type, i) => ({ index: i, name: `c${i}`, field: `C${i}`, type, sendType: type }));
  return {
    fields,
    keys: keyPositions.map((position) => fields[position]!),
    keyPositions,
    segmentIndex: types.length,
    segmentColumn: 'seg',
    width: types.length + 1,
    typesFrom: 'schema-file',
    inferred: undefined,
  };
}

/** The obvious serialization the encoder must reproduce byte for byte. */
function reference(cells: string[], types: ColumnType[]): string | { field: string } {
  const out: string[] = [];
  for (let i = 0; i < cells.length; i++) {
    if (cells[i] === '') {
      out.push('null');
      continue;
    }
    const converted = convertValue(cells[i]!, types[i]!);
    if (!converted.ok) return { field: `C${i}` };
    out.push(converted.json);
  }
  return `[${out.join(',')}]`;
}

/** Encodes `cells` as spooled (a JSON array of strings) placed inside other bytes, as in a partition file. */
function encode(cells: string[], types: ColumnType[], keyPositions: number[] = [0]) {
  const encoder = new RowEncoder(planOf(types, keyPositions));
  const spooled = JSON.stringify(cells);
  const data = Buffer.from(`"k"\t1\tseg\t${spooled}\n"other"\t2\tseg\t["x"]`);
  const start = data.indexOf('[');
  const failure = encoder.encode(data, start, start + Buffer.byteLength(spooled));
  return { failure, row: encoder.row.toString('utf8', 0, encoder.rowLength), key: encoder.keyJson() };
}

describe('RowEncoder', () => {
  it('sends text values exactly as spooled, empty values as null', () => {
    const cells = ['a', '', 'say "hi"', 'back\\slash', 'line\nbreak', '日本語 😀', '\u0001', 'tab\there'];
    const types = cells.map((): ColumnType => 'string');
    const { failure, row } = encode(cells, types);
    assert.equal(failure, undefined);
    assert.equal(row, reference(cells, types));
    assert.deepEqual(JSON.parse(row), [
      'a',
      null,
      'say "hi"',
      'back\\slash',
      'line\nbreak',
      '日本語 😀',
      '\u0001',
      'tab\there',
    ]);
  });

  it('converts typed values as the type conversion does, escaped text included', () => {
    const types: ColumnType[] = ['string', 'long', 'double', 'boolean', 'timestamp', 'long', 'double'];
    const cases = [
      ['id-1', '42', '3.5', 'true', '2026-05-01 10:15:00', '-9223372036854775808', '1e3'],
      ['id-2', ' 007 ', '-0.25', 'FALSE', '2026-05-01T10:15:00Z', '', ''],
      ['id-"3"', '9007199254740993', '12', '1', '2026-05-01', '0', '.5'],
    ];
    for (const cells of cases) {
      const { failure, row } = encode(cells, types);
      assert.equal(failure, undefined, JSON.stringify(cells));
      assert.equal(row, reference(cells, types), JSON.stringify(cells));
    }
  });

  it('names the first value that does not convert, and gives no key when a key value fails', () => {
    const types: ColumnType[] = ['long', 'string', 'double'];
    const bad = encode(['12', 'x', 'abc'], types);
    assert.deepEqual(bad.failure?.field, 'C2');
    assert.equal(bad.key, '[12]', 'the key converts, so the Segment member can still be loaded');
    const badKey = encode(['1.5', 'x', '2'], types);
    assert.equal(badKey.failure?.field, 'C0');
    assert.equal(badKey.key, undefined);
  });

  it('builds the key array from the key positions, in key order', () => {
    const types: ColumnType[] = ['string', 'long', 'string'];
    const { key } = encode(['a"b', '7', ''], types, [2, 0, 1]);
    assert.equal(key, '[null,"a\\"b",7]');
  });

  it('handles values longer than its buffer', () => {
    const big = 'é'.repeat(50_000) + '"\\' + 'x'.repeat(40_000);
    const { row } = encode([big, big], ['string', 'string']);
    assert.deepEqual(JSON.parse(row), [big, big]);
  });

  it('agrees with the reference on many random rows', () => {
    let seed = 7;
    const random = () => (seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647;
    const alphabet = ['a', 'Z', '0', '9', ' ', '"', '\\', '\n', '\t', 'é', '日', '😀', '.', '-', 'e', '\u0000'];
    const types: ColumnType[] = ['string', 'long', 'double', 'boolean', 'string'];
    for (let n = 0; n < 2_000; n++) {
      const cells = types.map(() =>
        Array.from({ length: Math.floor(random() * 6) }, () => alphabet[Math.floor(random() * alphabet.length)]).join(
          '',
        ),
      );
      const { failure, row } = encode(cells, types);
      const wanted = reference(cells, types);
      if (typeof wanted === 'string') assert.equal(row, wanted, JSON.stringify(cells));
      else assert.equal(failure?.field, wanted.field, JSON.stringify(cells));
    }
  });
});
