import { hash } from 'node:crypto';
import { hashKey } from '../pipeline/partitioning.js';

/**
 * The changes-only sync state, as stored: a pointer names the current generation; a generation is a
 * manifest plus one gzip JSON Lines piece per key-hash partition. docs/state-format.md describes it.
 */

export const STATE_FORMAT = 'selligent-export-state';
export const STATE_FORMAT_VERSION = 1;
/** The object replaced last, naming the generation in force. */
export const POINTER_NAME = 'CURRENT.json';
export const MANIFEST_NAME = 'manifest.json';

/** What a changed setting or List layout would make wrong: any difference resets the state. */
export interface StateIdentity {
  /** Host of SELLIGENT_BASE_URL (no path, no credentials). */
  host: string;
  organization: string;
  list: string;
  key_fields: string[];
  /** How keys were put in canonical form: by their type (`typed`) or compared as written (`as-written`). */
  key_form: 'typed' | 'as-written';
  /** The fields sent, in order, with the Selligent type each value was converted to. */
  fields: Array<{ name: string; type: string }>;
  segment_column: string;
  /** append or replace: the memberships a state records mean something else under each. */
  segment_import_option: string;
}

export interface PieceInfo {
  partition: number;
  /** Relative to the generation directory. */
  file: string;
  /** Compressed bytes. */
  bytes: number;
  rows: number;
  /** Hex SHA-256 of the compressed bytes. */
  sha256: string;
}

export interface StateManifest {
  format: typeof STATE_FORMAT;
  format_version: number;
  generation: number;
  /** The generation's directory, relative to the state location. */
  directory: string;
  created_at: string;
  identity: StateIdentity;
  partition_count: number;
  pieces: PieceInfo[];
  rows: number;
  /** Members the exporter put in each Segment, as recorded. */
  segments: Record<string, number>;
  /** Sum of the pieces' compressed bytes. */
  bytes: number;
}

export interface StatePointer {
  format: typeof STATE_FORMAT;
  generation: number;
  /** The manifest's path relative to the state location. */
  manifest: string;
  /**
   * Set by a run that wrote to Selligent and could not record what: one that lost the race to commit
   * (its writes may have landed after the winner's), or a full run that failed. This state may then not
   * hold what Selligent holds, and the next run sends every row (a full run that writes a fresh state).
   */
  resync_required?: ResyncRequired;
}

export interface ResyncRequired {
  reason: string;
  /** When it was set (ISO 8601). */
  at: string;
}

/** One key as recorded: its canonical value, the hash of its row as sent, the Segments the exporter put it in. */
export interface StateEntry {
  key: string;
  rowHash: string;
  segments: string[];
}

/** Characters of a row hash: 22 base64url characters carry 132 bits of SHA-256. */
export const ROW_HASH_LENGTH = 22;

/**
 * The row hash of a key whose row was sent and not confirmed applied: not base64url, so no row's hash
 * ever equals it and the next run sends the row whatever its value.
 */
export const UNCONFIRMED_ROW_HASH = '~'.repeat(ROW_HASH_LENGTH);

/** The hash recorded for a row: of its JSON array bytes exactly as sent to the List. */
export function rowHash(rowJson: Uint8Array | string): string {
  return hash('sha256', rowJson, 'base64url').slice(0, ROW_HASH_LENGTH);
}

/** The partition of a canonical key: the spool's own key hash, so a spool and a state partitioned alike line up. */
export function partitionOf(key: string, partitionCount: number): number {
  return hashKey(key) % partitionCount;
}

/** A piece line: `[key, rowHash, [segment, ...]]`. */
export function entryLine(entry: StateEntry): string {
  return JSON.stringify([entry.key, entry.rowHash, entry.segments]);
}

/** Parses a piece line; undefined when it is not one. */
export function parseEntryLine(line: string): StateEntry | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [key, hashText, segments] = value as unknown[];
  if (typeof key !== 'string' || typeof hashText !== 'string' || hashText.length !== ROW_HASH_LENGTH) return undefined;
  if (!Array.isArray(segments) || !segments.every((segment): segment is string => typeof segment === 'string'))
    return undefined;
  return { key, rowHash: hashText, segments };
}

/**
 * A recorded key as read from its piece for a comparison: the key and row hash, the Segments as the
 * JSON text they were written in, and the line itself. A key whose row and Segments are as they were
 * is carried into the new state as this line, never parsed further or written anew.
 */
export interface RecordedLine {
  key: string;
  rowHash: string;
  /** `JSON.stringify(segments)`, exactly as entryLine wrote it. */
  segmentsJson: string;
  line: string;
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const OPEN = 0x5b;
const CLOSE = 0x5d;

/**
 * Splits a piece line without parsing it when it has the shape entryLine writes and its key holds no
 * escape; any other line is parsed (and checked) in full. Undefined when it is not an entry line.
 * The Segments' text of a split line is checked when it is parsed: a line is carried over unparsed only
 * when that text equals the input's Segments as JSON, so every line either is well-formed or is parsed.
 */
export function splitEntryLine(line: string): RecordedLine | undefined {
  const end = line.length;
  const keyEnd = line.indexOf('"', 2);
  const escape = line.indexOf('\\');
  const plain =
    keyEnd > 1 &&
    (escape === -1 || escape > keyEnd) &&
    line.charCodeAt(0) === OPEN &&
    line.charCodeAt(1) === QUOTE &&
    line.charCodeAt(keyEnd + 1) === COMMA &&
    line.charCodeAt(keyEnd + 2) === QUOTE &&
    line.charCodeAt(keyEnd + 3 + ROW_HASH_LENGTH) === QUOTE &&
    line.charCodeAt(keyEnd + 4 + ROW_HASH_LENGTH) === COMMA &&
    line.charCodeAt(keyEnd + 5 + ROW_HASH_LENGTH) === OPEN &&
    line.charCodeAt(end - 2) === CLOSE &&
    line.charCodeAt(end - 1) === CLOSE;
  if (plain) {
    return {
      key: line.slice(2, keyEnd),
      rowHash: line.slice(keyEnd + 3, keyEnd + 3 + ROW_HASH_LENGTH),
      segmentsJson: line.slice(keyEnd + 5 + ROW_HASH_LENGTH, end - 1),
      line,
    };
  }
  const entry = parseEntryLine(line);
  return entry && { key: entry.key, rowHash: entry.rowHash, segmentsJson: JSON.stringify(entry.segments), line };
}

export function pieceName(partition: number): string {
  return `part-${String(partition).padStart(4, '0')}.jsonl.gz`;
}

/** `gen-000003-1a2b3c4d`: the number orders generations, the suffix keeps two runs' generations apart. */
export function generationDirectory(generation: number, suffix: string): string {
  return `gen-${String(generation).padStart(6, '0')}-${suffix}`;
}

const GENERATION_DIRECTORY = /^gen-(\d{6,})-([0-9a-f]{8})$/;

export function generationOfDirectory(name: string): number | undefined {
  const match = GENERATION_DIRECTORY.exec(name);
  return match ? Number(match[1]) : undefined;
}
