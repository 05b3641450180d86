/** Reply values, envelopes and request body reading for the simulator's HTTP layer. */

import type { IncomingMessage } from 'node:http';

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** JSON value (serialized) or text; undefined = no body. */
  json?: unknown;
  text?: string;
  /** Close the connection after answering (e.g. 413 before the body was read). */
  close?: boolean;
  /** Do not add the X-RateLimit-* headers of the request's quota decision. */
  noRateHeaders?: boolean;
  /** Answer after this many ms instead of the latency model (a modelled server time-out). */
  waitMs?: number;
}

export type ResultCode =
  | 'Succeeded'
  | 'PartiallySucceeded'
  | 'Failed'
  | 'ValidationFailed'
  | 'NotFound'
  | 'ServiceUnavailable'
  | 'InternalServerError';

export interface ErrorItem {
  error_code: string;
  description: string;
}

export function ok(message: string, status = 200): Reply {
  return { status, json: { result_code: 'Succeeded', message } };
}

export function failure(status: number, resultCode: ResultCode, message: string, errors?: ErrorItem[]): Reply {
  return {
    status,
    json: {
      result_code: resultCode,
      message,
      errors: errors ?? [{ error_code: errorCodeFor(resultCode), description: message }],
    },
  };
}

function errorCodeFor(code: ResultCode): string {
  switch (code) {
    case 'ValidationFailed':
      return 'ERR_VALIDATION';
    case 'NotFound':
      return 'ERR_NOT_FOUND';
    case 'ServiceUnavailable':
      return 'ERR_SERVICE_UNAVAILABLE';
    case 'InternalServerError':
      return 'ERR_INTERNAL';
    default:
      return 'ERR_FAILED';
  }
}

export function validationFailed(message: string, descriptions: string[] = [message]): Reply {
  return failure(
    400,
    'ValidationFailed',
    message,
    descriptions.map((d) => ({ error_code: 'ERR_VALIDATION', description: d })),
  );
}

/** A missing object: 404 by default, 400 under the notFoundStatus variant (result_code NotFound either way). */
export function notFound(message: string, status = 404): Reply {
  return failure(status, 'NotFound', message);
}

/** Thrown inside handlers to answer early. */
export class ReplyError extends Error {
  constructor(readonly reply: Reply) {
    super(`HTTP ${reply.status}`);
  }
}

export type BodyResult =
  | { kind: 'ok'; body: Buffer; bytes: number }
  | { kind: 'tooLarge'; bytes: number }
  | { kind: 'aborted'; bytes: number };

/**
 * Reads the request body up to `maxBytes`. Over the limit (by Content-Length or while reading a chunked
 * body) it stops reading at once and reports tooLarge; nothing beyond the limit is buffered.
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<BodyResult> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    req.pause();
    return Promise.resolve({ kind: 'tooLarge', bytes: 0 });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    const finish = (r: BodyResult) => {
      if (done) return;
      done = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      req.off('error', onClose);
      resolve(r);
    };
    const onData = (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        chunks.length = 0;
        req.pause();
        finish({ kind: 'tooLarge', bytes });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish({ kind: 'ok', body: chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, bytes), bytes });
    const onClose = () => finish({ kind: 'aborted', bytes });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('close', onClose);
    req.on('error', onClose);
  });
}

export function isJsonContentType(value: string | undefined): boolean {
  if (!value) return false;
  const v = value.trim().toLowerCase();
  const mediaType = v.split(';', 1)[0] ?? '';
  return (
    mediaType.startsWith('application/json') || (mediaType.startsWith('application/') && mediaType.endsWith('+json'))
  );
}
