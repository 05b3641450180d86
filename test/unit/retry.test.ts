import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_RETRY_POLICY,
  classify429,
  isRetryable,
  retryDecision,
  serverRequestedWaitMs,
  type RetryPolicy,
} from '../../src/selligent/retry.js';

const POLICY: RetryPolicy = { maxAttempts: 8, budgetMs: 15 * 60_000, baseDelayMs: 500, maxDelayMs: 60_000 };
const NOW = Date.parse('2026-05-01T10:00:00Z');

describe('isRetryable', () => {
  for (const status of [408, 429, 500, 502, 503, 504]) {
    it(`retries HTTP ${status}`, () => assert.equal(isRetryable({ status }), true));
  }
  for (const status of [400, 401, 403, 404, 405, 409, 413, 422, 501, 505]) {
    it(`does not retry HTTP ${status}`, () => assert.equal(isRetryable({ status }), false));
  }
  for (const errorCode of [
    'ECONNRESET',
    'ECONNREFUSED',
    'ECONNABORTED',
    'ETIMEDOUT',
    'EPIPE',
    'EAI_AGAIN',
    'ENETUNREACH',
    'EHOSTUNREACH',
    'ENETDOWN',
    'UND_ERR_SOCKET',
    'ERR_STREAM_PREMATURE_CLOSE',
    'ECONNCLOSED',
  ]) {
    it(`retries network error ${errorCode}`, () => assert.equal(isRetryable({ errorCode }), true));
  }
  for (const errorCode of [
    'ENOTFOUND',
    'CERT_HAS_EXPIRED',
    'ERR_TLS_CERT_ALTNAME_INVALID',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'ERR_INVALID_URL',
    'EPROTO',
  ]) {
    it(`does not retry ${errorCode}`, () => assert.equal(isRetryable({ errorCode }), false));
  }
  it('a response status decides over an error code', () => {
    assert.equal(isRetryable({ status: 400, errorCode: 'ECONNRESET' }), false);
  });
  it('nothing at all is not retryable', () => assert.equal(isRetryable({}), false));
});

describe('serverRequestedWaitMs', () => {
  it('Retry-After in seconds', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': '5' }, NOW), 5_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': '0' }, NOW), 0);
    assert.equal(serverRequestedWaitMs({ 'retry-after': ' 7 ' }, NOW), 7_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': '1.5' }, NOW), 1_500);
  });

  it('Retry-After as an HTTP date', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': new Date(NOW + 30_000).toUTCString() }, NOW), 30_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': 'Fri, 01 May 2026 10:02:00 GMT' }, NOW), 120_000);
  });

  it('Retry-After as a date in the past means now', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': new Date(NOW - 30_000).toUTCString() }, NOW), 0);
  });

  it('X-RateLimit-Reset (seconds left in the window) when there is no Retry-After', () => {
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-reset': '12' }, NOW), 12_000);
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0' }, NOW), 0);
  });

  it('Retry-After wins over X-RateLimit-Reset', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': '3', 'x-ratelimit-reset': '40' }, NOW), 3_000);
  });

  it('an unreadable Retry-After falls back to X-RateLimit-Reset', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': 'soon', 'x-ratelimit-reset': '4' }, NOW), 4_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': '', 'x-ratelimit-reset': '4' }, NOW), 4_000);
  });

  it('a negative or digit-bearing garbage Retry-After falls back to X-RateLimit-Reset', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': '-1', 'x-ratelimit-reset': '5' }, NOW), 5_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': 'abc 5', 'x-ratelimit-reset': '5' }, NOW), 5_000);
  });

  it('takes the first of repeated header values', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': ['2', '9'] }, NOW), 2_000);
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-reset': ['6', '1'] }, NOW), 6_000);
  });

  it('caps the wait at one hour', () => {
    assert.equal(serverRequestedWaitMs({ 'retry-after': '99999' }, NOW), 3_600_000);
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-reset': '99999' }, NOW), 3_600_000);
    assert.equal(serverRequestedWaitMs({ 'retry-after': new Date(NOW + 86_400_000).toUTCString() }, NOW), 3_600_000);
  });

  it('nothing usable: undefined', () => {
    assert.equal(serverRequestedWaitMs(undefined, NOW), undefined);
    assert.equal(serverRequestedWaitMs({}, NOW), undefined);
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-reset': 'soon' }, NOW), undefined);
    assert.equal(serverRequestedWaitMs({ 'x-ratelimit-reset': '-3' }, NOW), undefined);
    assert.equal(serverRequestedWaitMs({ 'retry-after': '   ' }, NOW), undefined);
    assert.equal(serverRequestedWaitMs({ 'retry-after': undefined }, NOW), undefined);
  });
});

