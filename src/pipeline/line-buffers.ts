/**
 * Spool files are lines of text handled as bytes: written through chunk buffers, and read back by
 * finding tabs and newlines and the numbers between them, without decoding a whole line.
 */

export const TAB = 0x09;
export const NEWLINE = 0x0a;
const ZERO = 0x30;

/**
 * Lines as UTF-8 bytes in chunks of about `chunkBytes`: a line is encoded once, straight into its
 * chunk, and never waits in the heap as a string. Completed chunks are taken out as they fill.
 */
export class LineChunks {
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

/** The whole number written in decimal digits at `data[start, end)`. */
export function digitsAt(data: Buffer, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 10 + (data[i] ?? ZERO) - ZERO;
  return value;
}
