import type { Readable } from 'node:stream';

/** One object (file, or S3 object) of the query result. A prefix may hold several parts. */
export interface InputObject {
  /** Full URI of the object: `file:///abs/path` or `s3://bucket/key`. Never carries credentials. */
  uri: string;
  /** Size in bytes when known before reading. */
  size?: number;
}

/**
 * Where the query result lives. `list()` resolves the objects to read, in the order they are read;
 * `open()` returns the object's raw bytes (possibly gzip; decoding happens downstream) as a stream with
 * back-pressure. Implementations retry and resume transient read failures themselves, and raise
 * InputError / AuthError / TransientError from `../errors.ts` for the rest.
 */
export interface InputLocation {
  /** The URI as the user gave it, for the report. */
  readonly uri: string;
  readonly kind: 'file' | 's3';
  list(): Promise<InputObject[]>;
  open(object: InputObject): Promise<Readable>;
  /** Releases clients and sockets. */
  close(): Promise<void>;
}
