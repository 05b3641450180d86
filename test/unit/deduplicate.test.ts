import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  deduplicatePartitions,
  MAX_PARTITION_BYTES,
  winnerCells,
  type DeduplicationStrategy,
  type SpooledPartitions,
} from '../../src/pipeline/deduplicate.js';
import { ROWS_PER_PIECE, RowSpool } from '../../src/pipeline/row-spool.js';

/** A deduplicated row with its values decoded. */
interface Winner {
  row: number;
  cells: string[];
  segments: string[];
}

const root = mkdtempSync(join(tmpdir(), 'spool-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

interface InputRow {
  row: number;
  segment: string;
  cells: string[];
}

/** What deduplication must produce, computed the obvious way. */
function expected(rows: InputRow[], keyPositions: number[], strategy: DeduplicationStrategy): Map<string, Winner> {
  const byKey = new Map<string, Winner>();
  for (const { row, segment, cells } of rows) {
    const key = JSON.stringify(keyPositions.map((position) => cells[position]));
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { row, cells, segments: [segment] });
      continue;
    }
    if (!existing.segments.includes(segment)) existing.segments.push(segment);
    if (strategy === 'ImportLastMatch') {
      existing.row = row;
      existing.cells = cells;
    }
  }
  return byKey;
}

async function spoolAndDedupe(
  rows: InputRow[],
  keyPositions: number[],
  strategy: DeduplicationStrategy,
  maxPartitionBytes?: number,
) {
  const dir = mkdtempSync(join(root, 'rows-'));
  const spool = new RowSpool(dir, keyPositions);
  for (const { row, segment, cells } of rows) {
    spool.add(row, segment, cells);
    if (row % 1_000 === 0) await spool.drain();
  }
  await spool.finish();
  assert.equal(spool.rows, rows.length);
  const winners = new Map<string, Winner>();
  let merged = 0;
  let partitions = 0;
  /** Each row merged away, and the row that won its key. */
  const losers = new Map<number, number>();
  const spooled: SpooledPartitions = {
    directory: dir,
    groups: spool.files().map((file) => [file]),
    maxPartitionBytes: maxPartitionBytes ?? MAX_PARTITION_BYTES,
  };
  for await (const partition of deduplicatePartitions(spooled, strategy)) {
    partitions++;
    merged += partition.merged;
    for (const span of partition.winners) {
      const winner = { row: span.row, cells: winnerCells(partition, span), segments: span.segments };
      const key = JSON.stringify(keyPositions.map((position) => winner.cells[position]));
      assert.ok(!winners.has(key), `key ${key} won in two partitions`);
      winners.set(key, winner);
      for (const loser of span.losers ?? []) {
        assert.ok(!losers.has(loser), `row ${loser} merged away twice`);
        losers.set(loser, span.row);
      }
    }
  }
  return { winners, merged, partitions, losers, leftover: readdirSync(dir) };
}

function assertSame(actual: Map<string, Winner>, wanted: Map<string, Winner>): void {
  assert.equal(actual.size, wanted.size);
  for (const [key, winner] of wanted) assert.deepEqual(actual.get(key), winner, `key ${key}`);
}

/** Rows whose keys repeat, first and last occurrences far apart, spread over segments. */
function sampleRows(count: number, distinctKeys: number): InputRow[] {
  return Array.from({ length: count }, (_, i) => {
    const row = i + 1;
    const id = `cust-${(i * 7) % distinctKeys}`;
    return { row, segment: `seg_${row % 5}`, cells: [id, `name ${row}`, `${row}`] };
  });
}