describe('retryDecision', () => {
  it('a success is not retried', () => {
    for (const status of [200, 201, 204, 304])
      assert.deepEqual(retryDecision({ attempt: 1, status, elapsedMs: 0 }, POLICY, 0.5), {
        retry: false,
        reason: 'success',
      });
  });

  it('429 with Retry-After in seconds waits that long plus 250 ms, without jitter', () => {
    for (const random of [0, 0.5, 0.999]) {
      assert.deepEqual(
        retryDecision({ attempt: 1, status: 429, headers: { 'retry-after': '5' }, elapsedMs: 0 }, POLICY, random),
        {
          retry: true,
          delayMs: 5_250,
          reason: 'server-requested wait',
        },
      );
    }
  });

  it('429 with Retry-After as an HTTP date waits until then', () => {
    const before = Date.now();
    const date = new Date(before + 20_000);
    const decision = retryDecision(
      { attempt: 1, status: 429, headers: { 'retry-after': date.toUTCString() }, elapsedMs: 0 },
      POLICY,
      0.5,
    );
    const after = Date.now();
    assert.equal(decision.retry, true);
    if (!decision.retry) return;
    assert.equal(decision.reason, 'server-requested wait');
    // HTTP dates have whole seconds.
    const until = Math.floor(date.getTime() / 1000) * 1000;
    assert.ok(
      decision.delayMs >= until - after + 250 && decision.delayMs <= until - before + 250,
      String(decision.delayMs),
    );
  });

  it('429 with only X-RateLimit-Reset waits for the window to turn', () => {
    assert.deepEqual(
      retryDecision(
        {
          attempt: 2,
          status: 429,
          headers: { 'x-ratelimit-limit': '2500, 2500;w=60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '17' },
          elapsedMs: 0,
        },
        POLICY,
        0.3,
      ),
      {
        retry: true,
        delayMs: 17_250,
        reason: 'server-requested wait',
      },
    );
  });

  it('429 with neither header backs off exponentially', () => {
    assert.deepEqual(retryDecision({ attempt: 1, status: 429, elapsedMs: 0 }, POLICY, 0), {
      retry: true,
      delayMs: 250,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 1, status: 429, headers: {}, elapsedMs: 0 }, POLICY, 0), {
      retry: true,
      delayMs: 250,
      reason: 'backoff',
    });
  });

  it('503 honours Retry-After', () => {
    assert.deepEqual(
      retryDecision({ attempt: 1, status: 503, headers: { 'retry-after': '2' }, elapsedMs: 0 }, POLICY, 0),
      { retry: true, delayMs: 2_250, reason: 'server-requested wait' },
    );
  });

  it('500/502/504/408 back off even with a Retry-After', () => {
    for (const status of [500, 502, 504, 408]) {
      assert.deepEqual(
        retryDecision({ attempt: 1, status, headers: { 'retry-after': '30' }, elapsedMs: 0 }, POLICY, 0),
        { retry: true, delayMs: 250, reason: 'backoff' },
      );
    }
  });

  for (const status of [400, 401, 403, 404, 413, 422]) {
    it(`HTTP ${status} is not retried`, () => {
      assert.deepEqual(
        retryDecision({ attempt: 1, status, headers: { 'retry-after': '1' }, elapsedMs: 0 }, POLICY, 0),
        { retry: false, reason: 'not-retryable' },
      );
    });
  }

  it('network errors back off; unknown error codes fail fast', () => {
    assert.deepEqual(retryDecision({ attempt: 1, errorCode: 'ECONNRESET', elapsedMs: 0 }, POLICY, 0.5), {
      retry: true,
      delayMs: 375,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 1, errorCode: 'ETIMEDOUT', elapsedMs: 0 }, POLICY, 0), {
      retry: true,
      delayMs: 250,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 1, errorCode: 'ENOTFOUND', elapsedMs: 0 }, POLICY, 0), {
      retry: false,
      reason: 'not-retryable',
    });
    assert.deepEqual(retryDecision({ attempt: 1, elapsedMs: 0 }, POLICY, 0), { retry: false, reason: 'not-retryable' });
  });

  it('the backoff doubles per attempt, jittered over the upper half', () => {
    for (let attempt = 1; attempt <= 7; attempt++) {
      const exponential = 500 * 2 ** (attempt - 1);
      const low = retryDecision({ attempt, status: 500, elapsedMs: 0 }, POLICY, 0);
      const middle = retryDecision({ attempt, status: 500, elapsedMs: 0 }, POLICY, 0.5);
      const high = retryDecision({ attempt, status: 500, elapsedMs: 0 }, POLICY, 0.999_999);
      assert.ok(low.retry && middle.retry && high.retry);
      if (!low.retry || !middle.retry || !high.retry) return;
      assert.equal(low.delayMs, exponential / 2, `attempt ${attempt} lower bound`);
      assert.equal(middle.delayMs, Math.round(exponential * 0.75));
      assert.equal(high.delayMs, exponential, `attempt ${attempt} upper bound`);
    }
  });

  it('every jittered delay lies within [half, full] of the capped exponential', () => {
    const policy: RetryPolicy = { ...POLICY, maxAttempts: 50, budgetMs: Number.MAX_SAFE_INTEGER };
    for (let attempt = 1; attempt < 50; attempt++) {
      const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
      for (let i = 0; i <= 20; i++) {
        const decision = retryDecision({ attempt, errorCode: 'ECONNRESET', elapsedMs: 0 }, policy, i / 20.000_001);
        assert.ok(decision.retry);
        if (!decision.retry) return;
        assert.ok(
          decision.delayMs >= exponential / 2 && decision.delayMs <= exponential,
          `attempt ${attempt}: ${decision.delayMs}`,
        );
      }
    }
  });

  it('the delay is capped at maxDelayMs', () => {
    const policy: RetryPolicy = { ...POLICY, maxAttempts: 50 };
    assert.deepEqual(retryDecision({ attempt: 30, status: 502, elapsedMs: 0 }, policy, 0.999_999), {
      retry: true,
      delayMs: 60_000,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 30, status: 502, elapsedMs: 0 }, policy, 0), {
      retry: true,
      delayMs: 30_000,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 49, status: 502, elapsedMs: 0 }, policy, 0.5), {
      retry: true,
      delayMs: 45_000,
      reason: 'backoff',
    });
  });

  it('stops after maxAttempts attempts', () => {
    assert.equal(retryDecision({ attempt: 7, status: 503, elapsedMs: 0 }, POLICY, 0).retry, true);
    assert.deepEqual(retryDecision({ attempt: 8, status: 503, elapsedMs: 0 }, POLICY, 0), {
      retry: false,
      reason: 'attempts-exhausted',
    });
    assert.deepEqual(
      retryDecision({ attempt: 9, status: 429, headers: { 'retry-after': '1' }, elapsedMs: 0 }, POLICY, 0),
      { retry: false, reason: 'attempts-exhausted' },
    );
    assert.deepEqual(retryDecision({ attempt: 1, status: 503, elapsedMs: 0 }, { ...POLICY, maxAttempts: 1 }, 0), {
      retry: false,
      reason: 'attempts-exhausted',
    });
  });

  it('a non-retryable status is reported as such even on the last attempt', () => {
    assert.deepEqual(retryDecision({ attempt: 8, status: 400, elapsedMs: 0 }, POLICY, 0), {
      retry: false,
      reason: 'not-retryable',
    });
  });

  it('gives up when the wait would overrun the total budget', () => {
    const policy: RetryPolicy = { ...POLICY, budgetMs: 10_000 };
    assert.deepEqual(
      retryDecision({ attempt: 1, status: 429, headers: { 'retry-after': '5' }, elapsedMs: 4_750 }, policy, 0),
      { retry: true, delayMs: 5_250, reason: 'server-requested wait' },
    );
    assert.deepEqual(
      retryDecision({ attempt: 1, status: 429, headers: { 'retry-after': '5' }, elapsedMs: 4_751 }, policy, 0),
      { retry: false, reason: 'budget-exhausted' },
    );
    assert.deepEqual(
      retryDecision({ attempt: 1, status: 429, headers: { 'retry-after': '60' }, elapsedMs: 0 }, policy, 0),
      { retry: false, reason: 'budget-exhausted' },
    );
    assert.deepEqual(retryDecision({ attempt: 3, status: 500, elapsedMs: 9_000 }, policy, 0), {
      retry: true,
      delayMs: 1_000,
      reason: 'backoff',
    });
    assert.deepEqual(retryDecision({ attempt: 3, status: 500, elapsedMs: 9_001 }, policy, 0), {
      retry: false,
      reason: 'budget-exhausted',
    });
  });

  it('the default policy: 8 attempts, 15 minutes, 0.5 s to 60 s', () => {
    assert.deepEqual(DEFAULT_RETRY_POLICY, { maxAttempts: 8, budgetMs: 900_000, baseDelayMs: 500, maxDelayMs: 60_000 });
  });

  it('a whole retry sequence under the default policy stays within attempts and budget', () => {
    let elapsedMs = 0;
    let attempts: number;
    for (let attempt = 1; ; attempt++) {
      attempts = attempt;
      const decision = retryDecision({ attempt, status: 503, elapsedMs }, DEFAULT_RETRY_POLICY, 0.999_999);
      if (!decision.retry) {
        assert.equal(decision.reason, 'attempts-exhausted');
        break;
      }
      elapsedMs += decision.delayMs;
    }
    assert.equal(attempts, 8);
    assert.equal(elapsedMs, 500 + 1_000 + 2_000 + 4_000 + 8_000 + 16_000 + 32_000);
  });
});

