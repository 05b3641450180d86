import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  asExporterError,
  AuthError,
  ConfigError,
  ExitCode,
  ExporterError,
  failureExitCode,
  InputError,
  InternalError,
  InterruptedError,
  isExporterError,
  PartialFailureError,
  RefusedError,
  TransientError,
} from '../../src/errors.js';

describe('error family', () => {
  const cases = [
    [ConfigError, 2, 'config'],
    [RefusedError, 2, 'config'],
    [InputError, 3, 'input'],
    [AuthError, 4, 'auth'],
    [TransientError, 5, 'transient'],
    [PartialFailureError, 6, 'partial'],
    [InternalError, 1, 'internal'],
  ] as const;

  for (const [Class, exitCode, name] of cases) {
    it(`${Class.name} exits with ${exitCode}`, () => {
      const cause = new Error('root cause');
      const error = new Class('INPUT_MALFORMED', 'something failed', { stage: 'read', details: { uri: 'x' }, cause });
      assert.equal(error.exitCode, exitCode);
      assert.equal(error.exitCode, ExitCode[name]);
      assert.equal(error.code, 'INPUT_MALFORMED');
      assert.equal(error.message, 'something failed');
      assert.equal(error.stage, 'read');
      assert.deepEqual(error.details, { uri: 'x' });
      assert.equal(error.cause, cause);
      assert.equal(error.name, Class.name);
      assert.ok(error instanceof ExporterError);
      assert.ok(error instanceof Error);
      assert.ok(isExporterError(error));
      assert.equal(asExporterError(error), error, 'an ExporterError passes through unchanged');
    });
  }

  it('InterruptedError is transient (exit 5) with code INTERRUPTED', () => {
    const bySignal = new InterruptedError('SIGTERM');
    assert.ok(bySignal instanceof TransientError);
    assert.equal(bySignal.exitCode, 5);
    assert.equal(bySignal.code, 'INTERRUPTED');
    assert.match(
      bySignal.message,
      /^stopped by SIGTERM after the work in flight; running the same export again is safe$/,
    );
    assert.match(new InterruptedError(new Error('x')).message, /^stopped by a signal /);
  });

  it('a refusal by the service is not a configuration error (ConfigError means nothing was written)', () => {
    const refused = new RefusedError('LOAD_REFUSED', 'refused');
    assert.ok(!(refused instanceof ConfigError));
    assert.equal(refused.exitCode, ExitCode.config, 'exit 2 before writes; the run turns it into 6 after writes');
  });

  it('after writes, configuration, input and refusal errors end the run with exit 6; the others keep theirs', () => {
    const errors = [
      new ConfigError('LIST_NOT_FOUND', 'x'),
      new RefusedError('SELLIGENT_REQUEST_REFUSED', 'x'),
      new InputError('INPUT_MALFORMED', 'x'),
      new AuthError('SELLIGENT_UNAUTHORIZED', 'x'),
      new TransientError('SELLIGENT_UNAVAILABLE', 'x'),
      new InternalError('INTERNAL', 'x'),
      new PartialFailureError('STOPPED_ON_ERROR', 'x'),
    ];
    assert.deepEqual(
      errors.map((error) => failureExitCode(error, false)),
      [2, 2, 3, 4, 5, 1, 6],
    );
    assert.deepEqual(
      errors.map((error) => failureExitCode(error, true)),
      [6, 6, 6, 4, 5, 1, 6],
    );
  });

  it('the exit codes are distinct and ok is 0', () => {
    assert.equal(ExitCode.ok, 0);
    assert.equal(new Set(Object.values(ExitCode)).size, Object.values(ExitCode).length);
  });

  it('without options: no stage, no details, no cause property', () => {
    const error = new ConfigError('INTERNAL', 'y');
    assert.equal(error.stage, undefined);
    assert.equal(error.details, undefined);
    assert.equal('cause' in error, false);
  });

  it('the stage can be set later (the pipeline fills it in)', () => {
    const error = new TransientError('INTERNAL', 'y');
    error.stage = 'list-load';
    assert.equal(error.stage, 'list-load');
  });
});

describe('asExporterError', () => {
  it('wraps an unknown Error as internal, keeping message, stack and cause', () => {
    const original = new TypeError('cannot read properties of undefined');
    const wrapped = asExporterError(original);
    assert.ok(wrapped instanceof InternalError);
    assert.equal(wrapped.exitCode, 1);
    assert.equal(wrapped.code, 'INTERNAL');
    assert.equal(wrapped.message, 'internal error: cannot read properties of undefined');
    assert.equal(wrapped.cause, original);
    assert.equal(wrapped.stack, original.stack);
  });

  for (const [value, message] of [
    ['a string', 'internal error: a string'],
    [42, 'internal error: 42'],
    [undefined, 'internal error: undefined'],
    [null, 'internal error: null'],
    [{ code: 'X' }, 'internal error: [object Object]'],
  ] as const) {
    it(`wraps a thrown ${value === null ? 'null' : typeof value}`, () => {
      const wrapped = asExporterError(value);
      assert.ok(wrapped instanceof InternalError);
      assert.equal(wrapped.exitCode, 1);
      assert.equal(wrapped.message, message);
    });
  }

  it('isExporterError is false for plain errors and values', () => {
    assert.equal(isExporterError(new Error('x')), false);
    assert.equal(isExporterError({ code: 'X', exitCode: 2 }), false);
    assert.equal(isExporterError(undefined), false);
  });
});
