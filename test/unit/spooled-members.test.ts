import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { ColumnPlan } from '../../src/pipeline/columns.js';
import { MembershipSpool } from '../../src/pipeline/membership-spool.js';
import { keyRow, spoolNewMembers } from '../../src/pipeline/spooled-members.js';
import { MAX_PARTITION_BYTES, deduplicatePartitions } from '../../src/pipeline/deduplicate.js';
import { RowSpool } from '../../src/pipeline/row-spool.js';

async function collect<T>(groups: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const group of groups) out.push(...group);
  return out;
}

describe('keyRow', () => {
  it('converts key values as the Segment load sends them; a value that does not convert gives no key', () => {
    assert.equal(keyRow(['007', 'x', 'Ann'], [0, 2], ['long', 'string']), '[7,"Ann"]');
    assert.equal(keyRow(['', 'x'], [0], ['long']), '[null]');
    assert.equal(keyRow(['seven'], [0], ['long']), '');
  });
});

describe('spoolNewMembers', () => {
  it("reads each target Segment's members from the read spool, leaving the spool to the deduplication", async () => {
    const directory = mkdtempSync(join(tmpdir(), 'sx-spooled-'));
    // Field cells: ACCOUNT (Long key), EMAIL.
    const rows = new RowSpool(directory, [0], 64, 'rows-w0');
    rows.add(1, 'seg_a', ['1', 'a@example.com']);
    rows.add(2, 'seg_a', ['2', 'b@example.com']);
    rows.add(3, 'SEG_A', ['3', 'c@example.com']);
    rows.add(4, 'seg_b', ['4', 'd@example.com']);
    rows.add(5, 'seg_a', ['2', 'b2@example.com']);
    rows.add(6, 'seg_a', ['oops', 'e@example.com']);
    rows.add(7, 'seg_c', ['9', 'f@example.com']);
    await rows.finish();
    const spooled = { directory, groups: rows.files().map((file) => [file]), maxPartitionBytes: MAX_PARTITION_BYTES };
    const plan = { keys: [{ sendType: 'long' }], keyPositions: [0] } as unknown as ColumnPlan;
    const segA = new MembershipSpool(directory, 'seg-0', ['long'], 10);
    const segB = new MembershipSpool(directory, 'seg-1', ['long'], 10);
    await segA.addCurrent([[2], [3], [8]]);
    await spoolNewMembers(
      spooled,
      plan,
      new Map([
        ['seg_a', 0],
        ['SEG_A', 0],
        ['seg_b', 1],
        ['seg_c', 2],
      ]),
      [segA, segB, undefined],
    );
    assert.deepEqual(await segA.compare(), {
      before: 3,
      added: 1,
      kept: 2,
      removed: 1,
      after: 3,
      repeated: 1,
      unsendable: 1,
    });
    assert.deepEqual(await collect(segA.adds()), [{ row: 1, keyJson: '[1]' }]);
    assert.deepEqual(await collect(segA.removals()), ['[8]']);
    assert.deepEqual(await segB.compare(), {
      before: 0,
      added: 1,
      kept: 0,
      removed: 0,
      after: 1,
      repeated: 0,
      unsendable: 0,
    });
    let winners = 0;
    for await (const partition of deduplicatePartitions(spooled, 'ImportLastMatch'))
      winners += partition.winners.length;
    assert.equal(winners, 6);
  });
});
