import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { commitState } from '../../src/state/commit.js';
import { compareEntry, leftEntry } from '../../src/state/diff.js';
import { writeUnconfirmed } from '../../src/state/failed-run.js';
import { UNCONFIRMED_ROW_HASH, rowHash, type StateEntry } from '../../src/state/format.js';
import { StateJournal } from '../../src/state/journal.js';
import { localStateStore } from '../../src/state/local-store.js';
import { readState } from '../../src/state/reader.js';
import { IDENTITY, allEntries, tempDir, writeAndCommit } from '../helpers/state-store-contract.js';

const h = (text: string) => rowHash(text);

describe('the state a failed run puts in force again', () => {
  const recorded: StateEntry[] = [
    { key: 'sent', rowHash: h('s1'), segments: ['A'] },
    { key: 'unsendable', rowHash: h('u1'), segments: ['A'] },
    { key: 'same', rowHash: h('x'), segments: ['A', 'B'] },
    { key: 'moved', rowHash: h('m'), segments: ['A'] },
    { key: 'gone', rowHash: h('g'), segments: ['B'] },
  ];

  async function failedRun(maxKeys?: number) {
    const store = localStateStore(join(await tempDir(), 'state'));
    await writeAndCommit(store, recorded, undefined, 4);
    const state = (await readState(store))!;
    const work = await tempDir();
    const journal = new StateJournal(join(work, 'journal.jsonl'));
    const input = (key: string, hash: string, segments: string[]) => ({ key, rowHash: h(hash), segments });
    const journalled = async (row: number, current: ReturnType<typeof input>, sent: boolean) => {
      const previous = recorded.find((entry) => entry.key === current.key);
      await journal.input(row, current, compareEntry(previous, current, true), sent);
    };
    await journalled(1, input('sent', 's2', ['A']), true);
    await journalled(2, input('unsendable', 'u2', ['A']), false);
    await journalled(3, input('moved', 'm', ['B']), false);
    await journalled(4, input('fresh', 'f', ['A']), true);
    await journal.left(leftEntry(recorded[4]!, true));
    const written = await writeUnconfirmed(store, state, journal, IDENTITY, work, maxKeys);
    return { store, state, written };
  }

  it('is the state compared with, the known keys whose changed row was sent marked unconfirmed', async () => {
    const { store, state, written } = await failedRun();
    assert.ok(written);
    assert.equal(written.manifest.generation, 2);
    await commitState(store, written, state);
    const next = (await readState(store))!;
    assert.equal(next.manifest.rows, 5);
    assert.deepEqual(next.manifest.segments, state.manifest.segments);
    const entries = (await allEntries(store, next)).sort((a, b) => a.key.localeCompare(b.key));
    const expected = recorded
      .map((entry) => (entry.key === 'sent' ? { ...entry, rowHash: UNCONFIRMED_ROW_HASH } : entry))
      .sort((a, b) => a.key.localeCompare(b.key));
    assert.deepEqual(entries, expected);
  });

  it('gives up past its bound of keys, so the caller asks for a full run', async () => {
    assert.equal((await failedRun(0)).written, undefined);
  });
});
