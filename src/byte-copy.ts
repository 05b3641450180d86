/**
 * Copies `source[start, end)` into `target` at `at`; returns the bytes copied. The List rows are built
 * from many short values, and for those a plain loop is several times cheaper than a native copy,
 * whose call and view allocation cost more than the bytes themselves.
 */
export function copyBytes(source: Uint8Array, start: number, end: number, target: Uint8Array, at: number): number {
  const length = end - start;
  if (length < NATIVE_FROM) for (let i = 0; i < length; i++) target[at + i] = source[start + i]!;
  else target.set(source.subarray(start, end), at);
  return length;
}

const NATIVE_FROM = 64;