describe('classify429: the quota, or a busy List', () => {
  const QUOTA = 'API calls quota exceeded! The maximum allowed is 2500 per minute';
  const ENVELOPE = JSON.stringify({
    result_code: 'Failed',
    message: 'Another bulk operation is in progress on this list',
  });

  it('the quota text is the quota, on any route and whatever the headers say', () => {
    assert.equal(classify429({}, QUOTA, true), 'quota');
    assert.equal(classify429({ 'x-ratelimit-remaining': '12' }, QUOTA, true), 'quota');
    assert.equal(classify429(undefined, QUOTA, false), 'quota');
  });

  it('X-RateLimit-Remaining 0 is the quota (also in the "2500, 2500;w=60" list form)', () => {
    assert.equal(classify429({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '20' }, ENVELOPE, true), 'quota');
    assert.equal(classify429({ 'x-ratelimit-remaining': ['0'] }, '', true), 'quota');
    assert.equal(classify429({ 'x-ratelimit-remaining': '0, 0;w=60' }, '', true), 'quota');
  });

  it('any other 429 on a bulk route means the List is busy: an envelope with quota left, no headers at all, an empty body', () => {
    assert.equal(
      classify429({ 'x-ratelimit-remaining': '2400', 'x-ratelimit-reset': '31' }, ENVELOPE, true),
      'list-busy',
    );
    assert.equal(classify429({}, ENVELOPE, true), 'list-busy');
    assert.equal(classify429(undefined, '', true), 'list-busy');
    assert.equal(classify429({ 'x-ratelimit-remaining': 'lots' }, 'Too Many Requests', true), 'list-busy');
  });

  it('on other routes an unexplained 429 is taken as the quota', () => {
    assert.equal(classify429({ 'x-ratelimit-remaining': '2400' }, ENVELOPE, false), 'quota');
    assert.equal(classify429({}, '', false), 'quota');
  });
});

