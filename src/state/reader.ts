import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { ConfigError, isExporterError } from '../errors.js';
import { fsReason } from '../fs-errors.js';
import { StateUnusableError } from './errors.js';
import {
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  generationOfDirectory,
  partitionOf,
  splitEntryLine,
  type RecordedLine,
  type StateManifest,
  type PieceInfo,
  type ResyncRequired,
  type StatePointer,
} from './format.js';
import { localStateStore } from './local-store.js';
import type { StateStore } from './store.js';
import { forEachConcurrently } from './concurrently.js';
import { PIECES_IN_FLIGHT, isPowerOfTwo } from './writer.js';

const gunzipAsync = promisify(gunzip);

/** The state in force, its manifest checked; pieces are read (and checked) one partition at a time. */
export interface LoadedState {
  manifest: StateManifest;
  /** What the pointer must still be when the next generation is committed. */
  token: string;
  /** Why the next run must send every row, when a run that could not record its writes said so. */
  resyncRequired?: ResyncRequired;
}

/** The state in force at `store`, or undefined when none was ever committed there. Throws StateUnusableError. */
export async function readState(store: StateStore): Promise<LoadedState | undefined> {
  const pointerRead = await store.readPointer();
  if (!pointerRead) return undefined;
  const pointerFile = `${store.location}${separator(store)}CURRENT.json`;
  const pointer = parseJson(pointerRead.body, pointerFile) as Partial<StatePointer>;
  if (
    pointer.format !== STATE_FORMAT ||
    typeof pointer.manifest !== 'string' ||
    typeof pointer.generation !== 'number'
  ) {
    throw new StateUnusableError('STATE_UNREADABLE', pointerFile, 'is not a state pointer');
  }
  const manifestFile = `${store.location}${separator(store)}${pointer.manifest}`;
  const body = await store.get(pointer.manifest);
  if (!body) throw new StateUnusableError('STATE_PIECE_MISSING', manifestFile, 'is missing');
  const manifest = parseJson(body, manifestFile) as StateManifest;
  if (manifest.format !== STATE_FORMAT)
    throw new StateUnusableError('STATE_UNREADABLE', manifestFile, 'is not a state manifest');
  if (manifest.format_version !== STATE_FORMAT_VERSION) {
    throw new StateUnusableError(
      'STATE_VERSION_UNKNOWN',
      manifestFile,
      `has format version ${JSON.stringify(manifest.format_version)}; this exporter reads version ${STATE_FORMAT_VERSION}`,
    );
  }
  const problem = manifestProblem(manifest, pointer as StatePointer);
  if (problem) throw new StateUnusableError('STATE_UNREADABLE', manifestFile, problem);
  const resync = pointer.resync_required;
  if (resync === undefined) return { manifest, token: pointerRead.token };
  if (
    typeof resync !== 'object' ||
    resync === null ||
    typeof resync.reason !== 'string' ||
    typeof resync.at !== 'string'
  )
    throw new StateUnusableError(
      'STATE_UNREADABLE',
      pointerFile,
      'has a resync_required that is not a reason and a time',
    );
  return { manifest, token: pointerRead.token, resyncRequired: { reason: resync.reason, at: resync.at } };
}

/**
 * What a full resync needs of the state in force, whatever shape it is in: the pointer to replace
 * (undefined: none yet) and a generation number above every generation directory present.
 */
export async function readResyncBase(store: StateStore): Promise<{ token: string | undefined; generation: number }> {
  const pointer = await store.readPointer();
  let generation = 0;
  for (const name of await store.listDirectories()) generation = Math.max(generation, generationOfDirectory(name) ?? 0);
  return { token: pointer?.token, generation };
}

function parseJson(body: Buffer, file: string): unknown {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new Error('not an object');
    return value;
  } catch {
    throw new StateUnusableError('STATE_UNREADABLE', file, 'is not valid JSON');
  }
}

function manifestProblem(manifest: StateManifest, pointer: StatePointer): string | undefined {
  if (manifest.generation !== pointer.generation)
    return `is generation ${String(manifest.generation)}, the pointer says ${pointer.generation}`;
  if (!isPowerOfTwo(manifest.partition_count)) return 'has no valid partition_count';
  if (typeof manifest.directory !== 'string' || `${manifest.directory}/manifest.json` !== pointer.manifest)
    return 'names another directory than the pointer';
  if (!manifest.identity || typeof manifest.identity !== 'object') return 'has no identity';
  if (!Array.isArray(manifest.pieces) || manifest.pieces.length !== manifest.partition_count)
    return 'does not list one piece per partition';
  for (const [index, piece] of manifest.pieces.entries()) {
    if (
      piece?.partition !== index ||
      typeof piece.file !== 'string' ||
      !/^[A-Za-z0-9._-]+$/.test(piece.file) ||
      typeof piece.bytes !== 'number' ||
      typeof piece.rows !== 'number' ||
      typeof piece.sha256 !== 'string'
    ) {
      return `piece ${index} is not described completely`;
    }
  }
  return undefined;
}

function separator(store: StateStore): string {
  return store.location.endsWith('/') ? '' : '/';
}

/** A piece's name in the store, its file as messages name it, and what the manifest records of it. */
function pieceOf(store: StateStore, state: LoadedState, partition: number) {
  const { manifest } = state;
  const piece = manifest.pieces[partition];
  if (!piece) throw new RangeError(`partition ${partition} is outside the state's ${manifest.partition_count}`);
  const name = `${manifest.directory}/${piece.file}`;
  return { piece, name, file: `${store.location}${separator(store)}${name}` };
}

