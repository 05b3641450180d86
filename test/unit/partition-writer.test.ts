import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { PartitionWriter } from '../../src/pipeline/partition-writer.js';

const root = mkdtempSync(join(tmpdir(), 'partition-writer-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('PartitionWriter', () => {
  it('each partition file holds its lines in the order added, whatever the buffering', async () => {
    const dir = mkdtempSync(join(root, 'p-'));
    const writer = new PartitionWriter(dir, 'rows', 3);
    const wanted: string[][] = [[], [], []];
    for (let i = 0; i < 20_000; i++) {
      const line = `${i}\t${'v'.repeat(i % 50)}`;
      writer.add(i % 3, line);
      wanted[i % 3]!.push(line);
      if (i % 5_000 === 0) await writer.flush();
    }
    await writer.close();
    assert.deepEqual(
      writer.paths,
      [0, 1, 2].map((i) => join(dir, `rows-${i}.jsonl`)),
    );
    writer.paths.forEach((path, i) =>
      assert.equal(readFileSync(path, 'utf8'), wanted[i]!.map((line) => `${line}\n`).join('')),
    );
  });

  it('a partition that does not exist is refused', () => {
    const writer = new PartitionWriter(mkdtempSync(join(root, 'p-')), 'rows', 2);
    assert.throws(() => writer.add(2, 'x'), RangeError);
    return writer.close();
  });
});
