/**
 * Token bucket per API key: `limit` tokens, refilled continuously at `limit / windowMs`. Every API request
 * takes one token; an empty bucket answers 429.
 */

import type { RateLimitOptions } from './types.js';

interface Bucket {
  tokens: number;
  updatedAt: number;
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

  constructor(
    private readonly options: RateLimitOptions,
    private readonly now: () => number = () => performance.now(),
  ) {}

  take(apiKey: string): RateDecision {
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
  }
}

export function rateLimitHeaders(d: Pick<RateDecision, 'limit' | 'windowSeconds' | 'remaining' | 'resetSeconds'>): Record<string, string> {
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
