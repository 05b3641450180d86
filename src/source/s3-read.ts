import { Readable, finished } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { TransientError } from '../errors.js';
import { describeS3Failure, isNetworkFailure, mapS3Error } from './s3-errors.js';

/** What the reader needs of one GetObject response. */
export interface ObjectPart {
  body: Readable;
  /** `ContentLength` of this response. */
  contentLength?: number;
  /** `Content-Range` of a ranged response (`bytes N-M/T`). */
  contentRange?: string;
  etag?: string;
  versionId?: string;
}

/** Fetches the object from byte `start` on, pinned to the version first read. */
export type FetchFrom = (
  start: number,
  pin: { etag?: string; versionId?: string },
  signal: AbortSignal,
) => Promise<ObjectPart>;

export interface ReadLogger {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface ResumingReadOptions {
  uri: string;
  bucket: string;
  endpoint?: string;
  first: ObjectPart;
  fetchFrom: FetchFrom;
  /** Resumes allowed for this object in all (default 5). */
  maxResumeAttempts: number;
  logger: ReadLogger;
  /** Delay before resume attempt `n` (1-based). */
  backoffMs?: (attempt: number) => number;
  highWaterMark?: number;
}

const defaultBackoff = (attempt: number): number =>
  Math.min(200 * 2 ** (attempt - 1), 5_000) + Math.floor(Math.random() * 100);

/**
 * The bytes of one S3 object as a single Readable with back-pressure, built from successive GetObject
 * bodies. When a body fails or ends before the object's length, the rest is fetched with a ranged GET
 * (`Range: bytes=N-`, N = bytes already delivered) pinned by `If-Match` to the first response's ETag (and
 * by version id when the bucket is versioned), so a replaced object is never spliced onto the old one. The
 * ETag and total length of each resumed response are checked as well, for servers that ignore `If-Match`.
 */
export class ResumingObjectReadable extends Readable {
  private readonly options: ResumingReadOptions;
  private readonly abort = new AbortController();
  private body: Readable | undefined;
  private delivered = 0;
  private total: number | undefined;
  private readonly etag: string | undefined;
  private readonly versionId: string | undefined;
  private attempts = 0;
  /** Bytes to drop from the front of the current body (a server that answered a ranged GET in full). */
  private skip = 0;

  constructor(options: ResumingReadOptions) {
    super({ highWaterMark: options.highWaterMark ?? 256 * 1024 });
    this.options = options;
    this.etag = options.first.etag;
    this.versionId = options.first.versionId;
    this.total = options.first.contentRange
      ? parseContentRange(options.first.contentRange)?.total
      : options.first.contentLength;
    this.attach(options.first.body);
  }

  /** Bytes handed downstream so far. */
  get bytesDelivered(): number {
    return this.delivered;
  }

  /** Number of ranged GETs made to resume this object. */
  get resumes(): number {
    return this.attempts;
  }

  override _read(): void {
    this.body?.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.abort.abort();
    const body = this.body;
    this.body = undefined;
    body?.destroy();
    callback(error);
  }

  private attach(body: Readable): void {
    this.body = body;
    const onData = (chunk: Buffer): void => {
      if (this.skip > 0) {
        if (chunk.length <= this.skip) {
          this.skip -= chunk.length;
          return;
        }
        chunk = chunk.subarray(this.skip);
        this.skip = 0;
      }
      if (this.total !== undefined && this.delivered + chunk.length > this.total) {
        this.fail(
          new TransientError(
            'STORAGE_OBJECT_CHANGED',
            `input ${this.options.uri}: the server sent more bytes than the object's length; run the export again`,
            {
              stage: 'read',
              details: { uri: this.options.uri, bucket: this.options.bucket },
            },
          ),
        );
        return;
      }
      this.delivered += chunk.length;
      if (!this.push(chunk)) body.pause();
    };
    body.on('data', onData);
    // Failures are handled through `finished` below; this keeps a late socket error from going unhandled.
    body.on('error', () => {});
    const cleanup = finished(body, (error) => {
      cleanup();
      body.off('data', onData);
      if (this.body === body) this.body = undefined;
      if (this.destroyed) return;
      const complete = this.total === undefined ? !error : this.delivered === this.total;
      if (complete) {
        if (this.attempts > 0)
          this.options.logger.info(
            { uri: this.options.uri, bytes: this.delivered, resumes: this.attempts },
            'object read completed after resuming',
          );
        this.push(null);
        return;
      }
      body.destroy();
      void this.resumeAfter(
        error ??
          Object.assign(new Error('connection closed before the whole object was received'), {
            code: 'ERR_STREAM_PREMATURE_CLOSE',
          }),
      );
    });
    // Flowing only while downstream wants bytes; `_read` resumes it.
    if (this.readableLength >= this.readableHighWaterMark) body.pause();
  }

