import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { RowNumberSet } from '../../src/pipeline/rejected.js';

describe('RowNumberSet: rejected input row numbers', () => {
  it('answers membership exactly, for rows near and far apart', () => {
    const set = new RowNumberSet();
    const rows = [1, 2, 7, 8, 65_535, 65_536, 65_537, 1_000_000, 9_999_999, 4_294_967_296 + 3];
    for (const row of rows) set.add(row);
    set.add(7);
    assert.equal(set.size, rows.length);
    for (const row of rows) assert.ok(set.has(row), `row ${row}`);
    for (const row of [0, 3, 6, 9, 65_534, 65_538, 999_999, 10_000_000, 4_294_967_296 + 2])
      assert.ok(!set.has(row), `row ${row}`);
  });

  it('takes one bit per input row at most, and nothing where no row was rejected', () => {
    const set = new RowNumberSet();
    assert.equal(set.bytes, 0);
    for (let row = 1; row <= 10_000_000; row++) set.add(row);
    assert.equal(set.size, 10_000_000);
    assert.ok(set.bytes <= 10_000_000 / 8 + 8_192, `${set.bytes} bytes`);
    const sparse = new RowNumberSet();
    sparse.add(5);
    sparse.add(9_000_000);
    assert.equal(sparse.bytes, 2 * 8_192);
  });

  it('10M rejected rows fit in a 16 MB heap (a Set of numbers needs about 400 MB)', async () => {
    const source = `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(new URL('../../src/pipeline/rejected.ts', import.meta.url).href)}).then(({ RowNumberSet }) => {
        const set = new RowNumberSet();
        for (let row = 1; row <= 10_000_000; row++) set.add(row);
        parentPort.postMessage(set.size);
      });`;
    const bootstrap = `import('tsx/esm/api').then(({ register }) => { register(); ${source.replace(/require\('node:worker_threads'\)/, "process.getBuiltinModule('node:worker_threads')")} })`;
    const worker = new Worker(bootstrap, {
      eval: true,
      resourceLimits: { maxOldGenerationSizeMb: 16, maxYoungGenerationSizeMb: 4 },
    });
    const size = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
    await worker.terminate();
    assert.equal(size, 10_000_000);
  });
});
