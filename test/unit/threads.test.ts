import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AuthError,
  ConfigError,
  ExporterError,
  InputError,
  InternalError,
  InterruptedError,
  PartialFailureError,
  RefusedError,
  TransientError,
} from '../../src/errors.js';
import {
  BatchTooLargeError,
  SelligentAuthError,
  SelligentRefusedError,
  SelligentUnavailableError,
  type HttpExchange,
} from '../../src/selligent/http-error.js';
import { mostPieces, readWorkerCount } from '../../src/pipeline/read.js';
import { fromWireError, toWireError } from '../../src/pipeline/threads.js';

describe('mostPieces', () => {
  it('bounds the pieces by what each object could hold decompressed, at least one per object', () => {
    assert.equal(mostPieces([]), 0);
    assert.equal(mostPieces([{ size: 0 }]), 1);
    assert.equal(mostPieces([{ size: 2_000 }]), 1);
    assert.equal(mostPieces([{ size: 4_096 }]), 1);
    assert.equal(mostPieces([{ size: 4_097 }]), 2);
    assert.equal(mostPieces([{ size: 1_000 }, { size: 1_000 }, { size: 1_000 }]), 3);
    assert.equal(mostPieces([{ size: 1_000_000 }]), 245);
  });

  it('is unbounded when a size is unknown (an object store that does not say)', () => {
    assert.equal(mostPieces([{ size: 1_000 }, {}]), Infinity);
  });
});

describe('readWorkerCount', () => {
  it('one worker per core, at least one and at most four', () => {
    assert.equal(readWorkerCount({}, 1), 1);
    assert.equal(readWorkerCount({}, 2), 2);
    assert.equal(readWorkerCount({}, 64), 4);
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: ' ' }, 2), 2);
  });

  it('never more than the input can have pieces, unless SELLIGENT_EXPORT_READ_THREADS says so', () => {
    assert.equal(readWorkerCount({}, 4, 1), 1);
    assert.equal(readWorkerCount({}, 4, 3), 3);
    assert.equal(readWorkerCount({}, 4, 9), 4);
    assert.equal(readWorkerCount({}, 2, Infinity), 2);
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: '3' }, 4, 1), 3);
  });

  it('SELLIGENT_EXPORT_READ_THREADS overrides it, within 1-16', () => {
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: '1' }, 8), 1);
    assert.equal(readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: '6' }, 2), 6);
    for (const bad of ['0', '17', '1.5', 'two', '-1']) {
      assert.throws(
        () => readWorkerCount({ SELLIGENT_EXPORT_READ_THREADS: bad }, 2),
        (error: ConfigError) => {
          assert.ok(error instanceof ConfigError);
          assert.equal(error.code, 'READ_THREADS_INVALID');
          assert.equal(error.exitCode, 2);
          assert.match(error.message, /^SELLIGENT_EXPORT_READ_THREADS: expected a whole number from 1 to 16, got "/);
          return true;
        },
      );
    }
  });
});

describe('errors crossing from a worker thread', () => {
  it('an exporter error comes back as the same class, code, stage and details', () => {
    const original = new InputError('INPUT_MALFORMED', 'input x.csv: malformed CSV', {
      stage: 'read',
      details: { uri: 'x.csv' },
    });
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

  const http: HttpExchange = {
    route: 'loadList',
    method: 'POST',
    path: '/organizations/o/lists/l/data/load',
    status: 400,
    errorCode: null,
    attempts: 2,
    body: 'Failed: bad',
  };
  const options = { stage: 'list-load' as const, details: { why: 'x' } };
  const family: Array<[ExporterError, Array<abstract new (...args: never[]) => ExporterError>]> = [
    [new ConfigError('LIST_NOT_FOUND', 'no list', options), [ConfigError]],
    [new RefusedError('LOAD_REFUSED', 'refused', options), [RefusedError]],
    [new InputError('INPUT_MALFORMED', 'bad csv', options), [InputError]],
    [new AuthError('STORAGE_ACCESS_DENIED', 'denied', options), [AuthError]],
    [new TransientError('STORAGE_UNAVAILABLE', 'later', options), [TransientError]],
    [Object.assign(new InterruptedError('SIGTERM'), { stage: 'read' as const }), [InterruptedError, TransientError]],
    [new PartialFailureError('STOPPED_ON_ERROR', 'stopped', options), [PartialFailureError]],
    [new InternalError('WORKER_EXITED', 'gone', options), [InternalError]],
    [
      new SelligentAuthError('SELLIGENT_UNAUTHORIZED', 'no', { ...options, http: { ...http, status: 401 } }),
      [SelligentAuthError, AuthError],
    ],
    [
      new SelligentUnavailableError('SELLIGENT_UNAVAILABLE', 'down', { ...options, http: { ...http, status: 503 } }),
      [SelligentUnavailableError, TransientError],
    ],
    [
      new SelligentRefusedError('SELLIGENT_REQUEST_REFUSED', 'refused', { ...options, http }),
      [SelligentRefusedError, RefusedError],
    ],
    [
      new BatchTooLargeError('too large', { ...options, http: { ...http, status: 413 }, mayHaveApplied: true }),
      [BatchTooLargeError, SelligentUnavailableError],
    ],
  ];

  for (const [original, classes] of family) {
    it(`${original.name} comes back as itself: class, code, stage, details, exit code and what it carries`, () => {
      const back = fromWireError(structuredClone(toWireError(original)));
      for (const Class of classes) assert.ok(back instanceof Class, `${back.name} is a ${Class.name}`);
      assert.ok(back instanceof ExporterError);
      assert.equal(back.name, original.name);
      assert.equal(back.message, original.message);
      assert.equal(back.code, original.code);
      assert.equal(back.stage, original.stage);
      assert.deepEqual(back.details, original.details);
      assert.equal(back.exitCode, original.exitCode);
      assert.equal(back.stack, original.stack);
      if ('http' in original) assert.deepEqual((back as { http?: unknown }).http, original.http);
      if (original instanceof BatchTooLargeError) assert.equal((back as BatchTooLargeError).mayHaveApplied, true);
    });
  }

  it('an error named like a family member but without a known code stays a plain error', () => {
    const back = fromWireError({ name: 'ConfigError', message: 'm', code: 'NOT_A_CODE' }) as Error & { code?: string };
    assert.ok(!(back instanceof ExporterError));
    assert.equal(back.code, 'NOT_A_CODE');
  });
});
