import { createHash, randomBytes } from 'node:crypto';
import { appendFile, mkdtemp, readFile, rm } from 'node:fs/promises';
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
        const raw = this.rows[partition]! > 0 ? await readFile(this.file(partition)) : Buffer.alloc(0);
        const compressed = await gzipAsync(raw);
        const file = pieceName(partition);
        await store.put(`${directory}/${file}`, compressed);
        pieces[partition] = {
          partition,
          file,
          bytes: compressed.length,
          rows: this.rows[partition]!,
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

export function isPowerOfTwo(count: number): boolean {
  return Number.isInteger(count) && count > 0 && (count & (count - 1)) === 0;
}
