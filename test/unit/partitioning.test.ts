import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { hashKey, partitionCount } from '../../src/pipeline/partitioning.js';

describe('hashKey', () => {
  it('is stable and an unsigned 32-bit integer', () => {
    for (const key of ['', 'x', 'cust-1', '日本', '😀', 'a\u0000b']) {
      const hash = hashKey(key);
      assert.ok(Number.isInteger(hash) && hash >= 0 && hash < 2 ** 32, `${key}: ${hash}`);
      assert.equal(hashKey(key), hash);
      assert.equal(hashKey(key, 0), hash, 'seed 0 is the default');
    }
    assert.notEqual(hashKey('ab'), hashKey('ba'));
  });

  it('a seed changes the hash', () => {
    assert.notEqual(hashKey('cust-1', 1), hashKey('cust-1', 0));
    assert.notEqual(hashKey('cust-1', 2), hashKey('cust-1', 1));
  });

  it('spreads keys over the 64 partitions', () => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 64_000; i++) counts[hashKey(`cust-${i}`) % 64]!++;
    assert.ok(Math.min(...counts) > 500 && Math.max(...counts) < 1_500, JSON.stringify(counts));
  });

  it('re-partitioning spreads the keys of one partition over all 16 sub-partitions', () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => `cust-${i}`).filter((key) => hashKey(key) % 64 === 5);
    const counts = new Array<number>(16).fill(0);
    for (const key of keys) counts[hashKey(key, 1) % 16]!++;
    const mean = keys.length / 16;
    assert.ok(
      counts.every((count) => count > 0),
      `empty sub-partitions: ${JSON.stringify(counts)}`,
    );
    assert.ok(Math.max(...counts) < 2 * mean, `largest sub-partition ${Math.max(...counts)} vs mean ${mean}`);
  });
});

describe('partitionCount', () => {
  it('a power of two from 64 to 256, about 4 MiB per partition', () => {
    const MIB = 1024 * 1024;
    assert.equal(partitionCount(0), 64);
    assert.equal(partitionCount(256 * MIB), 64);
    assert.equal(partitionCount(256 * MIB + 1), 128);
    assert.equal(partitionCount(512 * MIB), 128);
    assert.equal(partitionCount(600 * MIB), 256);
    assert.equal(partitionCount(100 * 1024 * MIB), 256);
  });
});
