import { isUtf8 } from 'node:buffer';
import { PassThrough, Transform, type Readable, type TransformCallback } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from '../errors.js';

const GZIP_MAGIC = [0x1f, 0x8b];
const UTF8_BOM = Buffer.from([0xef, 0xbb, 0xbf]);

export type Compression = 'gzip' | 'none';

export interface DecodedStream {
  compression: Compression;
  /** UTF-8 text bytes, BOM removed, checked as UTF-8, decompressed size bounded. */
  stream: Readable;
}

/**
 * Detects gzip by its magic bytes (not by name: Treasure Data part files may be gzip under any name),
 * bounds the decompressed size (a gzip bomb fails instead of filling the disk), drops a UTF-8 BOM and
 * refuses invalid UTF-8 with the byte offset where it starts.
 */
export async function decodeInput(raw: Readable, uri: string, maxDecompressedBytes: number): Promise<DecodedStream> {
  const { head, whole } = await peek(raw, 2);
  raw = whole;
  const compression: Compression =
    head.length >= 2 && head[0] === GZIP_MAGIC[0] && head[1] === GZIP_MAGIC[1] ? 'gzip' : 'none';
  const guard = new TextGuard(uri, maxDecompressedBytes, compression);
  let stream: Readable;
  if (compression === 'gzip') {
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    raw.on('error', (error) => gunzip.destroy(error));
    gunzip.on('error', (error) => guard.destroy(gzipError(error, uri)));
    stream = raw.pipe(gunzip).pipe(guard);
  } else {
    raw.on('error', (error) => guard.destroy(error));
    stream = raw.pipe(guard);
  }
  return { compression, stream };
}

function gzipError(error: Error, uri: string): Error {
  if (error instanceof InputError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  if (
    (typeof code === 'string' && code.startsWith('Z_')) ||
    /unexpected end of file|incorrect header|invalid/i.test(error.message)
  ) {
    return new InputError('INPUT_CORRUPT', `input ${uri}: the gzip data is damaged or cut short (${error.message})`, {
      stage: 'read',
      details: { uri },
    });
  }
  return error;
}

/**
 * The first bytes of a stream, however it is chunked, and a stream that yields everything (those
 * bytes included) from the start.
 */
async function peek(stream: Readable, bytes: number): Promise<{ head: Buffer; whole: Readable }> {
  const chunks: Buffer[] = [];
  let length = 0;
  const ended = await new Promise<boolean>((resolve, reject) => {
    const onReadable = () => {
      // No encoding is set on the stream, so read() gives bytes.
      let chunk: Buffer | null;
      while (length < bytes && (chunk = stream.read() as Buffer | null) !== null) {
        chunks.push(chunk);
        length += chunk.length;
      }
      if (length >= bytes) done(false);
    };
    const onEnd = () => done(true);
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const done = (atEnd: boolean) => {
      cleanup();
      resolve(atEnd);
    };
    const cleanup = () => {
      stream.off('readable', onReadable);
      stream.off('end', onEnd);
      stream.off('error', onError);
    };
    stream.on('readable', onReadable);
    stream.once('end', onEnd);
    stream.once('error', onError);
  });
  const head = Buffer.concat(chunks);
  const whole = new PassThrough({ highWaterMark: 256 * 1024 });
  if (head.length > 0) whole.write(head);
  if (ended) whole.end();
  else {
    stream.on('error', (error) => whole.destroy(error));
    stream.pipe(whole);
  }
  return { head: head.subarray(0, bytes), whole };
}

class TextGuard extends Transform {
  private total = 0;
  private carry: Buffer = Buffer.alloc(0);
  private first = true;

  constructor(
    private readonly uri: string,
    private readonly limit: number,
    private readonly compression: Compression,
  ) {
    super({ highWaterMark: 256 * 1024 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.limit) {
      callback(
        new InputError(
          'INPUT_TOO_LARGE',
          `input ${this.uri}: more than ${this.limit} bytes${this.compression === 'gzip' ? ' after decompression' : ''} (max_decompressed_bytes); refusing to read further`,
          { stage: 'read', details: { uri: this.uri, limit: this.limit } },
        ),
      );
      return;
    }
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    if (this.first) {
      if (data.length < UTF8_BOM.length) {
        this.carry = data;
        callback();
        return;
      }
      this.first = false;
      if (data.subarray(0, 3).equals(UTF8_BOM)) data = data.subarray(3);
    }
    // A multi-byte character may straddle chunks: hold back its first bytes until the rest arrives.
    const cut = completeLength(data);
    const complete = data.subarray(0, cut);
    this.carry = Buffer.from(data.subarray(cut));
    if (!isUtf8(complete)) {
      callback(this.invalid(complete));
      return;
    }
    callback(null, complete);
  }

  override _flush(callback: TransformCallback): void {
    if (this.carry.length > 0) {
      if (!isUtf8(this.carry)) {
        callback(this.invalid(this.carry));
        return;
      }
      callback(null, this.carry);
      return;
    }
    callback();
  }

  private invalid(data: Buffer): InputError {
    const offset = this.total - this.carry.length - data.length + firstInvalidOffset(data);
    return new InputError(
      'INPUT_ENCODING',
      `input ${this.uri}: not valid UTF-8 near byte ${Math.max(0, offset)} (the exporter reads UTF-8 text; re-export the query result as UTF-8)`,
      {
        stage: 'read',
        details: { uri: this.uri, byteOffset: Math.max(0, offset) },
      },
    );
  }
}

/** Length of the prefix of `data` that does not end inside a multi-byte UTF-8 sequence. */
export function completeLength(data: Buffer): number {
  const end = data.length;
  for (let back = 1; back <= 3 && back <= end; back++) {
    const byte = data[end - back]!;
    if ((byte & 0xc0) === 0x80) continue;
    const needed = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc0 ? 2 : 1;
    return needed > back ? end - back : end;
  }
  return end;
}

function firstInvalidOffset(data: Buffer): number {
  let low = 0;
  let high = data.length;
  while (high - low > 1) {
    const middle = (low + high) >> 1;
    if (isUtf8(data.subarray(0, completeLength(data.subarray(0, middle))))) low = middle;
    else high = middle;
  }
  return low;
}