  private fail(error: Error): void {
    if (!this.destroyed) this.destroy(error);
  }

  private async resumeAfter(reason: unknown): Promise<void> {
    const { uri, bucket, endpoint, maxResumeAttempts, logger } = this.options;
    const backoff = this.options.backoffMs ?? defaultBackoff;
    const signal = this.abort.signal;
    for (;;) {
      if (this.attempts >= maxResumeAttempts) {
        this.fail(
          new TransientError(
            'STORAGE_READ_INTERRUPTED',
            `input ${uri}: reading was interrupted ${this.attempts + 1} times (${this.delivered}${this.total === undefined ? '' : ` of ${this.total}`} bytes read); gave up after ${maxResumeAttempts} resumes`,
            { stage: 'read', details: { uri, bucket }, cause: new Error(describeS3Failure(reason)) },
          ),
        );
        return;
      }
      this.attempts += 1;
      const delayMs = backoff(this.attempts);
      logger.warn(
        {
          uri,
          attempt: this.attempts,
          maxAttempts: maxResumeAttempts,
          offset: this.delivered,
          size: this.total,
          delayMs,
          reason: describeS3Failure(reason),
        },
        'object storage read interrupted; resuming with a ranged GET',
      );
      try {
        await sleep(delayMs, undefined, { signal });
      } catch {
        return; // destroyed while waiting
      }
      if (this.destroyed) return;
      let part: ObjectPart;
      try {
        part = await this.options.fetchFrom(this.delivered, { etag: this.etag, versionId: this.versionId }, signal);
      } catch (error) {
        if (this.destroyed || signal.aborted) return;
        const mapped = mapS3Error(error, { uri, bucket, endpoint });
        const retryable =
          isNetworkFailure(error) || (mapped instanceof TransientError && mapped.code !== 'STORAGE_OBJECT_CHANGED');
        if (retryable) {
          reason = error;
          continue;
        }
        this.fail(mapped instanceof Error ? mapped : new Error(String(mapped)));
        return;
      }
      if (this.destroyed) {
        part.body.destroy();
        return;
      }
      const problem = this.checkResumed(part);
      if (problem) {
        part.body.destroy();
        this.fail(
          new TransientError(
            'STORAGE_OBJECT_CHANGED',
            `input ${uri}: the object changed while it was being read (${problem}); run the export again`,
            {
              stage: 'read',
              details: { uri, bucket },
            },
          ),
        );
        return;
      }
      this.attach(part.body);
      return;
    }
  }

  /** Why a resumed response does not continue the object read so far, or undefined. */
  private checkResumed(part: ObjectPart): string | undefined {
    if (this.etag !== undefined && part.etag !== undefined && part.etag !== this.etag) return 'its ETag differs';
    if (part.contentRange) {
      const range = parseContentRange(part.contentRange);
      if (!range) return `unexpected Content-Range ${JSON.stringify(part.contentRange)}`;
      if (range.start !== this.delivered) return `the server resumed at byte ${range.start}, not ${this.delivered}`;
      if (this.total !== undefined && range.total !== undefined && range.total !== this.total)
        return 'its length differs';
      if (this.total === undefined) this.total = range.total;
      return undefined;
    }
    // A server that ignores Range answers with the whole object: drop what was already delivered.
    if (this.total !== undefined && part.contentLength !== undefined && part.contentLength !== this.total)
      return 'its length differs';
    this.skip = this.delivered;
    return undefined;
  }
}

export function parseContentRange(
  value: string,
): { start: number; end: number; total: number | undefined } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value.trim());
  if (!match) return undefined;
  return { start: Number(match[1]), end: Number(match[2]), total: match[3] === '*' ? undefined : Number(match[3]) };
}
