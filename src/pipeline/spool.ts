import { createWriteStream, type WriteStream } from 'node:fs';
import { open, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { join } from 'node:path';
import { readLineGroups, readLines } from './lines.js';

/**
 * Rows wait on local disk between reading and loading, so memory stays bounded whatever the input size.
 * Valid rows are spread over partition files by a hash of their key: every row of one key lands in one
 * partition, which is then small enough to deduplicate in memory. A partition that is still too large
 * is split again with another hash.
 */

export type DeduplicationStrategy = 'ImportLastMatch' | 'ImportFirstMatch';

const MIN_PARTITIONS = 64;
const MAX_PARTITIONS = 256;
/** What one partition should hold, so deduplicating it takes about as much memory whatever the input size. */
const TARGET_PARTITION_BYTES = 4 * 1024 * 1024;
/** A partition larger than this is split again before deduplication, so deduplicating it stays within memory. */
export const MAX_PARTITION_BYTES = 24 * 1024 * 1024;
const SUB_PARTITIONS = 16;
const MAX_DEPTH = 4;
const FLUSH_BYTES = 64 * 1024;
/** Bytes buffered for all partitions together before they are written out. */
const BUFFERED_BYTES = 4 * 1024 * 1024;

/**
 * How many partitions to spread an input over, from its expected size: a power of two between 64 and
 * 256. A guess that falls short costs only a second split of the partitions that came out too large.
 */
export function partitionCount(expectedBytes: number): number {
  const wanted = Math.ceil(expectedBytes / TARGET_PARTITION_BYTES);
  let count = MIN_PARTITIONS;
  while (count < wanted && count < MAX_PARTITIONS) count *= 2;
  return count;
}

/**
 * FNV-1a over the key text, then a finalizer that mixes every bit into every other, so that the
 * buckets of different split levels (different seeds) are independent of each other.
 */
export function hashKey(key: string, seed = 0): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    hash ^= key.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash = (hash ^ Math.imul(seed, 0x9e3779b9)) >>> 0;
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}

/**
 * Spool line: `key TAB row TAB segment TAB cells`, where key and cells are JSON text (so values may hold
 * tabs, newlines and quotes) and segment is an api_name. Deduplication reads the key without parsing
 * the cells; only the rows that win are parsed again.
 */
function spoolLine(key: string, row: number, segment: string, cellsJson: string): string {
  return `${JSON.stringify(key)}\t${row}\t${segment}\t${cellsJson}`;
}

function splitLine(line: string): { key: string; row: number; segment: string; cellsJson: string } {
  const first = line.indexOf('\t');
  const second = line.indexOf('\t', first + 1);
  const third = line.indexOf('\t', second + 1);
  return { key: line.slice(0, first), row: Number(line.slice(first + 1, second)), segment: line.slice(second + 1, third), cellsJson: line.slice(third + 1) };
}

/** One key's winning row, as a span of its partition's bytes. */
export interface Winner {
  row: number;
  /** Where the row's field values (routing column excluded) are in the partition's `data`: a JSON array of strings. */
  start: number;
  end: number;
  /** Every Segment any row of this key was routed to, each once, in input order. */
  segments: string[];
}

/** Part of a partition's winners; `merged` counts rows merged away that this part reports first. */
export interface DedupedPartition {
  /** The partition file's bytes, which the winners point into. */
  data: Buffer;
  winners: Winner[];
  merged: number;
}

/** A winner's field values as strings. */
export function winnerCells(partition: DedupedPartition, winner: Winner): string[] {
  return JSON.parse(partition.data.toString('utf8', winner.start, winner.end)) as string[];
}

const WINNER_SLICE = 5_000;

/**
 * Lines as UTF-8 bytes in chunks of about `chunkBytes`: a line is encoded once, straight into its
 * chunk, and never waits in the heap as a string. Completed chunks are taken out as they fill.
 */
class LineChunks {
  private full: Buffer[] = [];
  private current: Buffer;
  private length = 0;

