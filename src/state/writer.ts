import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  MANIFEST_NAME,
  STATE_FORMAT,
  STATE_FORMAT_VERSION,
  entryLine,
  generationDirectory,
  partitionOf,
  pieceName,
  type PieceInfo,
  type StateEntry,
  type StateIdentity,
  type StateManifest,
  type StatePointer,
} from './format.js';
import { forEachConcurrently } from './concurrently.js';
import type { StateStore } from './store.js';

const gzipAsync = promisify(gzip);

/** Pieces compressed and stored at once: a few partitions' bytes in memory, round trips overlapped. */
export const PIECES_IN_FLIGHT = 4;

/** Lines buffered for all partitions together before they are appended to their files. */
const BUFFERED_CHARS = 4 * 1024 * 1024;

/** A generation written to the store but not yet in force. */
export interface WrittenState {
  manifest: StateManifest;
  pointer: StatePointer;
}

/**
 * Builds a new generation. Entries arrive in any order and wait in local partition files, so memory
 * stays flat; `write` then compresses one partition at a time, stores it with its checksum, and stores
 * the manifest. Nothing is in force until `commitState` replaces the pointer.
 */
export class StateWriter {
  private readonly buffers: string[][];
  private buffered = 0;
  private readonly rows: number[];
  private readonly segments = new Map<string, number>();
  private directory: string | undefined;
  /** Entries carried over as they were, one file per partition (see SettledLines); none when undefined. */
  private settled: { directory: string; rows: number[] } | undefined;

  constructor(
    /** Where the partition files wait (a run's temp directory). */
    private readonly tempParent: string,
    readonly partitionCount: number,
  ) {
    if (!isPowerOfTwo(partitionCount)) throw new RangeError(`partition count ${partitionCount} is not a power of two`);
    this.buffers = Array.from({ length: partitionCount }, () => []);
    this.rows = new Array<number>(partitionCount).fill(0);
  }

  async add(entry: StateEntry): Promise<void> {
    const partition = partitionOf(entry.key, this.partitionCount);
    const line = entryLine(entry);
    this.buffers[partition]!.push(line);
    this.rows[partition]! += 1;
    for (const segment of entry.segments) this.segments.set(segment, (this.segments.get(segment) ?? 0) + 1);
    this.buffered += line.length + 1;
    if (this.buffered >= BUFFERED_CHARS) await this.flush();
  }

  /** A line as entryLine writes it, of a key already known to be in `partition`, with its Segments. */
  async addLine(partition: number, line: string, segments: readonly string[]): Promise<void> {
    if (!(partition >= 0 && partition < this.partitionCount))
      throw new RangeError(`partition ${partition} of ${this.partitionCount}`);
    this.buffers[partition]!.push(line);
    this.rows[partition]! += 1;
    for (const segment of segments) this.segments.set(segment, (this.segments.get(segment) ?? 0) + 1);
    this.buffered += line.length + 1;
    if (this.buffered >= BUFFERED_CHARS) await this.flush();
  }

  /**
   * Takes the lines a comparison carried over unchanged (written by SettledLines into `directory`, in
   * this writer's partitioning) into the generation as they are.
   */
  async adoptSettled(directory: string): Promise<void> {
    const counts = await readSettledCounts(directory);
    if (!counts) return;
    if (counts.rows.length !== this.partitionCount)
      throw new RangeError(`settled lines in ${counts.rows.length} partitions, the state has ${this.partitionCount}`);
    for (const [segment, members] of Object.entries(counts.segments))
      this.segments.set(segment, (this.segments.get(segment) ?? 0) + members);
    this.settled = { directory, rows: counts.rows };
  }

  private async flush(): Promise<void> {
    this.directory ??= await mkdtemp(join(this.tempParent, 'state-'));
    for (let partition = 0; partition < this.partitionCount; partition++) {
      const lines = this.buffers[partition]!;
      if (lines.length === 0) continue;
      this.buffers[partition] = [];
      await appendFile(this.file(partition), `${lines.join('\n')}\n`);
    }
    this.buffered = 0;
  }

  private file(partition: number): string {
    return join(this.directory!, `state-${partition}.jsonl`);
  }