describe('retryDecision: a busy List', () => {
  const BUSY: RetryPolicy = {
    ...POLICY,
    maxAttempts: 2,
    budgetMs: 60_000,
    listBusy: { budgetMs: 300_000, baseDelayMs: 2_000, maxDelayMs: 30_000 },
  };

  it('backs off from its own base delay, capped by its own maximum, with jitter over the upper half', () => {
    const busy = (attempt: number, random: number) =>
      retryDecision({ attempt: 1, status: 429, elapsedMs: 0, listBusy: { attempt, elapsedMs: 0 } }, BUSY, random);
    assert.deepEqual(busy(1, 0), { retry: true, delayMs: 1_000, reason: 'backoff (List busy)' });
    assert.deepEqual(busy(1, 0.999_999), { retry: true, delayMs: 2_000, reason: 'backoff (List busy)' });
    assert.deepEqual(busy(3, 0.999_999), { retry: true, delayMs: 8_000, reason: 'backoff (List busy)' });
    assert.deepEqual(busy(10, 0.999_999), { retry: true, delayMs: 30_000, reason: 'backoff (List busy)' });
  });

  it('is not bounded by max attempts nor by the general budget, only by its own', () => {
    const decision = retryDecision(
      { attempt: 9, status: 429, elapsedMs: 200_000, listBusy: { attempt: 20, elapsedMs: 200_000 } },
      BUSY,
      0,
    );
    assert.deepEqual(decision, { retry: true, delayMs: 15_000, reason: 'backoff (List busy)' });
    assert.deepEqual(
      retryDecision(
        { attempt: 1, status: 429, elapsedMs: 290_000, listBusy: { attempt: 20, elapsedMs: 290_000 } },
        BUSY,
        0,
      ),
      { retry: false, reason: 'list-busy-budget-exhausted' },
    );
  });

  it('a whole busy sequence lasts the busy budget, however few attempts other failures get', () => {
    let elapsedMs = 0;
    let waits = 0;
    for (let attempt = 1; ; attempt++) {
      const decision = retryDecision(
        { attempt: 1, status: 429, elapsedMs, listBusy: { attempt, elapsedMs } },
        BUSY,
        0.999_999,
      );
      if (!decision.retry) {
        assert.equal(decision.reason, 'list-busy-budget-exhausted');
        break;
      }
      waits++;
      elapsedMs += decision.delayMs;
    }
    assert.ok(elapsedMs <= 300_000 && elapsedMs > 300_000 - 30_000, String(elapsedMs));
    assert.equal(waits, 4 + Math.floor((300_000 - 30_000) / 30_000));
  });

  it('honours Retry-After when the busy answer carries one; ignores X-RateLimit-Reset while quota is left', () => {
    assert.deepEqual(
      retryDecision(
        {
          attempt: 1,
          status: 429,
          headers: { 'retry-after': '3' },
          elapsedMs: 0,
          listBusy: { attempt: 1, elapsedMs: 0 },
        },
        BUSY,
        0,
      ),
      { retry: true, delayMs: 3_250, reason: 'server-requested wait (List busy)' },
    );
    assert.deepEqual(
      retryDecision(
        {
          attempt: 1,
          status: 429,
          headers: { 'x-ratelimit-remaining': '2400', 'x-ratelimit-reset': '50' },
          elapsedMs: 0,
          listBusy: { attempt: 1, elapsedMs: 0 },
        },
        BUSY,
        0,
      ),
      { retry: true, delayMs: 1_000, reason: 'backoff (List busy)' },
    );
  });

  it('without a busy policy, or for a quota 429, the usual rules apply', () => {
    const { listBusy: _, ...plain } = BUSY;
    assert.deepEqual(
      retryDecision({ attempt: 2, status: 429, elapsedMs: 0, listBusy: { attempt: 2, elapsedMs: 0 } }, plain, 0),
      { retry: false, reason: 'attempts-exhausted' },
    );
    assert.deepEqual(retryDecision({ attempt: 2, status: 429, elapsedMs: 0 }, BUSY, 0), {
      retry: false,
      reason: 'attempts-exhausted',
    });
  });
});
