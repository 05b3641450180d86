import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { SearchValue } from '../../src/selligent/client.js';
import { MembershipSpool, memberKey } from '../../src/pipeline/membership-spool.js';
import { keyForm } from '../../src/schema/types.js';
import type { SegmentMember } from '../../src/pipeline/segment-spool.js';

function dir(): string {
  return mkdtempSync(join(tmpdir(), 'sx-membership-'));
}

async function collect<T>(groups: AsyncIterable<T[]>): Promise<T[]> {
  const out: T[] = [];
  for await (const group of groups) out.push(...group);
  return out;
}

function id(i: number): string {
  return `C${String(i).padStart(6, '0')}`;
}

describe('memberKey', () => {
  it("puts each value in its type's stored form and joins them as the deduplication does", () => {
    const forms = [keyForm('long'), keyForm('string'), keyForm('timestamp')];
    assert.equal(
      memberKey(['007', 'Ab', '2026-05-01 10:15'], forms),
      memberKey([7, 'Ab', '2026-05-01T10:15:00.000Z'], forms),
    );
    assert.notEqual(
      memberKey([7, 'ab', '2026-05-01T10:15:00Z'], forms),
      memberKey([7, 'Ab', '2026-05-01T10:15:00Z'], forms),
    );
    assert.equal(memberKey([9007199254740993n], [keyForm('long')]), '9007199254740993');
    assert.equal(memberKey(['a', 'b'], [undefined, undefined]), 'a\u0000b');
  });
});