  constructor(private readonly chunkBytes: number) {
    this.current = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /** Appends `line` and a newline; returns the bytes they took. */
  add(line: string): number {
    // A JavaScript character is at most three UTF-8 bytes.
    const room = line.length * 3 + 1;
    if (this.length + room > this.current.length) {
      this.seal();
      if (room > this.current.length) this.current = Buffer.allocUnsafeSlow(room);
    }
    const written = this.current.write(line, this.length);
    this.current[this.length + written] = NEWLINE;
    this.length += written + 1;
    return written + 1;
  }

  /** The completed chunks (with `all`, the partly filled one too), handed over in order. */
  take(all: boolean): readonly Buffer[] {
    if (all) this.seal();
    if (this.full.length === 0) return NOTHING;
    const taken = this.full;
    this.full = [];
    return taken;
  }

  private seal(): void {
    if (this.length === 0) return;
    // The sealed bytes belong to whoever takes them (a stream, until they are on disk): a new chunk follows.
    this.full.push(this.current.subarray(0, this.length));
    this.current = Buffer.allocUnsafeSlow(this.chunkBytes);
    this.length = 0;
  }
}

const NOTHING: readonly Buffer[] = [];

/** Lines appended to a set of files, each through its own LineChunks, written out as chunks fill. */
class PartitionWriter {
  private readonly streams: WriteStream[] = [];
  private readonly chunks: LineChunks[] = [];
  /** Streams that asked to wait (write returned false) since the last flush: their drain. */
  private readonly waiting = new Map<number, Promise<unknown>>();
  readonly paths: string[] = [];

  constructor(directory: string, prefix: string, count: number) {
    const flushBytes = Math.max(16 * 1024, Math.min(FLUSH_BYTES, Math.floor(BUFFERED_BYTES / count)));
    for (let i = 0; i < count; i++) {
      const path = join(directory, `${prefix}-${i}.jsonl`);
      this.paths.push(path);
      this.streams.push(createWriteStream(path, { highWaterMark: flushBytes }));
      this.chunks.push(new LineChunks(flushBytes));
    }
  }

  add(partition: number, line: string): void {
    const chunks = this.chunks[partition]!;
    chunks.add(line);
    for (const bytes of chunks.take(false)) this.write(partition, bytes);
  }

  /** Writes out what is buffered (with `force`: every partial chunk too), honouring back-pressure. */
  async flush(force = false): Promise<void> {
    if (force) this.chunks.forEach((chunks, i) => chunks.take(true).forEach((bytes) => this.write(i, bytes)));
    const waits = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(waits);
  }

  private write(partition: number, bytes: Buffer): void {
    const stream = this.streams[partition]!;
    // Listened for at once: the drain may come before the next flush.
    if (!stream.write(bytes) && !this.waiting.has(partition)) {
      const drained = once(stream, 'drain');
      // A failed write surfaces when the next flush awaits this, not as an unhandled rejection before.
      drained.catch(() => undefined);
      this.waiting.set(partition, drained);
    }
  }

  async close(): Promise<void> {
    await this.flush(true);
    await Promise.all(
      this.streams.map(
        (stream) =>
          new Promise<void>((resolve, reject) => {
            stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
          }),
      ),
    );
  }

  /** Stops writing and waits until every file is closed, so the directory can be removed. */
  async destroy(): Promise<void> {
    await Promise.all(
      this.streams.map((stream) => {
        if (stream.closed) return undefined;
        const closed = once(stream, 'close').catch(() => undefined);
        stream.destroy();
        return closed;
      }),
    );
  }
}

export class RowSpool {
  private readonly writer: PartitionWriter;
  private pending = 0;
  rows = 0;

  constructor(
    private readonly directory: string,
    private readonly keyPositions: number[],
    /** A partition file larger than this is split again before deduplication. */
    private readonly maxPartitionBytes = MAX_PARTITION_BYTES,
    private readonly partitionTotal = MIN_PARTITIONS,
    /** File names start with this: writers sharing a directory each need their own. */
    prefix = 'rows',
    /** Per key field, the form its values are compared in (see keyForm); none = as given. */
    private readonly keyForms?: ReadonlyArray<((text: string) => string) | undefined>,
  ) {
    this.writer = new PartitionWriter(directory, prefix, partitionTotal);
  }

  /** The identity of a record: its key values, exactly as given or in their type's canonical form. */
  keyOf(cells: string[]): string {
    const positions = this.keyPositions;
    const forms = this.keyForms;
    if (forms) {
      let key = '';
      for (let i = 0; i < positions.length; i++) {
        const text = cells[positions[i]!]!;
        const form = forms[i];
        key += (i > 0 ? '\u0000' : '') + (form ? form(text) : text);
      }
      return key;
    }
    if (positions.length === 1) return cells[positions[0]!]!;
    let key = cells[positions[0]!]!;
    for (let i = 1; i < positions.length; i++) key += '\u0000' + cells[positions[i]!]!;
    return key;
  }

