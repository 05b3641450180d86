import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { InputEntry } from '../../src/state/diff.js';
import { UNCONFIRMED_ROW_HASH, rowHash, type StateEntry } from '../../src/state/format.js';
import { StateJournal, type AppliedOutcome } from '../../src/state/journal.js';
import { diffPartition } from '../helpers/state-diff.js';
import { tempDir } from '../helpers/state-store-contract.js';

const h = rowHash;
const recorded: StateEntry[] = [
  { key: 'same', rowHash: h('s'), segments: ['A'] },
  { key: 'edited', rowHash: h('e1'), segments: ['A'] },
  { key: 'moved', rowHash: h('m'), segments: ['A'] },
  { key: 'gone', rowHash: h('g'), segments: ['A'] },
  { key: 'gone2', rowHash: h('g2'), segments: ['B'] },
];
const input: Array<[number, InputEntry, boolean]> = [
  [1, { key: 'same', rowHash: h('s'), segments: ['A'] }, true],
  [2, { key: 'edited', rowHash: h('e2'), segments: ['A'] }, true],
  [3, { key: 'moved', rowHash: h('m'), segments: ['B'] }, true],
  [4, { key: 'fresh', rowHash: h('f'), segments: ['B'] }, true],
  [5, { key: 'rejected', rowHash: h('r'), segments: ['B'] }, true],
  // A value that does not convert: never sent.
  [6, { key: 'invalid', rowHash: '', segments: ['A'] }, false],
];

async function journalled(): Promise<StateJournal> {
  const journal = new StateJournal(join(await tempDir(), 'journal.jsonl'));
  const { entries, left } = diffPartition(
    recorded,
    input.map(([, entry]) => entry),
    true,
  );
  for (const [i, [row, entry, valid]] of input.entries()) {
    const compared = entries[i]!;
    await journal.input(row, entry, compared, valid && compared.row !== 'unchanged');
  }
  for (const gone of left) await journal.left(gone);
  return journal;
}

async function replayed(journal: StateJournal, outcome: AppliedOutcome): Promise<StateEntry[]> {
  const entries: StateEntry[] = [];
  for await (const entry of journal.replay(outcome)) entries.push(entry);
  return entries.sort((a, b) => (a.key < b.key ? -1 : 1));
}

describe('state journal: the new state from what Selligent applied', () => {
  it('records the input as sent when everything was applied, and drops keys whose memberships were removed', async () => {
    const journal = await journalled();
    const entries = await replayed(journal, {
      rowApplied: (row) => row !== 5,
      membershipApplied: (_, row) => row !== 5,
      removalApplied: () => true,
    });
    assert.deepEqual(entries, [
      { key: 'edited', rowHash: h('e2'), segments: ['A'] },
      { key: 'fresh', rowHash: h('f'), segments: ['B'] },
      { key: 'moved', rowHash: h('m'), segments: ['B'] },
      { key: 'same', rowHash: h('s'), segments: ['A'] },
    ]);
    await journal.remove();
  });

  it('nothing applied: the previous records stay, and a row sent is recorded unconfirmed, so the next run sends the same again', async () => {
    const journal = await journalled();
    const entries = await replayed(journal, {
      rowApplied: () => false,
      membershipApplied: () => false,
      removalApplied: () => false,
    });
    assert.deepEqual(entries, [
      { key: 'edited', rowHash: UNCONFIRMED_ROW_HASH, segments: ['A'] },
      { key: 'gone', rowHash: h('g'), segments: ['A'] },
      { key: 'gone2', rowHash: h('g2'), segments: ['B'] },
      { key: 'moved', rowHash: h('m'), segments: ['A'] },
      { key: 'same', rowHash: h('s'), segments: ['A'] },
    ]);
  });

  it('an empty journal replays to nothing', async () => {
    const journal = new StateJournal(join(await tempDir(), 'journal.jsonl'));
    assert.deepEqual(
      await replayed(journal, { rowApplied: () => true, membershipApplied: () => true, removalApplied: () => true }),
      [],
    );
  });
});