describe('MembershipSpool', () => {
  it('30,000 members now, 5% leaving and 2,000 joining: exact adds and removals, partition files gone afterwards', async () => {
    const directory = dir();
    const spool = new MembershipSpool(directory, 'seg-0', ['string'], 62_000);
    const current = Array.from({ length: 30_000 }, (_, i) => id(i));
    const leaving = new Set(current.filter((_, i) => i % 20 === 7));
    const joining = Array.from({ length: 2_000 }, (_, i) => id(100_000 + i));
    const incoming = [...current.filter((key) => !leaving.has(key)), ...joining];
    // Pages as the search answers them.
    for (let start = 0; start < current.length; start += 1_000)
      await spool.addCurrent(current.slice(start, start + 1_000).map((key) => [key]));
    const members: SegmentMember[] = incoming.map((key, i) => ({ row: i + 2, keyJson: JSON.stringify([key]) }));
    for (let start = 0; start < members.length; start += 5_000)
      await spool.addIncoming(members.slice(start, start + 5_000));
    assert.ok(spool.partitions >= 64);
    const counts = await spool.compare();
    assert.deepEqual(counts, {
      before: 30_000,
      added: 2_000,
      kept: 28_500,
      removed: 1_500,
      after: 30_500,
      repeated: 0,
      unsendable: 0,
    });
    const adds = await collect(spool.adds());
    assert.deepEqual(adds.map((member) => JSON.parse(member.keyJson)[0]).sort(), joining);
    const rowOf = new Map(members.map((member) => [member.keyJson, member.row]));
    for (const member of adds) assert.equal(member.row, rowOf.get(member.keyJson));
    const removals = await collect(spool.removals());
    assert.deepEqual(removals.map((row) => JSON.parse(row)[0]).sort(), [...leaving].sort());
    // The adds and removals stay on disk: the adds are compared with the load's own members after the List load.
    assert.deepEqual(readdirSync(directory).sort(), ['seg-0-add.txt', 'seg-0-remove.txt']);
    await spool.destroy();
    assert.deepEqual(readdirSync(directory), []);
  });

  it('compares typed keys in canonical form, and removes with the spelling the search answered', async () => {
    const spool = new MembershipSpool(dir(), 'seg-1', ['long', 'timestamp'], 10);
    const current: SearchValue[][] = [
      [9007199254740993n, '2026-05-01T10:15:00'],
      [7, '2026-05-01T10:15:00'],
      [8, '2026-05-01T10:15:00'],
    ];
    await spool.addCurrent(current);
    await spool.addIncoming([
      { row: 2, keyJson: '[9007199254740993,"2026-05-01T10:15:00.000Z"]' },
      { row: 3, keyJson: '[7,"2026-05-01T10:15:00.000Z"]' },
      { row: 4, keyJson: '[9007199254740992,"2026-05-01T10:15:00.000Z"]' },
    ]);
    const counts = await spool.compare();
    assert.deepEqual(counts, { before: 3, added: 1, kept: 2, removed: 1, after: 3, repeated: 0, unsendable: 0 });
    assert.deepEqual(await collect(spool.adds()), [
      { row: 4, keyJson: '[9007199254740992,"2026-05-01T10:15:00.000Z"]' },
    ]);
    assert.deepEqual(await collect(spool.removals()), ['[8,"2026-05-01T10:15:00"]']);
  });

  it('a new or empty Segment: everything is added, nothing removed; keys that cannot be sent and repeats are counted', async () => {
    const spool = new MembershipSpool(dir(), 'seg-2', ['double'], 0);
    await spool.addIncoming([
      { row: 2, keyJson: '[12.5]' },
      { row: 3, keyJson: '[12.50]' },
      { row: 4, keyJson: '' },
      { row: 5, keyJson: '[1]' },
    ]);
    const counts = await spool.compare();
    assert.deepEqual(counts, { before: 0, added: 2, kept: 0, removed: 0, after: 2, repeated: 1, unsendable: 1 });
    assert.deepEqual((await collect(spool.adds())).map((member) => member.row).sort(), [2, 5]);
    assert.deepEqual(await collect(spool.removals()), []);
  });

  it('no new members: every current member is to be removed; a member read twice is removed once', async () => {
    const spool = new MembershipSpool(dir(), 'seg-3', ['string', 'string'], 4);
    await spool.addCurrent([
      ['a', 'x'],
      ['b', 'y'],
    ]);
    await spool.addCurrent([['b', 'y']]);
    const counts = await spool.compare();
    assert.deepEqual(counts, { before: 2, added: 0, kept: 0, removed: 2, after: 0, repeated: 0, unsendable: 0 });
    assert.deepEqual((await collect(spool.removals())).sort(), ['["a","x"]', '["b","y"]']);
  });

  it("after the List load: the load's members that the plan adds, each key once with the load's row; a key the plan keeps is not added", async () => {
    const directory = dir();
    const spool = new MembershipSpool(directory, 'seg-4', ['long'], 40);
    await spool.addCurrent([[1], [2], [3], [4]]);
    // Planned: 3 and 4 stay, 5, 6 and 7 join (7 spelled 007 and 7), 1 and 2 leave.
    await spool.addIncoming([
      { row: 2, keyJson: '[3]' },
      { row: 3, keyJson: '[4]' },
      { row: 4, keyJson: '[5]' },
      { row: 5, keyJson: '[6]' },
      { row: 6, keyJson: '[7]' },
      { row: 7, keyJson: '[7]' },
    ]);
    assert.equal((await spool.compare()).added, 3);
    // The load's members: the winners (row 7 for key 7), key 6 left out (its List row was rejected).
    async function* winners(): AsyncGenerator<SegmentMember[]> {
      yield [
        { row: 2, keyJson: '[3]' },
        { row: 7, keyJson: '[7]' },
      ];
      yield [
        { row: 4, keyJson: '[5]' },
        { row: 3, keyJson: '[4]' },
        { row: 8, keyJson: '[7]' },
      ];
    }
    const adds = await spool.againstAdds('seg-4-load', winners());
    assert.deepEqual(
      (await collect(adds.adds())).sort((a, b) => a.row - b.row),
      [
        { row: 4, keyJson: '[5]' },
        { row: 7, keyJson: '[7]' },
      ],
    );
    await adds.destroy();
    await spool.destroy();
    assert.deepEqual(readdirSync(directory), []);
  });

  it('a single text key is compared as the text, escaped or not', async () => {
    const spool = new MembershipSpool(dir(), 'seg-5', ['string'], 10);
    await spool.addCurrent([['a"b'], ['c\\d'], ['plain'], ['gone']]);
    await spool.addIncoming([
      { row: 2, keyJson: JSON.stringify(['a"b']) },
      { row: 3, keyJson: JSON.stringify(['c\\d']) },
      { row: 4, keyJson: JSON.stringify(['plain']) },
      { row: 5, keyJson: JSON.stringify(['new']) },
    ]);
    assert.deepEqual(await spool.compare(), {
      before: 4,
      added: 1,
      kept: 3,
      removed: 1,
      after: 4,
      repeated: 0,
      unsendable: 0,
    });
  });
});
