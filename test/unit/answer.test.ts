/**
 * How the client turns Selligent's answers into errors: class, code, exit code and the exchange the
 * error carries, for every kind of answer, without a server.
 */
import assert from 'node:assert/strict';
import { afterEach, describe, test } from 'node:test';
import {
  AuthError,
  ConfigError,
  ExitCode,
  RefusedError,
  TransientError,
  type ErrorCode,
  type ExporterError,
} from '../../src/errors.js';
import { clearSecrets, registerSecret } from '../../src/secrets.js';
import {
  classifyAnswer,
  failedRequestError,
  isAbsent,
  mayHaveApplied,
  redirectError,
  serviceText,
  type FailedRequest,
} from '../../src/selligent/answer.js';
import {
  isSelligentHttpError,
  SelligentAuthError,
  SelligentRefusedError,
  SelligentUnavailableError,
} from '../../src/selligent/http-error.js';
import { classify429 } from '../../src/selligent/retry.js';

const ENVELOPE = JSON.stringify({
  result_code: 'Failed',
  message: 'Bad request',
  errors: [{ error_code: 'E1', description: 'field X unknown' }],
});

function failed(over: Partial<FailedRequest>): FailedRequest {
  return {
    route: 'loadList',
    method: 'POST',
    path: '/organizations/o/lists/l/data/load',
    status: 400,
    errorCode: undefined,
    body: '',
    attempts: 1,
    reason: 'not-retryable',
    ...over,
  };
}

function expect(
  error: ExporterError,
  Class: abstract new (...args: never[]) => ExporterError,
  code: ErrorCode,
  exitCode: number,
): void {
  assert.ok(error instanceof Class, `${error.name} is a ${Class.name}`);
  assert.equal(error.code, code);
  assert.equal(error.exitCode, exitCode);
}

