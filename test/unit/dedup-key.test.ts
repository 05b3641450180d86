import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { recordKey } from '../../src/pipeline/dedup-key.js';

describe('recordKey', () => {
  it('joins composite values so that no two different keys meet', () => {
    const keyOf = (cells: string[]) => recordKey(cells, [0, 1]);
    assert.notEqual(keyOf(['a,b', 'c']), keyOf(['a', 'b,c']));
    assert.notEqual(keyOf(['ab', '']), keyOf(['a', 'b']));
    assert.equal(keyOf(['a', 'b', 'ignored']), keyOf(['a', 'b', 'other']));
  });

  it('a single key is its value as given', () => {
    assert.equal(recordKey(['x', 'cust-1'], [1]), 'cust-1');
  });

  it('each key field in its own canonical form; a field without one as given', () => {
    const trimmedNumber = (text: string) => String(Number(text));
    const key = (cells: string[]) => recordKey(cells, [2, 0], [trimmedNumber, undefined]);
    assert.equal(key(['A', 'x', '007']), key(['A', 'y', '7']));
    assert.notEqual(key(['A', 'x', '7']), key(['a', 'x', '7']));
    assert.equal(key(['A', 'x', '7']), '7\u0000A');
  });
});
