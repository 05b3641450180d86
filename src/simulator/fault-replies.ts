/**
 * Answers the simulator gives instead of handling a request: an injected fault, a modelled server time-out,
 * and the 429 of a List whose bulk lock is taken (in the shape of variant V7).
 */

import http from 'node:http';
import { asLoadReply } from './handlers.js';
import { failure, type Reply } from './http-util.js';
import { DEFAULT_RATE_LIMIT } from './options.js';
import { quotaMessage, rateLimitHeaders } from './rate-limit.js';
import type { ListState } from './state.js';
import type { FaultRule, RateLimitOptions } from './types.js';
import type { Variants } from './variants.js';

const UNAUTHORIZED = 'Authorization has been denied for this request.';

function quota(rateLimit: RateLimitOptions | false): { limit: number; windowSeconds: number } {
  const rl = rateLimit || DEFAULT_RATE_LIMIT;
  return { limit: rl.limit, windowSeconds: Math.max(1, Math.round(rl.windowMs / 1000)) };
}

/** The answer of a fault rule with a status (or of a modelled 408): the service's own shape for that status. */
export function faultReply(fault: FaultRule & { status: number }, rateLimit: RateLimitOptions | false): Reply {
  const status = fault.status;
  let reply: Reply;
  switch (status) {
    case 429: {
      const { limit, windowSeconds } = quota(rateLimit);
      reply = {
        status,
        text: quotaMessage(limit, windowSeconds),
        headers: rateLimitHeaders({ limit, windowSeconds, remaining: 0, resetSeconds: 1 }),
      };
      break;
    }
    case 401:
      reply = unauthorized();
      break;
    case 500:
      reply = failure(500, 'InternalServerError', 'An error has occurred.');
      break;
    case 503:
      reply = failure(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.');
      break;
    default: {
      const title = `${status} ${http.STATUS_CODES[status] ?? ''}`;
      reply = {
        status,
        text: `<html><head><title>${title}</title></head><body><h1>${title}</h1></body></html>`,
        headers: { 'Content-Type': 'text/html' },
      };
    }
  }
  if (fault.headers !== undefined) reply.headers = { ...fault.headers };
  if (fault.body !== undefined) {
    reply.json = undefined;
    reply.text = fault.body;
    if (!reply.headers || !Object.keys(reply.headers).some((k) => k.toLowerCase() === 'content-type')) {
      reply.headers = { ...reply.headers, 'Content-Type': 'text/plain; charset=utf-8' };
    }
  }
  return reply;
}

export function unauthorized(): Reply {
  return { status: 401, json: { message: UNAUTHORIZED } };
}

/**
 * Variant V1: a load the service would answer with 500/503 answers 200 with that result_code instead
 * (nothing applied, zero counters). A rule with its own body keeps its answer.
 */
export function transientInBody(fault: FaultRule, reply: Reply): Reply {
  if (fault.body !== undefined || (fault.status !== 500 && fault.status !== 503)) return reply;
  const code = fault.status === 503 ? 'ServiceUnavailable' : 'InternalServerError';
  const message =
    fault.status === 503 ? 'The service is temporarily unavailable. Please retry later.' : 'An error has occurred.';
  const out = asLoadReply(failure(200, code, message));
  if (fault.headers !== undefined) out.headers = { ...fault.headers };
  return out;
}

/** How a fault shaped an answer, for the request log. */
export function describeFault(f: FaultRule): string {
  const parts: string[] = [];
  if (f.status !== undefined) parts.push(`status ${f.status}`);
  if (f.delayMs !== undefined) parts.push(`delay ${f.delayMs}ms`);
  if (f.dropConnection) parts.push('drop');
  return parts.join(', ');
}

/** The 429 for a second bulk operation on a busy List, in the shape of variant V7. */
export function listBusyReply(
  list: ListState,
  shape: Variants['listBusy429'],
  rateLimit: RateLimitOptions | false,
): Reply {
  switch (shape) {
    case 'quota-text': {
      const { limit, windowSeconds } = quota(rateLimit);
      return { status: 429, text: quotaMessage(limit, windowSeconds) };
    }
    case 'no-headers':
      return { ...listBusyEnvelope(list), noRateHeaders: true };
    case 'envelope':
      return listBusyEnvelope(list);
  }
}

function listBusyEnvelope(list: ListState): Reply {
  return failure(429, 'Failed', `Another bulk operation is in progress on list ${list.apiName}; retry later`, [
    {
      error_code: 'ERR_BULK_OPERATION_IN_PROGRESS',
      description: `Only one bulk operation per list at a time (list ${list.apiName})`,
    },
  ]);
}
