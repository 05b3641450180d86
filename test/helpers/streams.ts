import { Readable } from 'node:stream';

/**
 * A stream of the given bytes in pieces of `size` bytes (1 = every byte its own chunk), one piece per
 * event-loop turn so that no two pieces are merged in a stream buffer on the way.
 */
export function chunked(bytes: Buffer, size = bytes.length || 1): Readable {
  let offset = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (offset >= bytes.length) {
          this.push(null);
          return;
        }
        this.push(bytes.subarray(offset, offset + size));
        offset += size;
      });
    },
  });
}
