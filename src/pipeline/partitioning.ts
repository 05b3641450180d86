/**
 * Valid rows are spread over partition files by a hash of their key: every row of one key lands in one
 * partition, which is then small enough to deduplicate in memory.
 */

/** The fewest partitions a spool writes. */
export const MIN_PARTITIONS = 64;
const MAX_PARTITIONS = 256;
/** What one partition should hold, so deduplicating it takes about as much memory whatever the input size. */
const TARGET_PARTITION_BYTES = 4 * 1024 * 1024;

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
