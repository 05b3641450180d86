import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { digitsAt, NEWLINE, TAB } from './line-buffers.js';

/** Small reads, so a group is turned into a batch in a few milliseconds between two requests. */
const MEMBER_READ_BYTES = 64 * 1024;

/** One member of a Segment as spooled. */
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

  private runPath(run: number): string {
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
    if (this.buffer && this.used + room > this.buffer.length && this.used > 0)
      return this.flush().then(() => void this.append(segment, row, keyJson, room));
    this.append(segment, row, keyJson, room);
    return undefined;
  }

  private append(segment: number, row: number, keyJson: string, room: number): void {
    if (!this.buffer || room > this.buffer.length)
      this.buffer = Buffer.allocUnsafeSlow(Math.max(this.maxBufferedBytes, room));
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
    const buffer = this.buffer;
    if (this.lines === 0 || !buffer) return;
    const positions: SegmentBytes = new Map();
    let offset = 0;
    for (const [segment, bytes] of [...this.segmentBytes].sort(([a], [b]) => a - b)) {
      positions.set(segment, offset);
      offset += bytes;
    }
    const data = Buffer.allocUnsafe(this.used);
    const starts = this.lineStarts.subarray(0, this.lines);
    this.lineSegments.subarray(0, this.lines).forEach((segment, line) => {
      const start = starts[line] ?? this.used;
      const end = starts[line + 1] ?? this.used;
      const at = positions.get(segment) ?? 0;
      buffer.copy(data, at, start, end);
      positions.set(segment, at + end - start);
    });
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
    if (!this.cursors || segment < this.lastRead)
      this.cursors = Array.from({ length: this.runs }, (_, run) => new RunCursor(this.runPath(run)));
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
          members.push({
            row: digitsAt(buffer, tab + 1, rowEnd),
            keyJson: buffer.toString('utf8', rowEnd + 1, newline),
          });
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