  /** Stores every piece and the manifest under a new generation directory beside the state in force. */
  async write(
    store: StateStore,
    identity: StateIdentity,
    previousGeneration: number | undefined,
    now = new Date(),
  ): Promise<WrittenState> {
    await this.flush();
    const generation = (previousGeneration ?? 0) + 1;
    const directory = generationDirectory(generation, randomBytes(4).toString('hex'));
    const pieces = new Array<PieceInfo>(this.partitionCount);
    try {
      await forEachConcurrently(this.partitionCount, PIECES_IN_FLIGHT, async (partition) => {
        const settledRows = this.settled?.rows[partition] ?? 0;
        const parts: Buffer[] = [];
        if (settledRows > 0) parts.push(await readFile(settledFile(this.settled!.directory, partition)));
        if (this.rows[partition]! > 0) parts.push(await readFile(this.file(partition)));
        const compressed = await gzipAsync(parts.length === 1 ? parts[0]! : Buffer.concat(parts));
        const file = pieceName(partition);
        await store.put(`${directory}/${file}`, compressed);
        pieces[partition] = {
          partition,
          file,
          bytes: compressed.length,
          rows: this.rows[partition]! + settledRows,
          sha256: createHash('sha256').update(compressed).digest('hex'),
        };
        await rm(this.file(partition), { force: true });
      });
    } finally {
      await this.discard();
    }
    const manifest: StateManifest = {
      format: STATE_FORMAT,
      format_version: STATE_FORMAT_VERSION,
      generation,
      directory,
      created_at: now.toISOString(),
      identity,
      partition_count: this.partitionCount,
      pieces,
      rows: pieces.reduce((sum, piece) => sum + piece.rows, 0),
      segments: Object.fromEntries([...this.segments.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
      bytes: pieces.reduce((sum, piece) => sum + piece.bytes, 0),
    };
    const manifestPath = `${directory}/${MANIFEST_NAME}`;
    await store.put(manifestPath, Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`));
    return { manifest, pointer: { format: STATE_FORMAT, generation, manifest: manifestPath } };
  }

  /** Removes the local partition files (a run that stops before writing its state). */
  async discard(): Promise<void> {
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
    this.directory = undefined;
  }
}

/** Where SettledLines keeps one partition's lines. */
export function settledFile(directory: string, partition: number): string {
  return join(directory, `settled-${partition}.jsonl`);
}

const SETTLED_COUNTS = 'counts.json';

interface SettledCounts {
  rows: number[];
  segments: Record<string, number>;
}

async function readSettledCounts(directory: string): Promise<SettledCounts | undefined> {
  try {
    return JSON.parse(await readFile(join(directory, SETTLED_COUNTS), 'utf8')) as SettledCounts;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/**
 * The lines a comparison carries into the new state as they were (a key whose row and Segments did not
 * change is recorded again whatever Selligent answers): written partition by partition as the
 * comparison goes, so they never pass through the journal, and taken by StateWriter.adoptSettled.
 */
export class SettledLines {
  private lines: string[] = [];
  private chars = 0;
  private partition = -1;
  private readonly rows: number[];
  /** Members per Segment, by the Segment's index in segmentNames. */
  private readonly members: number[];
  private created = false;

  constructor(
    private readonly directory: string,
    partitionCount: number,
    /** The Segments by index, as `add` is given a line's Segments. */
    private readonly segmentNames: readonly string[],
  ) {
    this.rows = new Array<number>(partitionCount).fill(0);
    this.members = new Array<number>(segmentNames.length).fill(0);
  }

  /**
   * A recorded line of `partition` (partitions in ascending order), whose Segments are `segments`
   * (indexes into segmentNames). A promise only when it writes, so most lines cost no await.
   */
  add(partition: number, line: string, segments: readonly number[]): Promise<void> | undefined {
    // The lines buffered so far go first when they are another partition's or reached the bound.
    const writing = partition !== this.partition || this.chars >= BUFFERED_CHARS ? this.flush() : undefined;
    this.partition = partition;
    this.lines.push(line);
    this.chars += line.length + 1;
    this.rows[partition]! += 1;
    for (const segment of segments) this.members[segment]! += 1;
    return writing;
  }

  /** Takes the buffered lines at once (they belong to the current partition), then writes them. */
  private flush(): Promise<void> | undefined {
    if (this.lines.length === 0) return undefined;
    const text = `${this.lines.join('\n')}\n`;
    const file = settledFile(this.directory, this.partition);
    this.lines = [];
    this.chars = 0;
    return this.append(file, text);
  }

  private async append(file: string, text: string): Promise<void> {
    if (!this.created) {
      await mkdir(this.directory, { recursive: true });
      this.created = true;
    }
    await appendFile(file, text);
  }

  /** After the comparison's last partition: the counts StateWriter.adoptSettled takes. */
  async finish(): Promise<void> {
    await this.flush();
    await mkdir(this.directory, { recursive: true });
    const segments: Record<string, number> = {};
    this.segmentNames.forEach((name, i) => {
      if (this.members[i]! > 0) segments[name] = this.members[i]!;
    });
    const counts: SettledCounts = { rows: this.rows, segments };
    await writeFile(join(this.directory, SETTLED_COUNTS), JSON.stringify(counts));
  }
}

export function isPowerOfTwo(count: number): boolean {
  return Number.isInteger(count) && count > 0 && (count & (count - 1)) === 0;
}
