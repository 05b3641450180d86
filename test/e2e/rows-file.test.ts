/**
 * The rows file lists every input row that was not loaded, with its fate: skipped by validation, merged
 * away as a duplicate (naming the row that won), rejected by Selligent, or not applied. Every input row
 * is then either in the List or in the file, exactly once, and the file's lines match the accounting.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, records, seededList, selligentEnv, simulator } from '../helpers/sim.ts';
import type { FaultRule, FaultStatus } from '../../src/simulator/index.ts';

const HEADER = 'selligent_segment,customer_identifier,email,first_name';

function answer(body: unknown, extra: Partial<FaultRule>): FaultRule {
  return {
    route: 'loadList',
    status: 200 as FaultStatus,
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
    ...extra,
  };
}

/** 30 rows over 12 keys (so 17 merged away), one blank key (skipped), one name too long for its field. */
function inputRows(): string[] {
  const rows: string[] = [];
  for (let i = 1; i <= 30; i++) {
    const key = i === 7 ? '' : `C${((i * 5) % 12) + 1}`;
    const name = i === 11 ? 'x'.repeat(150) : `Name${i}`;
    rows.push(`seg_${i % 2 ? 'a' : 'b'},${key},row${i}@example.com,${name}`);
  }
  return rows;
}

interface Line {
  row: number;
  stage: string;
  code: string;
  winner?: number;
  key: Record<string, string> | null;
}

describe('the rows file', () => {
  test('every input row is loaded or listed once with its fate: skipped, merged (with its winner), rejected, not applied', async () => {
    const sim = await simulator({ seed: seededList() });
    try {
      // The first List request: one row named invalid, the other failed without detail; the third:
      // counters that account for no row (unknown). Nothing of either was loaded.
      sim.faults.add(
        answer(
          {
            result_code: 'Failed',
            number_of_failed_records: 2,
            invalid_records: [
              { record_index: 0, field_name: 'EMAIL', validation_code: 'InvalidEmail', message: 'not an address' },
            ],
          },
          { times: 1 },
        ),
      );
      sim.faults.add(answer({ result_code: 'Succeeded' }, { afterCalls: 2, times: 1 }));
      const dir = tempDir();
      const rows = inputRows();
      const input = writeInput(dir, 'input.csv', [HEADER, ...rows].join('\n') + '\n');
      const result = await runCli({
        settings: { ...BASE_SETTINGS, batch_rows: 2 },
        input,
        dir,
        env: selligentEnv(sim),
      });
      const report = result.report!;
      assert.equal(result.code, 0, result.stderr);
      assertBalanced(report);
      const a = report.accounting!;
      const lines = result.rejected as unknown as Line[];

      const listRows = lines.filter((line) => line.stage !== 'segment-load');
      const byRow = new Map<number, Line>();
      for (const line of listRows) {
        assert.ok(!byRow.has(line.row), `row ${line.row} is listed twice:\n${result.rejectedText}`);
        byRow.set(line.row, line);
      }
      const loaded = new Map(records(sim).map((record) => [String(record.EMAIL), record]));
      for (let row = 1; row <= rows.length; row++) {
        const email = `row${row}@example.com`;
        const line = byRow.get(row);
        if (line) assert.ok(!loaded.has(email), `row ${row} is both loaded and listed (${line.code})`);
        else assert.ok(loaded.has(email), `row ${row} is neither loaded nor in the rows file:\n${result.rejectedText}`);
      }

      const stages = (stage: string) => listRows.filter((line) => line.stage === stage);
      assert.equal(stages('validate').length, a.skipped);
      assert.equal(a.skipped, 1);
      const merged = stages('deduplicate');
      assert.equal(merged.length, a.merged_duplicates);
      assert.equal(merged.length, 17);
      const keyOf = (row: number) => rows[row - 1]!.split(',')[1];
      for (const line of merged) {
        assert.equal(line.code, 'MergedDuplicate');
        assert.ok(
          line.winner !== undefined && line.winner > line.row,
          `ImportLastMatch: a later row won: ${JSON.stringify(line)}`,
        );
        assert.equal(keyOf(line.winner), keyOf(line.row));
        assert.deepEqual(line.key, { CUSTOMER_IDENTIFIER: keyOf(line.row) });
        const winner = byRow.get(line.winner);
        assert.ok(!winner || winner.stage === 'list-load', `the winner of row ${line.row} was loaded or is listed`);
      }
      const listLoad = stages('list-load');
      assert.equal(listLoad.length, a.rejected + a.not_applied);
      const codes = new Set(listLoad.map((line) => line.code));
      for (const code of ['InvalidEmail', 'failed_without_detail', 'unknown'])
        assert.ok(codes.has(code), `a list-load line with ${code}:\n${result.rejectedText}`);
      assert.equal(
        listLoad.filter((line) => ['failed_without_detail', 'unknown'].includes(line.code)).length,
        a.not_applied,
      );

      assert.equal(report.rejected_rows.count, lines.length);
      const byStage: Record<string, number> = {};
      for (const line of lines) byStage[line.stage] = (byStage[line.stage] ?? 0) + 1;
      assert.deepEqual(report.rejected_rows.by_stage, byStage);
      // The summary line and the skipped-rows warning say where the file is.
      const file = report.rejected_rows.file!;
      const output = result.stdout + result.stderr;
      assert.ok(output.includes(`rows not loaded listed in ${file} (${lines.length} lines)`), output.slice(-3000));
      assert.match(output, new RegExp(`1 invalid row\\(s\\) skipped; each is listed in the rows file ${file}`));
    } finally {
      await sim.close();
    }
  });
});