describe('failedRequestError: status to class, code and exit code', () => {
  test('401 and 403 are authentication failures (exit 4) carrying the exchange', () => {
    for (const status of [401, 403]) {
      const error = failedRequestError(
        failed({
          route: 'getOrganization',
          method: 'GET',
          path: '/organizations/o',
          status,
          body: 'Authorization has been denied for this request.',
        }),
      );
      expect(error, SelligentAuthError, 'SELLIGENT_UNAUTHORIZED', ExitCode.auth);
      assert.ok(error instanceof AuthError);
      assert.equal(
        error.message,
        `GET /Portal/Api/organizations/o answered ${status}: Selligent refused the credentials (wrong SELLIGENT_API_KEY/SELLIGENT_API_SECRET, or the service account may not call this endpoint or organization) (Authorization has been denied for this request.)`,
      );
      assert.ok(isSelligentHttpError(error));
      assert.deepEqual(error.http, {
        route: 'getOrganization',
        method: 'GET',
        path: '/organizations/o',
        status,
        errorCode: null,
        attempts: 1,
        body: 'Authorization has been denied for this request.',
      });
      // Callers that read `details` (the organization check reads the status) still find the same facts.
      assert.deepEqual(error.details, { route: 'getOrganization', status, errorCode: null, attempts: 1 });
    }
  });

  test('404 is SELLIGENT_NOT_FOUND and 400 a refusal: RefusedError (exit 2, 6 once written), not ConfigError', () => {
    const notFound = failedRequestError(
      failed({ status: 404, body: JSON.stringify({ result_code: 'NotFound', message: 'List not found' }) }),
    );
    expect(notFound, SelligentRefusedError, 'SELLIGENT_NOT_FOUND', ExitCode.config);
    assert.ok(notFound instanceof RefusedError);
    assert.ok(!(notFound instanceof ConfigError), 'a refusal is not a configuration error found before writing');
    assert.equal(
      notFound.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load answered 404: not found (NotFound: List not found)',
    );

    const refused = failedRequestError(failed({ status: 400, body: ENVELOPE, attempts: 3 }));
    expect(refused, SelligentRefusedError, 'SELLIGENT_REQUEST_REFUSED', ExitCode.config);
    assert.equal(
      refused.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load answered 400 (Failed: Bad request: E1 field X unknown)',
    );
    assert.equal((refused as SelligentRefusedError).http.attempts, 3);
    assert.equal((refused as SelligentRefusedError).http.body, 'Failed: Bad request: E1 field X unknown');

    const notFoundIn400 = failedRequestError(
      failed({ status: 400, body: JSON.stringify({ result_code: 'NotFound' }) }),
    );
    expect(notFoundIn400, SelligentRefusedError, 'SELLIGENT_REQUEST_REFUSED', ExitCode.config);
  });

  test('a missing unique key index and a 413 outside a splittable load are refusals with their own codes', () => {
    const key = failedRequestError(
      failed({
        status: 400,
        body: JSON.stringify({ result_code: 'Failed', message: 'No unique index on the business key' }),
      }),
    );
    expect(key, SelligentRefusedError, 'KEY_INDEX_MISSING', ExitCode.config);
    assert.match(key.message, /Fix: define it once with PUT \.\.\.\/lists\/\{list\}\/businesskey/);
    expect(
      failedRequestError(failed({ status: 413 })),
      SelligentRefusedError,
      'SELLIGENT_BODY_TOO_LARGE',
      ExitCode.config,
    );
    expect(
      failedRequestError(failed({ status: 409, body: 'exists' })),
      SelligentRefusedError,
      'SELLIGENT_REQUEST_REFUSED',
      ExitCode.config,
    );
  });

  test('408, 5xx and 429 after the retries are transient (exit 5), naming the attempts', () => {
    for (const status of [408, 500, 502, 503, 504]) {
      const error = failedRequestError(failed({ status, attempts: 8, reason: 'attempts-exhausted' }));
      expect(error, SelligentUnavailableError, 'SELLIGENT_UNAVAILABLE', ExitCode.transient);
      assert.equal(
        error.message,
        `POST /Portal/Api/organizations/o/lists/l/data/load answered ${status} after 8 attempts`,
      );
    }
    const limited = failedRequestError(
      failed({ status: 429, attempts: 8, body: 'API calls quota exceeded! The maximum allowed is 2500 per minute' }),
    );
    expect(limited, SelligentUnavailableError, 'SELLIGENT_RATE_LIMITED', ExitCode.transient);
    assert.match(
      limited.message,
      /answered 429 \(rate limit\) after 8 attempts; lower requests_per_minute .* \(API calls quota exceeded!/,
    );
  });

  test('a 429 that is the List bulk lock, its budget spent, is SELLIGENT_LIST_BUSY', () => {
    const error = failedRequestError(
      failed({
        status: 429,
        attempts: 5,
        reason: 'list-busy-budget-exhausted',
        listBusy: { attempts: 4, seconds: 12.5 },
      }),
    );
    expect(error, SelligentUnavailableError, 'SELLIGENT_LIST_BUSY', ExitCode.transient);
    assert.match(error.message, /answered 429 4 time\(s\) over 12\.5 s: another process holds this List's bulk lock/);
    assert.deepEqual(error.details, { route: 'loadList', status: 429, attempts: 5, busyAttempts: 4 });
  });

  test('no answer: a time-out or a network failure, transient', () => {
    const timeout = failedRequestError(
      failed({ status: undefined, errorCode: 'ETIMEDOUT', attempts: 2, reason: 'budget-exhausted' }),
    );
    expect(timeout, SelligentUnavailableError, 'SELLIGENT_TIMEOUT', ExitCode.transient);
    assert.equal(
      timeout.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load timed out after 2 attempts (retry time budget spent)',
    );
    assert.equal((timeout as SelligentUnavailableError).http.status, null);
    assert.equal((timeout as SelligentUnavailableError).http.errorCode, 'ETIMEDOUT');
    const refused = failedRequestError(
      failed({ status: undefined, errorCode: 'ECONNREFUSED', attempts: 8, reason: 'attempts-exhausted' }),
    );
    expect(refused, SelligentUnavailableError, 'SELLIGENT_UNREACHABLE', ExitCode.transient);
    assert.equal(
      refused.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load failed (ECONNREFUSED) after 8 attempts',
    );
  });

  test('200 with a transient failure code after the retries, or with no readable answer', () => {
    const unavailable = failedRequestError(
      failed({
        status: 200,
        resultCode: 'ServiceUnavailable',
        body: JSON.stringify({ result_code: 'ServiceUnavailable' }),
        attempts: 8,
      }),
    );
    expect(unavailable, SelligentUnavailableError, 'SELLIGENT_UNAVAILABLE', ExitCode.transient);
    assert.equal(
      unavailable.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load answered 200 with result_code ServiceUnavailable after 8 attempts (ServiceUnavailable)',
    );
    assert.equal((unavailable as SelligentUnavailableError).http.resultCode, 'ServiceUnavailable');

    const bad = failedRequestError(
      failed({ status: 200, resultCode: null, body: '<html>maintenance</html>', attempts: 8 }),
    );
    expect(bad, SelligentUnavailableError, 'SELLIGENT_BAD_RESPONSE', ExitCode.transient);
    assert.equal(
      bad.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load answered 200 with a body that is not a Selligent answer (no valid result_code) after 8 attempts: "<html>maintenance</html>"',
    );
  });

  test('200 with a Failed result_code (refused by classifyAnswer) is a refusal of the request', () => {
    const body = JSON.stringify({ result_code: 'Failed', message: 'Segment is not static' });
    assert.deepEqual(classifyAnswer(200, body, false), { verdict: 'refused' });
    const error = failedRequestError(failed({ route: 'createStaticSegment', status: 200, body }));
    expect(error, SelligentRefusedError, 'SELLIGENT_REQUEST_REFUSED', ExitCode.config);
    assert.equal(
      error.message,
      'POST /Portal/Api/organizations/o/lists/l/data/load answered 200 (Failed: Segment is not static)',
    );
  });
});

describe('the service text an error shows', () => {
  afterEach(() => clearSecrets());

  test('an envelope is summarised, other bodies shown as they came, long ones trimmed', () => {
    assert.equal(serviceText(''), '');
    assert.equal(serviceText(ENVELOPE), 'Failed: Bad request: E1 field X unknown');
    assert.equal(serviceText('  plain\n\ttext  '), 'plain text');
    assert.equal(serviceText('null'), 'null');
    const long = serviceText('x'.repeat(400));
    assert.equal(long.length, 300);
    assert.ok(long.endsWith('...'));
  });

  test('a secret the service echoes is scrubbed from the message and the exchange', () => {
    registerSecret('s3cr3t-value');
    const error = failedRequestError(failed({ status: 400, body: 'bad key s3cr3t-value' }));
    assert.ok(!error.message.includes('s3cr3t-value'), error.message);
    assert.ok(!(error as SelligentRefusedError).http.body.includes('s3cr3t-value'));
  });
});

describe('answers that are not errors', () => {
  test('absence: 404, or 400 with result_code NotFound', () => {
    assert.equal(isAbsent(404, ''), true);
    assert.equal(isAbsent(400, JSON.stringify({ result_code: 'NotFound' })), true);
    assert.equal(isAbsent(400, JSON.stringify({ result_code: 'Failed' })), false);
    assert.equal(isAbsent(400, 'not json'), false);
    assert.equal(isAbsent(400, '[]'), false);
    assert.equal(isAbsent(500, ''), false);
  });

  test('which failed attempts may still have been applied', () => {
    assert.equal(mayHaveApplied(undefined, undefined), true, 'no answer');
    for (const status of [408, 500, 502, 504]) assert.equal(mayHaveApplied(status, undefined), true, String(status));
    for (const status of [429, 503, 400]) assert.equal(mayHaveApplied(status, undefined), false, String(status));
    assert.equal(mayHaveApplied(200, 'ServiceUnavailable'), false);
    assert.equal(mayHaveApplied(200, 'InternalServerError'), true);
    assert.equal(mayHaveApplied(200, null), true);
  });

  test('a 429 is the quota or the List bulk lock (classify429), which decides the error code when retries stop', () => {
    const quota = 'API calls quota exceeded! The maximum allowed is 2500 per minute';
    assert.equal(classify429({ 'x-ratelimit-remaining': '2400' }, quota, true), 'quota');
    assert.equal(classify429({ 'x-ratelimit-remaining': '0' }, '', true), 'quota');
    assert.equal(classify429({ 'x-ratelimit-remaining': '2400' }, '', true), 'list-busy');
    assert.equal(classify429({ 'x-ratelimit-remaining': '2400' }, '', false), 'quota');
  });
});

describe('redirectError', () => {
  test('names the target without user info or query, and a base URL to set', () => {
    const error = redirectError(
      'GET /Portal/Api/organizations/o',
      301,
      'https://user:pw@new.example/Portal/Api/organizations/o?token=x',
      'http://old.example/Portal/Api/organizations/o',
      '/Portal/Api/organizations/o',
      'http://old.example',
    );
    assert.ok(error instanceof ConfigError);
    assert.equal(error.code, 'BASE_URL_REDIRECTS');
    assert.equal(error.exitCode, ExitCode.config);
    assert.ok(!error.message.includes('pw') && !error.message.includes('token'), error.message);
    assert.match(
      error.message,
      /redirects to https:\/\/new\.example\/Portal\/Api\/organizations\/o; set SELLIGENT_BASE_URL to https:\/\/new\.example /,
    );
    const bare = redirectError('GET /x', 302, undefined, 'http://old.example/x', '/x', 'http://old.example');
    assert.match(bare.message, /a redirect without a usable Location/);
  });

  test('is not a transient or HTTP error', () => {
    const error = redirectError('GET /x', 302, undefined, 'http://a/x', '/x', 'http://a');
    assert.ok(!(error instanceof TransientError));
    assert.ok(!isSelligentHttpError(error));
  });
});