  /** `fieldCells` are the row's values without the routing column. */
  add(row: number, segment: string, fieldCells: string[]): void {
    const key = this.keyOf(fieldCells);
    this.writer.add(hashKey(key) % this.partitionTotal, spoolLine(key, row, segment, JSON.stringify(fieldCells)));
    this.rows++;
    this.pending++;
  }

  /** Call between input batches: writes buffered lines out so memory stays flat. */
  async drain(): Promise<void> {
    if (this.pending < 5_000) return;
    this.pending = 0;
    await this.writer.flush();
  }

  async finish(): Promise<void> {
    await this.writer.close();
  }

  async destroy(): Promise<void> {
    await this.writer.destroy();
  }

  /** The partition files, in partition order. */
  files(): string[] {
    return [...this.writer.paths];
  }

  /** What deduplicating this spool's rows needs, as plain data that can cross to a worker thread. */
  partitions(): SpooledPartitions {
    return { directory: this.directory, groups: this.files().map((file) => [file]), maxPartitionBytes: this.maxPartitionBytes };
  }
}

/**
 * Rows spooled by one or more writers that partition keys the same way: `groups[p]` holds every
 * writer's file of partition p, so each key's rows are all in one group.
 */
export interface SpooledPartitions {
  directory: string;
  groups: string[][];
  /** A partition larger than this is split again before deduplication. */
  maxPartitionBytes: number;
  /**
   * When rows were spooled by position (piece sequence number x ROWS_PER_PIECE + index in the piece)
   * rather than by row number: the row number before each piece's first row.
   */
  rowBases?: number[];
}

/** Rows one input piece may hold when rows are spooled by position. */
export const ROWS_PER_PIECE = 2 ** 22;

/**
 * Each partition's rows reduced to one winner per key: the first or the last row of that key in input
 * order, with every Segment its rows named. Each file is removed once read.
 */
export async function* deduplicatePartitions(spooled: SpooledPartitions, strategy: DeduplicationStrategy): AsyncGenerator<DedupedPartition> {
  for (const group of spooled.groups) yield* deduplicateGroup(spooled, group, strategy, 1);
}

async function* deduplicateGroup(spooled: SpooledPartitions, files: string[], strategy: DeduplicationStrategy, depth: number): AsyncGenerator<DedupedPartition> {
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  if (sizes.reduce((sum, size) => sum + size, 0) > spooled.maxPartitionBytes && depth < MAX_DEPTH) {
    const sub = new PartitionWriter(spooled.directory, `${baseName(files[0]!)}-${depth}`, SUB_PARTITIONS);
    let count = 0;
    for (const file of files) {
      for await (const line of readLines(file)) {
        sub.add(hashKey(splitLine(line).key, depth) % SUB_PARTITIONS, line);
        if (++count % 5_000 === 0) await sub.flush();
      }
      await rm(file, { force: true });
    }
    await sub.close();
    for (const subPath of sub.paths) yield* deduplicateGroup(spooled, [subPath], strategy, depth + 1);
    return;
  }
  // The whole partition is read at once (it is at most maxPartitionBytes) and scanned as bytes: the
  // winners are spans of it, so no row is decoded or copied unless it has to be.
  const data = files.length === 1 ? await readFile(files[0]!) : Buffer.concat(await Promise.all(files.map((file) => readFile(file))));
  await Promise.all(files.map((file) => rm(file, { force: true })));
  const byKey = new Map<string, Winner>();
  let merged = 0;
  const lastWins = strategy === 'ImportLastMatch';
  for (let position = 0; position < data.length; ) {
    const keyEnd = data.indexOf(TAB, position);
    const rowEnd = data.indexOf(TAB, keyEnd + 1);
    const segmentEnd = data.indexOf(TAB, rowEnd + 1);
    let lineEnd = data.indexOf(NEWLINE, segmentEnd + 1);
    if (lineEnd < 0) lineEnd = data.length;
    // Latin-1 maps each byte to one character: a cheap, exact identity for the key's UTF-8 bytes.
    const key = data.toString('latin1', position, keyEnd);
    const row = digitsAt(data, keyEnd + 1, rowEnd);
    const segment = data.toString('latin1', rowEnd + 1, segmentEnd);
    position = lineEnd + 1;
    const existing = byKey.get(key);
    if (!existing) {
      byKey.set(key, { row, start: segmentEnd + 1, end: lineEnd, segments: [segment] });
      continue;
    }
    merged++;
    if (!existing.segments.includes(segment)) existing.segments.push(segment);
    // Several writers' files are read one after the other, so input order is the row (or position) order.
    if (lastWins ? row > existing.row : row < existing.row) {
      existing.row = row;
      existing.start = segmentEnd + 1;
      existing.end = lineEnd;
    }
  }
  const rowBases = spooled.rowBases;
  if (rowBases) {
    for (const winner of byKey.values()) {
      const piece = Math.floor(winner.row / ROWS_PER_PIECE);
      winner.row = rowBases[piece]! + (winner.row - piece * ROWS_PER_PIECE) + 1;
    }
  }
  let winners: Winner[] = [];
  for (const winner of byKey.values()) {
    winners.push(winner);
    if (winners.length === WINNER_SLICE) {
      yield { data, winners, merged };
      merged = 0;
      winners = [];
    }
  }
  if (winners.length > 0 || merged > 0) yield { data, winners, merged };
}

const TAB = 0x09;
const NEWLINE = 0x0a;

function digitsAt(data: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + data[i]! - 48;
  return value;
}

function baseName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1).replace(/\.jsonl$/, '');
}

