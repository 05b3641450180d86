/**
 * Where a state lives: a local directory or an S3 prefix. Objects are addressed by names relative to the
 * state location (`CURRENT.json`, `gen-000003-1a2b3c4d/part-0007.jsonl.gz`).
 */
import type { ChangesReport } from '../report/types.js';

/** How the pointer replacement was protected against a concurrent run (the report's `commit_guarantee`). */
export type CommitGuarantee = NonNullable<ChangesReport['commit_guarantee']>;

export interface PointerRead {
  body: Buffer;
  /** What the pointer must still be at commit: an ETag on S3, the content on a local directory. */
  token: string;
}

export interface StateStore {
  /** The location as given, without credentials: for reports and messages. */
  readonly location: string;
  readonly kind: 'local' | 's3';
  /** The pointer, or undefined when no state was ever committed here. */
  readPointer(): Promise<PointerRead | undefined>;
  /** An object's bytes, or undefined when it does not exist. */
  get(name: string): Promise<Buffer | undefined>;
  /**
   * An object's bytes as they arrive, or undefined when it does not exist: for checking or copying a
   * piece without holding all of it (the pieces of a large state add up to hundreds of MB).
   */
  open(name: string): Promise<AsyncIterable<Buffer> | undefined>;
  put(name: string, body: Buffer): Promise<void>;
  /**
   * Replaces the pointer if it is still what `expected` says (undefined: there is none yet); throws
   * StateConflictError otherwise. Returns the guarantee that held.
   */
  replacePointer(body: Buffer, expected: string | undefined): Promise<CommitGuarantee>;
  /** The names of the top-level directories (generations and anything else) under the location. */
  listDirectories(): Promise<string[]>;
  removeDirectory(name: string): Promise<void>;
  close(): Promise<void>;
}
