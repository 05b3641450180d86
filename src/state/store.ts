/**
 * Where a state lives: a local directory or an S3 prefix. Objects are addressed by names relative to the
 * state location (`CURRENT.json`, `gen-000003-1a2b3c4d/part-0007.jsonl.gz`).
 */

/** How the pointer replacement was protected against a concurrent run. */
export type CommitGuarantee =
  /** The store refused the write itself when the pointer had changed (S3 If-Match / If-None-Match). */
  | 'conditional-write'
  /** A lock file held while the pointer was compared and renamed into place (local directory). */
  | 'lock-and-rename'
  /**
   * The pointer was compared before the write and read back after it: a run that overwrote another's
   * commit finds out, but two commits within one round trip can both believe they won (the later one holds).
   */
  | 'read-compare';

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