/** Small reads, so a group is turned into a batch in a few milliseconds between two requests. */
const MEMBER_READ_BYTES = 64 * 1024;

export interface SegmentMember {
  /** The winner's input row number. */
  row: number;
  /** Its key row as sent (JSON array text), or '' when its key cannot be sent. */
  keyJson: string;
}

/** Where each Segment's lines go in a run: byte totals first, then write positions. */
type SegmentBytes = Map<number, number>;

/**
 * Every Segment's member keys, in one bounded buffer shared by all Segments. Members are buffered in
 * arrival order; a full buffer is written out as one run file with its lines grouped by Segment (in
 * Segment order, arrival order kept within each). Reading Segment after Segment in order then walks
 * each run file once, front to back. Memory is the one buffer and one small read buffer per run,
 * whatever the number of Segments; disk is one file per run, not one per Segment.
 *
 * Run line: `segment TAB row TAB keyJson`.
 */
export class SegmentSpool {
  private buffer: Buffer | undefined;
  private used = 0;
  /** Start and Segment of each buffered line; a line ends where the next starts. */
  private lineStarts: Int32Array = new Int32Array(1024);
  private lineSegments: Int32Array = new Int32Array(1024);
  private lines = 0;
  /** Bytes each Segment has in the buffer. */
  private segmentBytes: SegmentBytes = new Map();
  private counts: number[] = [];
  private runs = 0;
  private cursors: RunCursor[] | undefined;
  /** The Segment last read; reading one before it starts the runs over. */
  private lastRead = -1;

  constructor(
    readonly directory: string,
    private readonly maxBufferedBytes = 4 * 1024 * 1024,
  ) {}

  /** Takes over what another SegmentSpool (on a worker thread) wrote: its run files and counts. */
  adopt(written: SegmentSpoolFiles): void {
    this.counts = [...written.counts];
    this.runs = written.runs;
    this.cursors = undefined;
  }

  /** What a reader of these members in another thread needs. */
  files(): SegmentSpoolFiles {
    return { counts: Array.from(this.counts, (count) => count ?? 0), runs: this.runs };
  }

  runPath(run: number): string {
    return join(this.directory, `members-${run}.run`);
  }

  rows(segment: number): number {
    return this.counts[segment] ?? 0;
  }

  /**
   * One member: the winner's input row number and its key row as sent (JSON array text without
   * newlines), or '' when its key cannot be sent. Returns a promise only when the buffer was full and
   * is being written out: the caller awaits that one, not every row.
   */
  add(segment: number, row: number, keyJson: string): Promise<void> | undefined {
    // Digits of two numbers, two tabs, a newline, and at most three UTF-8 bytes per character.
    const room = 35 + keyJson.length * 3;
    if (this.buffer && this.used + room > this.buffer.length && this.used > 0) return this.flush().then(() => void this.append(segment, row, keyJson, room));
    this.append(segment, row, keyJson, room);
    return undefined;
  }

  private append(segment: number, row: number, keyJson: string, room: number): void {
    if (!this.buffer || room > this.buffer.length) this.buffer = Buffer.allocUnsafeSlow(Math.max(this.maxBufferedBytes, room));
    if (this.lines === this.lineStarts.length) {
      this.lineStarts = grow(this.lineStarts);
      this.lineSegments = grow(this.lineSegments);
    }
    const start = this.used;
    this.lineStarts[this.lines] = start;
    this.lineSegments[this.lines++] = segment;
    this.used += this.buffer.write(`${segment}\t${row}\t${keyJson}\n`, start);
    this.segmentBytes.set(segment, (this.segmentBytes.get(segment) ?? 0) + this.used - start);
    this.counts[segment] = (this.counts[segment] ?? 0) + 1;
  }