describe('RowSpool and deduplicatePartitions', () => {
  it('ImportLastMatch keeps the last row of each key, across many rows with duplicates far apart', async () => {
    const rows = sampleRows(6_000, 1_500);
    const { winners, merged, leftover } = await spoolAndDedupe(rows, [0], 'ImportLastMatch');
    assertSame(winners, expected(rows, [0], 'ImportLastMatch'));
    assert.equal(merged, 6_000 - 1_500);
    assert.deepEqual(leftover, [], 'partition files are removed once read');
    // cust-0 appears at rows 1, 1501, 3001, 4501.
    assert.equal(winners.get(JSON.stringify(['cust-0']))!.row, 4_501);
    assert.deepEqual(winners.get(JSON.stringify(['cust-0']))!.cells, ['cust-0', 'name 4501', '4501']);
  });

  it('ImportFirstMatch keeps the first row of each key', async () => {
    const rows = sampleRows(2_000, 500);
    const { winners, merged } = await spoolAndDedupe(rows, [0], 'ImportFirstMatch');
    assertSame(winners, expected(rows, [0], 'ImportFirstMatch'));
    assert.equal(merged, 1_500);
    assert.equal(winners.get(JSON.stringify(['cust-0']))!.row, 1);
  });

  it('a duplicate at the very first and the very last row', async () => {
    const rows: InputRow[] = [
      { row: 1, segment: 'first', cells: ['dup', 'v1'] },
      ...Array.from({ length: 1_500 }, (_, i) => ({ row: i + 2, segment: 'middle', cells: [`k${i}`, 'x'] })),
      { row: 1_502, segment: 'last', cells: ['dup', 'v2'] },
    ];
    const last = await spoolAndDedupe(rows, [0], 'ImportLastMatch');
    assert.deepEqual(last.winners.get('["dup"]'), { row: 1_502, cells: ['dup', 'v2'], segments: ['first', 'last'] });
    const first = await spoolAndDedupe(rows, [0], 'ImportFirstMatch');
    assert.deepEqual(first.winners.get('["dup"]'), { row: 1, cells: ['dup', 'v1'], segments: ['first', 'last'] });
    assert.equal(last.merged, 1);
  });

  for (const strategy of ['ImportLastMatch', 'ImportFirstMatch'] as const) {
    it(`${strategy}: names every row merged away and the row that won, also across re-split partitions`, async () => {
      const rows = sampleRows(3_000, 700);
      const { winners, merged, losers, partitions } = await spoolAndDedupe(rows, [0], strategy, 4_096);
      assert.ok(partitions > 16, `the partitions were split again (${partitions})`);
      assert.equal(losers.size, merged);
      const winnerRows = new Set([...winners.values()].map((winner) => winner.row));
      for (const { row, cells } of rows) {
        const won = winners.get(JSON.stringify([cells[0]]))!.row;
        if (row === won) assert.ok(!losers.has(row), `row ${row} won and is not merged away`);
        else assert.equal(losers.get(row), won, `row ${row} merged into the winner of ${cells[0]}`);
      }
      assert.equal(winnerRows.size + losers.size, rows.length);
    });
  }

  it('collects each Segment of a key once, in input order', async () => {
    const rows: InputRow[] = ['b', 'a', 'b', 'c', 'a', 'c', 'b'].map((segment, i) => ({
      row: i + 1,
      segment,
      cells: ['same-key', String(i)],
    }));
    const { winners, merged } = await spoolAndDedupe(rows, [0], 'ImportLastMatch');
    assert.equal(winners.size, 1);
    assert.deepEqual(winners.get('["same-key"]'), { row: 7, cells: ['same-key', '6'], segments: ['b', 'a', 'c'] });
    assert.equal(merged, 6);
  });

  it('composite keys: rows differ when any key value differs', async () => {
    const rows: InputRow[] = [
      { row: 1, segment: 's', cells: ['a', 'ignored', 'x'] },
      { row: 2, segment: 's', cells: ['a', 'ignored', 'y'] },
      { row: 3, segment: 't', cells: ['a', 'other', 'x'] },
      { row: 4, segment: 's', cells: ['b', 'ignored', 'x'] },
      { row: 5, segment: 's', cells: ['a,b', 'z', 'c'] },
      { row: 6, segment: 's', cells: ['a', 'z', 'b,c'] },
      { row: 7, segment: 's', cells: ['', 'z', 'ax'] },
      { row: 8, segment: 's', cells: ['ax', 'z', ''] },
    ];
    const { winners, merged } = await spoolAndDedupe(rows, [0, 2], 'ImportLastMatch');
    assertSame(winners, expected(rows, [0, 2], 'ImportLastMatch'));
    assert.equal(winners.size, 7);
    assert.equal(merged, 1);
    assert.deepEqual(winners.get('["a","x"]'), { row: 3, cells: ['a', 'other', 'x'], segments: ['s', 't'] });
  });

  it('composite keys in a different order than the columns', async () => {
    // Row i has id i*7 mod 251 (251 is prime) and parity i mod 2: they repeat together every 502 rows.
    const rows = sampleRows(1_000, 251).map((input) => ({
      ...input,
      cells: [input.cells[2]!, input.cells[0]!, String(input.row % 2)],
    }));
    const { winners, merged } = await spoolAndDedupe(rows, [2, 1], 'ImportFirstMatch');
    assertSame(winners, expected(rows, [2, 1], 'ImportFirstMatch'));
    assert.equal(winners.size, 502);
    assert.equal(merged, 498);
  });

  it('keys are exact: case and spaces matter', async () => {
    const rows: InputRow[] = ['Key', 'key', 'key ', ' key', 'key'].map((id, i) => ({
      row: i + 1,
      segment: 's',
      cells: [id],
    }));
    const { winners, merged } = await spoolAndDedupe(rows, [0], 'ImportLastMatch');
    assert.equal(winners.size, 4);
    assert.equal(merged, 1);
  });

  it('values with newlines, quotes, backslashes and unicode round-trip', async () => {
    const values = [
      'line1\nline2',
      'cr\r\nlf',
      'say "hi"',
      'back\\slash',
      '日本語',
      '😀 emoji',
      'sep\u2028arator',
      'tab\tstop',
      '',
      '[1,"x"]',
      '\u0001',
    ];
    const rows: InputRow[] = values.map((value, i) => ({
      row: i + 1,
      segment: `seg_${i}`,
      cells: [value === '' ? 'empty' : value, value, `{"k":"${value}"}`],
    }));
    const { winners } = await spoolAndDedupe(rows, [0], 'ImportLastMatch');
    assertSame(winners, expected(rows, [0], 'ImportLastMatch'));
    assert.deepEqual(winners.get(JSON.stringify(['line1\nline2']))!.cells, [
      'line1\nline2',
      'line1\nline2',
      '{"k":"line1\nline2"}',
    ]);
  });

  it('a tiny maxPartitionBytes forces the re-partition path and gives the same result', async () => {
    const rows = sampleRows(600, 150);
    for (const strategy of ['ImportLastMatch', 'ImportFirstMatch'] as const) {
      const { winners, merged, partitions, leftover } = await spoolAndDedupe(rows, [0], strategy, 600);
      assertSame(winners, expected(rows, [0], strategy));
      assert.equal(merged, 450);
      assert.ok(partitions > 64, `re-partitioned into ${partitions} pieces`);
      assert.deepEqual(leftover, [], 'every partition and sub-partition file is removed');
    }
  });

  it('one key repeated beyond any split still deduplicates (the split depth is bounded)', async () => {
    const rows: InputRow[] = Array.from({ length: 500 }, (_, i) => ({
      row: i + 1,
      segment: `s${i % 3}`,
      cells: ['only', `v${i}`],
    }));
    const { winners, merged } = await spoolAndDedupe(rows, [0], 'ImportLastMatch', 64);
    assert.deepEqual([...winners.values()], [{ row: 500, cells: ['only', 'v499'], segments: ['s0', 's1', 's2'] }]);
    assert.equal(merged, 499);
  });

  describe('several writers, rows spooled by piece position', () => {
    /**
     * Pieces of `pieceRows` rows go round-robin to `writers` spools (as the read workers do), each row
     * spooled by its position; deduplicating the groups must give what one spool in row order gives.
     */
    async function spoolByPieces(
      rows: InputRow[],
      writers: number,
      pieceRows: number,
      strategy: DeduplicationStrategy,
      maxPartitionBytes?: number,
    ) {
      const dir = mkdtempSync(join(root, 'pieces-'));
      const spools = Array.from({ length: writers }, (_, w) => new RowSpool(dir, [0], 64, `rows-w${w}`));
      const rowBases: number[] = [];
      for (let seq = 0; seq * pieceRows < rows.length; seq++) {
        const piece = rows.slice(seq * pieceRows, (seq + 1) * pieceRows);
        rowBases[seq] = seq * pieceRows;
        piece.forEach(({ segment, cells }, index) =>
          spools[seq % writers]!.add(seq * ROWS_PER_PIECE + index, segment, cells),
        );
      }
      for (const spool of spools) await spool.finish();
      const spooled: SpooledPartitions = {
        directory: dir,
        groups: spools[0]!.files().map((_, p) => spools.map((spool) => spool.files()[p]!)),
        maxPartitionBytes: maxPartitionBytes ?? 24 * 1024 * 1024,
        rowBases,
      };
      const winners = new Map<string, Winner>();
      let merged = 0;
      for await (const partition of deduplicatePartitions(spooled, strategy)) {
        merged += partition.merged;
        for (const span of partition.winners) {
          const winner = { row: span.row, cells: winnerCells(partition, span), segments: [...span.segments].sort() };
          winners.set(JSON.stringify([winner.cells[0]]), winner);
        }
      }
      return { winners, merged, leftover: readdirSync(dir) };
    }

    function sortedSegments(map: Map<string, Winner>): Map<string, Winner> {
      return new Map([...map].map(([key, winner]) => [key, { ...winner, segments: [...winner.segments].sort() }]));
    }

    for (const strategy of ['ImportLastMatch', 'ImportFirstMatch'] as const) {
      it(`${strategy}: the winner is chosen by input order across writers, and row numbers are restored`, async () => {
        // 3 writers, pieces of 7 rows: a key's rows are spread over pieces held by different writers.
        const rows = sampleRows(2_000, 300);
        const { winners, merged, leftover } = await spoolByPieces(rows, 3, 7, strategy);
        assertSame(winners, sortedSegments(expected(rows, [0], strategy)));
        assert.equal(merged, 1_700);
        assert.deepEqual(leftover, []);
      });

      it(`${strategy}: the same through the re-partition path`, async () => {
        const rows = sampleRows(1_000, 120);
        const { winners, leftover } = await spoolByPieces(rows, 2, 13, strategy, 500);
        assertSame(winners, sortedSegments(expected(rows, [0], strategy)));
        assert.deepEqual(leftover, []);
      });
    }
  });

  it('rows far larger than a write buffer, between small ones, come back whole and in order', async () => {
    const big = (i: number) => `${'é'.repeat(40_000)}-${i}-${'x'.repeat(150_000)}`;
    const rows: InputRow[] = Array.from({ length: 40 }, (_, i) => ({
      row: i + 1,
      segment: 's',
      cells: [`k${i % 25}`, i % 3 === 0 ? big(i) : `small ${i}`],
    }));
    for (const strategy of ['ImportLastMatch', 'ImportFirstMatch'] as const) {
      const { winners, leftover } = await spoolAndDedupe(rows, [0], strategy);
      assertSame(winners, expected(rows, [0], strategy));
      assert.deepEqual(leftover, []);
    }
  });

  it('an empty spool yields no winners', async () => {
    const { winners, merged } = await spoolAndDedupe([], [0], 'ImportLastMatch');
    assert.equal(winners.size, 0);
    assert.equal(merged, 0);
  });
});
