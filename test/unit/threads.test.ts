import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, InputError } from '../../src/errors.js';
import { readWorkerCount } from '../../src/pipeline/read.js';
import { fromWireError, toWireError } from '../../src/pipeline/threads.js';

describe('readWorkerCount', () => {
  it('one worker per core, at least one and at most four', () => {
    assert.equal(readWorkerCount({}, 1), 1);
    assert.equal(readWorkerCount({}, 2), 2);
    assert.equal(readWorkerCount({}, 64), 4);
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: ' ' }, 2), 2);
  });

  it('SELLIGENT_EXPORT_READ_THREADS overrides it, within 1-16', () => {
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: '1' }, 8), 1);
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: '6' }, 2), 6);
    for (const bad of ['0', '17', '1.5', 'two', '-1']) {
      assert.throws(() => readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: bad }, 2), (error: ConfigError) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.code, 'READ_THREADS_INVALID');
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /^SELLIGENT_EXPORT_READ_THREADS: expected a whole number from 1 to 16, got "/);
        return true;
      });
    }
  });
});

describe('errors crossing from a worker thread', () => {
  it('an exporter error comes back as the same class, code, stage and details', () => {
    const original = new InputError('INPUT_MALFORMED', 'input x.csv: malformed CSV', { stage: 'read', details: { uri: 'x.csv' } });
    const back = fromWireError(structuredClone(toWireError(original)));
    assert.ok(back instanceof InputError);
    assert.equal(back.code, 'INPUT_MALFORMED');
    assert.equal(back.message, 'input x.csv: malformed CSV');
    assert.equal(back.stage, 'read');
    assert.deepEqual(back.details, { uri: 'x.csv' });
    assert.equal(back.exitCode, 3);
  });

  it('a system error keeps its code (ENOSPC stays recognisable)', () => {
    const original = Object.assign(new Error('no space left on device, write'), { code: 'ENOSPC' });
    const back = fromWireError(structuredClone(toWireError(original))) as Error & { code?: string };
    assert.equal(back.message, 'no space left on device, write');
    assert.equal(back.code, 'ENOSPC');
  });

  it('a thrown non-error becomes an error with its text', () => {
    assert.equal(fromWireError(toWireError('boom')).message, 'boom');
  });
});
