import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SegmentSpool } from '../../src/pipeline/segment-spool.js';

const root = mkdtempSync(join(tmpdir(), 'segment-spool-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

describe('SegmentSpool', () => {
  async function read(spool: SegmentSpool, segment: number): Promise<Array<{ row: number; keyJson: string }>> {
    const members: Array<{ row: number; keyJson: string }> = [];
    for await (const group of spool.memberGroups(segment)) members.push(...group);
    return members;
  }

  it("keeps each Segment's members in order, many Segments through a small buffer", async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir, 8_192);
    const segments = 40;
    const members: Array<Array<{ row: number; keyJson: string }>> = Array.from({ length: segments }, () => []);
    for (let i = 0; i < 800; i++) {
      const segment = (i * 13) % segments;
      const member = { row: i + 1, keyJson: JSON.stringify([`key-${i}`, `e"${i}"\n@x.test\t`]) };
      members[segment]!.push(member);
      await spool.add(segment, member.row, member.keyJson);
    }
    await spool.flush();
    for (let segment = 0; segment < segments; segment++) {
      assert.equal(spool.rows(segment), members[segment]!.length);
      assert.deepEqual(await read(spool, segment), members[segment], `segment ${segment}`);
    }
    assert.ok(readdirSync(dir).length < segments, 'the files do not grow with the number of Segments');
  });

  it('memory stays flat in the number of Segments: 50,000 Segments share one bounded buffer', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir);
    const segments = 50_000;
    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    for (let round = 0; round < 2; round++) {
      for (let segment = 0; segment < segments; segment++) {
        await spool.add(segment, round * segments + segment + 1, JSON.stringify([`key-${round}-${segment}`]));
        if (segment % 5_000 === 0) peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      }
    }
    await spool.flush();
    // One buffer of 4 MiB (and one run being written); a buffer per Segment would be hundreds of MB.
    assert.ok(peak < 32 * 1024 * 1024, `buffers outside the heap grew by ${Math.round(peak / 1024 / 1024)} MiB`);
    for (const segment of [0, 1, 777, segments - 1]) {
      assert.deepEqual(await read(spool, segment), [
        { row: segment + 1, keyJson: JSON.stringify([`key-0-${segment}`]) },
        { row: segments + segment + 1, keyJson: JSON.stringify([`key-1-${segment}`]) },
      ]);
    }
    assert.ok(readdirSync(dir).length <= 4, `${readdirSync(dir).length} files`);
  });

  it('Segments read out of order, or one left unfinished, still give every member', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir, 64);
    for (let i = 0; i < 60; i++) await spool.add(i % 3, i, `["k${i}"]`);
    await spool.flush();
    for await (const group of spool.memberGroups(0)) {
      assert.ok(group.length > 0);
      break;
    }
    assert.equal((await read(spool, 1)).length, 20);
    assert.deepEqual(
      (await read(spool, 0)).map((member) => member.row),
      Array.from({ length: 20 }, (_, i) => i * 3),
    );
    assert.deepEqual(
      (await read(spool, 2)).map((member) => member.row),
      Array.from({ length: 20 }, (_, i) => i * 3 + 2),
    );
  });

  it('a member line larger than a buffer chunk is kept whole, in order with its neighbours', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir, 64 * 1024);
    const members = Array.from({ length: 30 }, (_, i) => ({
      row: i + 1,
      keyJson: JSON.stringify([i % 4 === 0 ? `${'日'.repeat(5_000)}${i}` : `k${i}`]),
    }));
    for (const member of members) await spool.add(0, member.row, member.keyJson);
    await spool.flush();
    assert.deepEqual(await read(spool, 0), members);
  });

  it('a Segment with no members has 0 rows and yields nothing (no file needed)', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir);
    await spool.add(0, 1, '["a"]');
    await spool.flush();
    assert.equal(spool.rows(5), 0);
    assert.deepEqual(await read(spool, 5), []);
  });

  it('composite keys and unicode round-trip; an unsendable key is kept as empty text', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir, 1);
    await spool.add(3, 10, JSON.stringify(['日本', 'a\nb\tc']));
    await spool.add(3, 11, JSON.stringify(['😀', '']));
    await spool.add(3, 12, '');
    await spool.add(1, 13, '["x","y"]');
    await spool.flush();
    const members = await read(spool, 3);
    assert.deepEqual(members, [
      { row: 10, keyJson: JSON.stringify(['日本', 'a\nb\tc']) },
      { row: 11, keyJson: '["😀",""]' },
      { row: 12, keyJson: '' },
    ]);
    assert.deepEqual(JSON.parse(members[0]!.keyJson), ['日本', 'a\nb\tc']);
    assert.equal(spool.rows(1), 1);
  });

  it('members added after a flush are appended, not overwriting', async () => {
    const dir = mkdtempSync(join(root, 'segments-'));
    const spool = new SegmentSpool(dir);
    await spool.add(0, 1, '["a"]');
    await spool.flush();
    await spool.add(0, 2, '["b"]');
    await spool.flush();
    await spool.flush();
    assert.deepEqual(await read(spool, 0), [
      { row: 1, keyJson: '["a"]' },
      { row: 2, keyJson: '["b"]' },
    ]);
    assert.equal(spool.rows(0), 2);
  });
});
