/**
 * Memory bounds end to end, through the built CLI with its default heap cap: inputs that once ran a
 * thread out of memory must end in a report that accounts for every row.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { assertBalanced, runCli, tempDir } from '../helpers/cli.ts';
import { BASE_SETTINGS, records, selligentEnv, simulator } from '../helpers/sim.ts';

const HEADER = 'selligent_segment,customer_identifier,email,first_name';
const MB = 1_000_000;

/** Writes the lines to a file a piece at a time (a 50 MB value is never one string here). */
async function writeLines(
  path: string,
  lines: Array<string | { repeat: string; bytes: number; prefix: string; suffix: string }>,
): Promise<void> {
  const out = createWriteStream(path);
  for (const line of lines) {
    if (typeof line === 'string') out.write(`${line}\n`);
    else {
      out.write(line.prefix);
      const unit = line.repeat.repeat(Math.ceil(MB / line.repeat.length));
      for (let left = line.bytes; left > 0; left -= unit.length)
        if (!out.write(left >= unit.length ? unit : unit.slice(0, left))) await once(out, 'drain');
      out.write(`${line.suffix}\n`);
    }
  }
  out.end();
  await once(out, 'close');
}

describe('memory bounds', () => {
  test('values of 15, 20 and 50 MB (plain and quoted): each row skipped as larger than max_field_bytes, the rest load, no thread runs out of memory', async () => {
    const sim = await simulator();
    try {
      const dir = tempDir();
      const input = join(dir, 'input.csv');
      await writeLines(input, [
        HEADER,
        'seg_a,C1,a@example.com,Alice',
        { prefix: 'seg_a,C2,b@example.com,', repeat: 'x', bytes: 15 * MB, suffix: '' },
        { prefix: 'seg_a,C3,c@example.com,"', repeat: 'y, ""z""\n', bytes: 9 * 2_000_000, suffix: '"' },
        'seg_b,C4,d@example.com,Dan',
        { prefix: 'seg_b,C5,e@example.com,', repeat: 'w', bytes: 50 * MB, suffix: '' },
        'seg_b,C6,f@example.com,Fay',
      ]);
      const result = await runCli({
        settings: { ...BASE_SETTINGS, create_list_if_not_exists: true },
        input,
        dir,
        env: selligentEnv(sim),
        timeoutMs: 180_000,
      });
      const last = result.stdout.trim().split('\n').at(-1);
      assert.equal(result.code, 0, `${last}\n${result.stderr.slice(-2000)}`);
      assertBalanced(result.report);
      assert.deepEqual(
        result.rejected.map((entry) => [entry.row, entry.stage, entry.code]),
        [
          [2, 'validate', 'malformed_row'],
          [3, 'validate', 'malformed_row'],
          [5, 'validate', 'malformed_row'],
        ],
      );
      assert.match(
        String(result.rejected[2]!.message),
        /the row is \d+ bytes, larger than 1048576 bytes \(max_field_bytes\)/,
      );
      assert.deepEqual(
        records(sim)
          .map((record) => record.CUSTOMER_IDENTIFIER)
          .sort(),
        ['C1', 'C4', 'C6'],
      );
    } finally {
      await sim.close();
    }
  });
});
