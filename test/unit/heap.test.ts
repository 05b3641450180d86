import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { ALLOCATOR_ENV, DEFAULT_HEAP_MB, cappedChildEnv, heapCapToApply } from '../../src/heap.js';

describe('heapCapToApply', () => {
  it('caps the heap of a run by default on a machine whose default heap is larger', () => {
    // The test process runs with Node's default limit, which on any CI machine is well over 288 MiB.
    assert.equal(heapCapToApply({}, []), DEFAULT_HEAP_MB);
    assert.equal(heapCapToApply({ SELLIGENT_EXPORT_MAX_HEAP_MB: '300' }, []), 300);
  });

  it('does nothing inside the capped child, when switched off, or when the user chose a heap size', () => {
    assert.equal(heapCapToApply({ SELLIGENT_EXPORT_HEAP_CAPPED: '1' }, []), undefined);
    assert.equal(heapCapToApply({ SELLIGENT_EXPORT_MAX_HEAP_MB: '0' }, []), undefined);
    assert.equal(heapCapToApply({ SELLIGENT_EXPORT_MAX_HEAP_MB: 'lots' }, []), undefined);
    assert.equal(heapCapToApply({}, ['--max-old-space-size=512']), undefined);
    assert.equal(heapCapToApply({ NODE_OPTIONS: '--max-old-space-size=512' }, []), undefined);
  });

  it('does nothing when the default heap is already about the cap (a container memory limit)', () => {
    assert.equal(heapCapToApply({ SELLIGENT_EXPORT_MAX_HEAP_MB: '100000' }, []), undefined);
  });
});

describe('cappedChildEnv', () => {
  it('marks the child as capped and gives it the allocator settings', () => {
    const env = cappedChildEnv({ PATH: '/usr/bin' });
    assert.equal(env.PATH, '/usr/bin');
    assert.equal(env.SELLIGENT_EXPORT_HEAP_CAPPED, '1');
    assert.equal(env.MALLOC_ARENA_MAX, '2');
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, '131072');
    // A child so started does not start another.
    assert.equal(heapCapToApply(env, []), undefined);
  });

  it('keeps allocator settings the environment already chooses', () => {
    const env = cappedChildEnv({ MALLOC_ARENA_MAX: '4', MALLOC_MMAP_THRESHOLD_: '1048576' });
    assert.equal(env.MALLOC_ARENA_MAX, '4');
    assert.equal(env.MALLOC_MMAP_THRESHOLD_, '1048576');
  });

  it('are the settings the image sets too (the Dockerfile states them again for a run without the child)', () => {
    const dockerfile = readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const assignments = dockerfile
      .split('\n')
      .filter((line) => line.startsWith('ENV '))
      .flatMap((line) => line.split(/\s+/));
    for (const [name, value] of Object.entries(ALLOCATOR_ENV))
      assert.ok(assignments.includes(`${name}=${value}`), name);
  });
});