  /** Writes the buffered members out as one run, grouped by Segment. */
  async flush(): Promise<void> {
    if (this.lines === 0) return;
    const buffer = this.buffer!;
    const positions: SegmentBytes = new Map();
    let offset = 0;
    for (const segment of [...this.segmentBytes.keys()].sort((a, b) => a - b)) {
      positions.set(segment, offset);
      offset += this.segmentBytes.get(segment)!;
    }
    const data = Buffer.allocUnsafe(this.used);
    for (let line = 0; line < this.lines; line++) {
      const segment = this.lineSegments[line]!;
      const start = this.lineStarts[line]!;
      const end = line + 1 < this.lines ? this.lineStarts[line + 1]! : this.used;
      const at = positions.get(segment)!;
      buffer.copy(data, at, start, end);
      positions.set(segment, at + end - start);
    }
    this.used = 0;
    this.lines = 0;
    this.segmentBytes = new Map();
    // Numbered before the write, so members added meanwhile go to the next run, never to this file.
    const run = this.runs++;
    this.cursors = undefined;
    await writeFile(this.runPath(run), data);
  }

  /**
   * The members of a Segment in the order added, a read chunk's worth at a time. Reading Segments in
   * increasing order reads every run once; going back to an earlier Segment reads the runs again.
   */
  async *memberGroups(segment: number): AsyncGenerator<SegmentMember[]> {
    if (this.rows(segment) === 0) return;
    if (!this.cursors || segment < this.lastRead) this.cursors = Array.from({ length: this.runs }, (_, run) => new RunCursor(this.runPath(run)));
    this.lastRead = segment;
    for (const cursor of this.cursors) {
      for (let group = await cursor.take(segment); group; group = await cursor.take(segment)) yield group;
    }
  }
}

/** A SegmentSpool's output, as plain data that can cross from a worker thread. */
export interface SegmentSpoolFiles {
  /** Members of each Segment, by Segment index. */
  counts: number[];
  runs: number;
}

function grow(array: Int32Array): Int32Array {
  const grown = new Int32Array(array.length * 2);
  grown.set(array);
  return grown;
}

/**
 * Reads one run file front to back, a Segment's lines at a time. The file is opened for each read, so
 * any number of runs can be read without holding a file handle each.
 */
class RunCursor {
  private buffer: Buffer | undefined;
  private start = 0;
  private end = 0;
  private offset = 0;
  private done = false;

  constructor(private readonly path: string) {}

  /** The next lines of `segment` (skipping those of earlier Segments), or undefined once a later Segment's start. */
  async take(segment: number): Promise<SegmentMember[] | undefined> {
    const members: SegmentMember[] = [];
    for (;;) {
      const buffer = this.buffer;
      while (buffer) {
        const newline = buffer.indexOf(NEWLINE, this.start);
        if (newline < 0 || newline >= this.end) break;
        const tab = buffer.indexOf(TAB, this.start);
        const lineSegment = digitsAt(buffer, this.start, tab);
        if (lineSegment > segment) return members.length > 0 ? members : undefined;
        if (lineSegment === segment) {
          const rowEnd = buffer.indexOf(TAB, tab + 1);
          members.push({ row: digitsAt(buffer, tab + 1, rowEnd), keyJson: buffer.toString('utf8', rowEnd + 1, newline) });
        }
        this.start = newline + 1;
      }
      if (members.length > 0) return members;
      if (this.done) return undefined;
      await this.fill();
    }
  }

  private async fill(): Promise<void> {
    let buffer = this.buffer ?? Buffer.allocUnsafe(MEMBER_READ_BYTES);
    // Keep the unfinished line; a line longer than the buffer makes it grow.
    const kept = this.end - this.start;
    if (kept === buffer.length) {
      const grown = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(grown, 0, this.start, this.end);
      buffer = grown;
    } else if (this.buffer) buffer.copy(buffer, 0, this.start, this.end);
    this.buffer = buffer;
    this.start = 0;
    this.end = kept;
    const handle = await open(this.path, 'r');
    try {
      const { bytesRead } = await handle.read(buffer, kept, buffer.length - kept, this.offset);
      this.offset += bytesRead;
      this.end += bytesRead;
      if (bytesRead === 0) {
        this.done = true;
        this.buffer = undefined;
      }
    } finally {
      await handle.close();
    }
  }
}
