import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { diffPartition, type MembershipChange } from '../../src/pipeline/membership-diff.js';

const same = (key: string) => key;

function changes<T>(incoming: Iterable<T>, current: Iterable<T>, keyOf: (item: T) => string): Record<string, T[]> {
  const out: Record<string, T[]> = { add: [], stay: [], remove: [] };
  for (const change of diffPartition(incoming, current, keyOf)) out[change.change]!.push(change.item);
  return out;
}

describe('diffPartition', () => {
  it('splits members that join, stay and leave', async () => {
    const result = changes(['b', 'c', 'd', 'e'], ['a', 'b', 'c', 'z'], same);
    assert.deepEqual(result, { add: ['d', 'e'], stay: ['b', 'c'], remove: ['a', 'z'] });
  });

  it('a Segment with no members now: every new member is added', async () => {
    assert.deepEqual(changes(['a', 'b'], [], same), { add: ['a', 'b'], stay: [], remove: [] });
  });

  it('no new members: every current member is removed', async () => {
    assert.deepEqual(changes([], ['a', 'b'], same), { add: [], stay: [], remove: ['a', 'b'] });
  });

  it('the same membership: everyone stays, nothing is sent', async () => {
    assert.deepEqual(changes(['a', 'b', 'c'], ['c', 'a', 'b'], same), { add: [], stay: ['c', 'a', 'b'], remove: [] });
  });

  it('a key twice among the new members is added once (the first); twice among the current ones, counted once', async () => {
    const incoming = [
      { key: 'k1', wire: 'first' },
      { key: 'k1', wire: 'second' },
      { key: 'k2', wire: 'x' },
      { key: 'k2', wire: 'y' },
    ];
    const current = [
      { key: 'k2', wire: 'c2' },
      { key: 'k2', wire: 'c2 again' },
      { key: 'k9', wire: 'c9' },
      { key: 'k9', wire: 'c9 again' },
    ];
    const result = changes(incoming, current, (item) => item.key);
    assert.deepEqual(result.add, [{ key: 'k1', wire: 'first' }]);
    assert.deepEqual(result.stay, [{ key: 'k2', wire: 'c2' }]);
    assert.deepEqual(result.remove, [{ key: 'k9', wire: 'c9' }]);
  });

  it('compares the keys it is given, nothing else: the payload of a staying member is the current one', async () => {
    const result = changes([{ key: '7', wire: '[7]' }], [{ key: '7', wire: '["7"]' }], (item) => item.key);
    assert.deepEqual(result.stay, [{ key: '7', wire: '["7"]' }]);
  });

  it('streams the current side: a removal is yielded before the current members have all been read', async () => {
    let read = 0;
    function* current(): Generator<string> {
      for (const key of ['gone', 'b', 'c']) {
        read++;
        yield key;
      }
    }
    const iterator = diffPartition(['b', 'c'], current(), same);
    const first = iterator.next().value as MembershipChange<string>;
    assert.deepEqual(first, { change: 'remove', item: 'gone' });
    assert.equal(read, 1);
    iterator.return(undefined);
  });

  it('counts balance over a larger case', async () => {
    const current = Array.from({ length: 5_000 }, (_, i) => `m${i}`);
    const incoming = Array.from({ length: 5_000 }, (_, i) => `m${i + 250}`);
    const result = changes(incoming, current, same);
    assert.equal(result.remove!.length, 250);
    assert.equal(result.add!.length, 250);
    assert.equal(result.stay!.length, 4_750);
    assert.equal(result.stay!.length + result.add!.length, new Set(incoming).size);
  });
});
