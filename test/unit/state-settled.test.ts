import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { WorkerComparer } from '../../src/state/compare-in-worker.js';
import { commitState } from '../../src/state/commit.js';
import { entryLine, partitionOf, rowHash, splitEntryLine, type StateEntry } from '../../src/state/format.js';
import { StateJournal } from '../../src/state/journal.js';
import { localStateStore } from '../../src/state/local-store.js';
import { readState } from '../../src/state/reader.js';
import { StateWriter } from '../../src/state/writer.js';
import { IDENTITY, allEntries, tempDir, writeAndCommit } from '../helpers/state-store-contract.js';

describe('state lines split for a comparison', () => {
  it('gives the key, row hash and Segments text of every line entryLine writes, escaped keys included', () => {
    const keys = ['C000000001', 'a"b', 'back\\slash', 'tab\there', 'Zoë 太郎', '', '["x"]'];
    const segmentLists = [[], ['A'], ['A', 'B "quoted"'], ['ü']];
    for (const key of keys) {
      for (const segments of segmentLists) {
        const entry = { key, rowHash: rowHash(key), segments };
        const line = entryLine(entry);
        assert.deepEqual(splitEntryLine(line), {
          key,
          rowHash: entry.rowHash,
          segmentsJson: JSON.stringify(segments),
          line,
        });
      }
    }
  });

  // The Segments' text is checked only when parsed: a line carried over unparsed has the very text of
  // the input's Segments (JSON strings), every other line is parsed in full.
  it('refuses a line that is not an entry', () => {
    const hash = rowHash('x');
    for (const line of [
      '',
      'garbage',
      '["k","short",[]]',
      `["k","${hash}"]`,
      `["k","${hash}",["A"]`,
      `["k",1,[]]`,
      `{"key":"k"}`,
    ])
      assert.equal(splitEntryLine(line), undefined, line);
  });
});

const SEGMENTS = ['A', 'B', 'C'];

/** One comparison over a committed state and the new state it writes when everything was applied. */
async function compareAndWrite(
  recorded: StateEntry[],
  input: Array<{ key: string; hash: string; segments: number[] }>,
  replace: boolean,
  partitions = 4,
) {
  const directory = join(await tempDir(), 'state');
  const store = localStateStore(directory);
  await writeAndCommit(store, recorded, undefined, partitions);
  const state = (await readState(store))!;
  const work = await tempDir();
  const comparer = new WorkerComparer({
    stateDirectory: directory,
    manifest: state.manifest,
    partitionCount: partitions,
    replace,
    journalFile: join(work, 'journal.jsonl'),
    settledDirectory: join(work, 'settled'),
    removalDirectory: join(work, 'removals'),
    keyTypes: ['string'],
    keyForm: 'as-written',
    segmentApiNames: SEGMENTS,
  });
  const byPartition = [...input.entries()].sort(
    ([, a], [, b]) => partitionOf(a.key, partitions) - partitionOf(b.key, partitions),
  );
  const diffs: Record<string, { row: string; add: string[]; remove: string[] }> = {};
  for (const [row, entry] of byPartition) {
    await comparer.enter(partitionOf(entry.key, partitions));
    const d = await comparer.compare(row, entry.key, entry.hash, entry.segments, true, {
      keyJson: () => JSON.stringify([entry.key]),
    });
    diffs[entry.key] = { row: d.row, add: d.add, remove: d.remove };
  }
  const totals = await comparer.finish();
  const writer = new StateWriter(work, partitions);
  await writer.adoptSettled(join(work, 'settled'));
  const journal = new StateJournal(join(work, 'journal.jsonl'));
  const all = () => true;
  for await (const entry of journal.replay({ rowApplied: all, membershipApplied: all, removalApplied: all }))
    await writer.add(entry);
  const written = await writer.write(store, IDENTITY, state.manifest.generation);
  await commitState(store, written, state);
  const next = (await readState(store))!;
  return { totals, diffs, entries: await allEntries(store, next), manifest: next.manifest };
}

describe('comparison: keys as they were carried over unparsed', () => {
  const h = (text: string) => rowHash(text);
  const recorded: StateEntry[] = [
    ...Array.from({ length: 40 }, (_, i) => ({ key: `same${i}`, rowHash: h(`s${i}`), segments: ['A'] })),
    { key: 'two', rowHash: h('two'), segments: ['A', 'B'] },
    { key: 'reordered', rowHash: h('r'), segments: ['A', 'B'] },
    { key: 'edited', rowHash: h('e1'), segments: ['A'] },
    { key: 'moved', rowHash: h('m'), segments: ['A'] },
    { key: 'esc"aped', rowHash: h('q'), segments: ['C'] },
    { key: 'gone', rowHash: h('g'), segments: ['B'] },
  ];
  const input = [
    ...Array.from({ length: 40 }, (_, i) => ({ key: `same${i}`, hash: h(`s${i}`), segments: [0] })),
    { key: 'two', hash: h('two'), segments: [0, 1] },
    { key: 'reordered', hash: h('r'), segments: [1, 0] },
    { key: 'edited', hash: h('e2'), segments: [0] },
    { key: 'moved', hash: h('m'), segments: [2] },
    { key: 'esc"aped', hash: h('q'), segments: [2] },
    { key: 'fresh', hash: h('f'), segments: [1] },
  ];

  for (const replace of [false, true]) {
    it(`records what a comparison of every key in full would (${replace ? 'replace' : 'append'})`, async () => {
      const { totals, diffs, entries, manifest } = await compareAndWrite(recorded, input, replace);
      assert.deepEqual(
        [totals.new, totals.changed, totals.unchanged, totals.left],
        [1, 1, 44, 1],
        JSON.stringify(totals),
      );
      assert.deepEqual(diffs.same3, { row: 'unchanged', add: [], remove: [] });
      assert.deepEqual(diffs.reordered, { row: 'unchanged', add: [], remove: [] });
      assert.deepEqual(diffs.moved, { row: 'unchanged', add: ['C'], remove: replace ? ['A'] : [] });
      assert.deepEqual(diffs.fresh, { row: 'new', add: ['B'], remove: [] });
      const expected: StateEntry[] = [
        ...recorded.filter((e) => e.key.startsWith('same') || e.key === 'two' || e.key === 'esc"aped'),
        { key: 'reordered', rowHash: h('r'), segments: ['A', 'B'] },
        { key: 'edited', rowHash: h('e2'), segments: ['A'] },
        { key: 'moved', rowHash: h('m'), segments: ['C'] },
        { key: 'fresh', rowHash: h('f'), segments: ['B'] },
      ];
      // Under append the key that left keeps no record (its memberships stay, the exporter forgets them).
      assert.deepEqual(
        entries,
        expected.sort((a, b) => (a.key < b.key ? -1 : 1)),
      );
      assert.equal(manifest.rows, expected.length);
      assert.deepEqual(manifest.segments, { A: 43, B: 3, C: 2 });
    });
  }

  it('an empty state: every key is new and recorded from the journal alone', async () => {
    const { totals, entries } = await compareAndWrite([], input.slice(0, 3), false);
    assert.deepEqual([totals.new, totals.unchanged], [3, 0]);
    assert.equal(entries.length, 3);
  });
});
