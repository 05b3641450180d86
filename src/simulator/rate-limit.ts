/**
 * Quota per API key. 'token-bucket': `limit` tokens, refilled continuously at `limit / windowMs`; every API
 * request takes one token and an empty bucket answers 429. 'fixed' (variant V8): a window of `windowMs`
 * opens with the key's first request and takes `limit` requests; X-RateLimit-Reset is the time left in it.
 */

import type { RateLimitOptions } from './types.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

interface Window {
  start: number;
  count: number;
}

export interface RateDecision {
  allowed: boolean;
  limit: number;
  windowSeconds: number;
  /** Whole tokens left after this request. */
  remaining: number;
  /** Seconds until the next token (when refused) or until the bucket is full again (when allowed). */
  resetSeconds: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly options: RateLimitOptions,
    private readonly mode: 'token-bucket' | 'fixed' = 'token-bucket',
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(apiKey: string): RateDecision {
    return this.mode === 'fixed' ? this.takeFixed(apiKey) : this.takeToken(apiKey);
  }

  private takeFixed(apiKey: string): RateDecision {
    const { limit, windowMs } = this.options;
    const t = this.now();
    let w = this.windows.get(apiKey);
    if (!w || t - w.start >= windowMs) {
      w = { start: t, count: 0 };
      this.windows.set(apiKey, w);
    }
    const windowSeconds = Math.max(1, Math.round(windowMs / 1000));
    const resetSeconds = Math.max(1, Math.ceil((w.start + windowMs - t) / 1000));
    if (w.count < limit) {
      w.count++;
      return { allowed: true, limit, windowSeconds, remaining: limit - w.count, resetSeconds };
    }
    return { allowed: false, limit, windowSeconds, remaining: 0, resetSeconds };
  }

  private takeToken(apiKey: string): RateDecision {
    const { limit, windowMs } = this.options;
    const rate = limit / windowMs; // tokens per ms
    const t = this.now();
    let b = this.buckets.get(apiKey);
    if (!b) {
      b = { tokens: limit, updatedAt: t };
      this.buckets.set(apiKey, b);
    } else {
      b.tokens = Math.min(limit, b.tokens + (t - b.updatedAt) * rate);
      b.updatedAt = t;
    }
    const windowSeconds = Math.max(1, Math.round(windowMs / 1000));
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return {
        allowed: true,
        limit,
        windowSeconds,
        remaining: Math.floor(b.tokens),
        resetSeconds: Math.ceil((limit - b.tokens) / rate / 1000),
      };
    }
    return {
      allowed: false,
      limit,
      windowSeconds,
      remaining: 0,
      resetSeconds: Math.max(1, Math.ceil((1 - b.tokens) / rate / 1000)),
    };
  }

  reset(): void {
    this.buckets.clear();
    this.windows.clear();
  }
}

export function rateLimitHeaders(
  d: Pick<RateDecision, 'limit' | 'windowSeconds' | 'remaining' | 'resetSeconds'>,
): Record<string, string> {
  return {
    'X-RateLimit-Limit': `${d.limit}, ${d.limit};w=${d.windowSeconds}`,
    'X-RateLimit-Remaining': String(d.remaining),
    'X-RateLimit-Reset': String(d.resetSeconds),
  };
}

export function quotaMessage(limit: number, windowSeconds: number): string {
  const per = windowSeconds === 60 ? 'minute' : `${windowSeconds} seconds`;
  return `API calls quota exceeded! The maximum allowed is ${limit} per ${per}`;
}
