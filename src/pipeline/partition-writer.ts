import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { LineChunks } from './line-buffers.js';

const FLUSH_BYTES = 64 * 1024;
/** Bytes buffered for all partitions together before they are written out. */
const BUFFERED_BYTES = 4 * 1024 * 1024;

interface PartitionFile {
  stream: WriteStream;
  chunks: LineChunks;
}

/** Lines appended to a set of files (`prefix-N.jsonl`), each through its own LineChunks, written out as chunks fill. */
export class PartitionWriter {
  private readonly files: PartitionFile[] = [];
  /** Streams that asked to wait (write returned false) since the last flush: their drain. */
  private readonly waiting = new Map<WriteStream, Promise<unknown>>();
  readonly paths: string[] = [];

  constructor(directory: string, prefix: string, count: number) {
    const flushBytes = Math.max(16 * 1024, Math.min(FLUSH_BYTES, Math.floor(BUFFERED_BYTES / count)));
    for (let i = 0; i < count; i++) {
      const path = join(directory, `${prefix}-${i}.jsonl`);
      this.paths.push(path);
      this.files.push({
        stream: createWriteStream(path, { highWaterMark: flushBytes }),
        chunks: new LineChunks(flushBytes),
      });
    }
  }

  add(partition: number, line: string): void {
    const file = this.files[partition];
    if (!file) throw new RangeError(`partition ${partition} is not one of the ${this.files.length} written`);
    file.chunks.add(line);
    for (const bytes of file.chunks.take(false)) this.write(file.stream, bytes);
  }

  /** Writes out what is buffered (with `force`: every partial chunk too), honouring back-pressure. */
  async flush(force = false): Promise<void> {
    if (force) this.files.forEach((file) => file.chunks.take(true).forEach((bytes) => this.write(file.stream, bytes)));
    const waits = [...this.waiting.values()];
    this.waiting.clear();
    await Promise.all(waits);
  }

  private write(stream: WriteStream, bytes: Buffer): void {
    // Listened for at once: the drain may come before the next flush.
    if (!stream.write(bytes) && !this.waiting.has(stream)) {
      const drained = once(stream, 'drain');
      // A failed write surfaces when the next flush awaits this, not as an unhandled rejection before.
      drained.catch(() => undefined);
      this.waiting.set(stream, drained);
    }
  }

  async close(): Promise<void> {
    await this.flush(true);
    await Promise.all(
      this.files.map(
        ({ stream }) =>
          new Promise<void>((resolve, reject) => {
            stream.end((error?: Error | null) => (error ? reject(error) : resolve()));
          }),
      ),
    );
  }
}
