import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, members, records, selligentEnv, simulator } from '../helpers/sim.ts';

/**
 * An input large enough to be cut into many pieces that worker threads parse in parallel: row numbers,
 * rejected rows, duplicates whose rows land in different pieces (and workers), and inferred types must
 * all come out exactly as one thread reading in order would give them.
 */
const ROWS = 40_000;
const DISTINCT = 30_000;

interface Expected {
  winners: Map<string, { row: number; email: string; score: string; segments: Set<string> }>;
  invalidRows: number[];
}

function generate(strategy: 'ImportLastMatch' | 'ImportFirstMatch'): { text: string; expected: Expected } {
  const lines = ['selligent_segment,customer_identifier,email,note,score'];
  const winners: Expected['winners'] = new Map();
  const invalidRows: number[] = [];
  for (let row = 1; row <= ROWS; row++) {
    // Keys repeat far apart: row r and row r + DISTINCT share a key, so the pair spans many pieces.
    const id = `C${(row - 1) % DISTINCT}`;
    const segment = `seg_${row % 7}`;
    const email = `${id.toLowerCase()}+${row}@example.com`;
    // Quoted values with separators and newlines keep the record boundaries honest.
    const note = row % 11 === 0 ? `"line one\nline two, ""quoted"" ${row}"` : `plain ${row}`;
    const score = String(row % 100);
    if (row % 997 === 0) {
      lines.push(`${segment},,${email},${note},${score}`);
      invalidRows.push(row);
      continue;
    }
    lines.push(`${segment},${id},${email},${note},${score}`);
    const existing = winners.get(id);
    if (!existing) winners.set(id, { row, email, score, segments: new Set([segment]) });
    else {
      existing.segments.add(segment);
      if (strategy === 'ImportLastMatch') Object.assign(existing, { row, email, score });
    }
  }
  return { text: lines.join('\n') + '\n', expected: { winners, invalidRows } };
}

const CASES = [
  { strategy: 'ImportLastMatch', threads: undefined },
  { strategy: 'ImportFirstMatch', threads: undefined },
  { strategy: 'ImportLastMatch', threads: '1' },
  { strategy: 'ImportFirstMatch', threads: '3' },
] as const;

for (const { strategy, threads } of CASES) {
  test(`a many-piece input read by ${threads ?? 'the default number of'} worker thread(s) (${strategy}): same winners, row numbers, rejected rows and types as reading in order`, async () => {
    const sim = await simulator();
    try {
      const dir = tempDir();
      const { text, expected } = generate(strategy);
      assert.ok(text.length > 1_500_000, 'several pieces of 256 KiB');
      const input = writeInput(dir, 'input.csv.gz', gzipSync(text));
      const env = selligentEnv(sim, threads ? { SELLIGENT_EXPORT_READ_THREADS: threads } : {});
      const result = await runCli({
        settings: { ...BASE_SETTINGS, create_list_if_not_exists: true, deduplication: strategy },
        input,
        env,
      });
      assert.equal(result.code, 0, result.stdout + result.stderr);
      assertBalanced(result.report);
      const report = result.report!;
      assert.equal(report.input.rows, ROWS);
      assert.equal(report.validation.skipped_rows, expected.invalidRows.length);
      assert.deepEqual(
        result.rejected.filter((entry) => entry.stage === 'validate').map((entry) => entry.row),
        expected.invalidRows,
        'each invalid row reported once, with its input row number, in input order',
      );
      assert.equal(
        result.rejected.filter((entry) => entry.stage === 'deduplicate').length,
        report.deduplication.merged_duplicates,
        'each row merged away is listed once',
      );
      assert.equal(report.deduplication.unique_keys, expected.winners.size);
      assert.equal(
        report.input.columns.find((column) => column.column === 'score')!.type,
        'long',
        'types inferred over every piece',
      );

      const loaded = new Map(records(sim).map((record) => [String(record.CUSTOMER_IDENTIFIER), record]));
      assert.equal(loaded.size, expected.winners.size);
      for (const [id, winner] of expected.winners) {
        const record = loaded.get(id)!;
        assert.equal(
          record.EMAIL,
          winner.email,
          `${id}: the ${strategy === 'ImportLastMatch' ? 'last' : 'first'} row's values (row ${winner.row})`,
        );
        assert.equal(record.SCORE, Number(winner.score));
      }
      for (let s = 0; s < 7; s++) {
        const wanted = [...expected.winners]
          .filter(([, winner]) => winner.segments.has(`seg_${s}`))
          .map(([id]) => id)
          .sort();
        assert.deepEqual(members(sim, `seg_${s}`), wanted, `seg_${s}: every key any of its rows named`);
      }
    } finally {
      await sim.close();
    }
  });
}