function checkPiece(file: string, piece: PieceInfo, bytes: number, sha256: string): void {
  if (bytes !== piece.bytes)
    throw new StateUnusableError(
      'STATE_CHECKSUM_MISMATCH',
      file,
      `is ${bytes} bytes, the manifest says ${piece.bytes}`,
    );
  if (sha256 !== piece.sha256)
    throw new StateUnusableError('STATE_CHECKSUM_MISMATCH', file, 'does not match its SHA-256 in the manifest');
}

/** A piece's bytes, after checking they are the size and SHA-256 the manifest records. */
async function verifiedPiece(
  store: StateStore,
  state: LoadedState,
  partition: number,
): Promise<{ bytes: Buffer; name: string; file: string }> {
  const { piece, name, file } = pieceOf(store, state, partition);
  const bytes = await store.get(name);
  if (!bytes) throw new StateUnusableError('STATE_PIECE_MISSING', file, 'is missing');
  checkPiece(file, piece, bytes.length, createHash('sha256').update(bytes).digest('hex'));
  return { bytes, name, file };
}

/**
 * Checks a piece as its bytes stream by, copying them under `copyDirectory` when given: a whole state is
 * checked before the run, and holding each piece whole would leave hundreds of MB of buffers for the
 * collector.
 */
async function checkPieceStreaming(
  store: StateStore,
  state: LoadedState,
  partition: number,
  copyDirectory: string | undefined,
): Promise<void> {
  const { piece, name, file } = pieceOf(store, state, partition);
  const copy = copyDirectory && join(copyDirectory, name);
  const chunks = await store.open(name);
  if (!chunks) throw new StateUnusableError('STATE_PIECE_MISSING', file, 'is missing');
  const hash = createHash('sha256');
  let bytes = 0;
  const counted = async function* (source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
  };
  if (copy) {
    try {
      await mkdir(dirname(copy), { recursive: true });
      await pipeline(chunks, counted, createWriteStream(copy));
    } catch (error) {
      if (isExporterError(error)) throw error;
      throw new ConfigError('STATE_UNREADABLE', `state copy ${copy}: cannot be written (${fsReason(error)})`, {
        stage: 'settings',
        details: { file: copy },
      });
    }
  } else {
    for await (const chunk of counted(chunks)) void chunk;
  }
  checkPiece(file, piece, bytes, hash.digest('hex'));
}

/**
 * Checks every piece before the run's first write, so a bad state stops the run while nothing is
 * written. Pieces of a remote store are kept in `directory` (the run's temp directory) and the store
 * returned reads them from there: the state is downloaded once. A local store is checked in place.
 */
export async function stageState(store: StateStore, state: LoadedState, directory: string): Promise<StateStore> {
  const staged = store.kind === 'local' ? undefined : resolve(directory);
  await forEachConcurrently(state.manifest.partition_count, PIECES_IN_FLIGHT, (partition) =>
    checkPieceStreaming(store, state, partition, staged),
  );
  if (!staged) return store;
  // Messages still name the state's own location, not the temp copy.
  return { ...localStateStore(staged), location: store.location };
}

/**
 * One partition's lines for a comparison, each split into key, row hash and Segments' text (see
 * splitEntryLine), after checking the piece's size, checksum and every line.
 */
export async function readRecordedPartition(
  store: StateStore,
  state: LoadedState,
  partition: number,
): Promise<RecordedLine[]> {
  const { manifest } = state;
  const { bytes, file } = await verifiedPiece(store, state, partition);
  const piece = manifest.pieces[partition]!;
  let text: string;
  try {
    text = (await gunzipAsync(bytes)).toString('utf8');
  } catch {
    throw new StateUnusableError('STATE_UNREADABLE', file, 'is not valid gzip');
  }
  const entries: RecordedLine[] = [];
  let lineNumber = 0;
  for (const line of text.split('\n')) {
    lineNumber++;
    if (line === '') continue;
    const entry = splitEntryLine(line);
    if (!entry) throw new StateUnusableError('STATE_UNREADABLE', file, `line ${lineNumber} is not a state entry`);
    if (partitionOf(entry.key, manifest.partition_count) !== partition) {
      throw new StateUnusableError('STATE_UNREADABLE', file, `line ${lineNumber} holds a key of another partition`);
    }
    entries.push(entry);
  }
  if (entries.length !== piece.rows)
    throw new StateUnusableError(
      'STATE_CHECKSUM_MISMATCH',
      file,
      `holds ${entries.length} entries, the manifest says ${piece.rows}`,
    );
  return entries;
}

/**
 * The state's lines of one partition of another partitioning (both counts powers of two): the pieces
 * it spans when the state has more partitions, or the piece that holds it, filtered, when fewer. So an
 * input spooled with any partition count is compared one partition at a time.
 */
export async function readRecordedFor(
  store: StateStore,
  state: LoadedState,
  partition: number,
  partitionCount: number,
): Promise<RecordedLine[]> {
  if (!isPowerOfTwo(partitionCount) || partition < 0 || partition >= partitionCount)
    throw new RangeError(`partition ${partition} of ${partitionCount}`);
  const stateCount = state.manifest.partition_count;
  if (stateCount === partitionCount) return readRecordedPartition(store, state, partition);
  if (stateCount > partitionCount) {
    const entries: RecordedLine[] = [];
    for (let piece = partition; piece < stateCount; piece += partitionCount) {
      for (const entry of await readRecordedPartition(store, state, piece)) entries.push(entry);
    }
    return entries;
  }
  const entries = await readRecordedPartition(store, state, partition % stateCount);
  return entries.filter((entry) => partitionOf(entry.key, partitionCount) === partition);
}
