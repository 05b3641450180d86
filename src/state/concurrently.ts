/**
 * Runs `task(0..count-1)` with at most `limit` in flight: pieces are many small objects, and on object
 * storage one round trip each, one after the other, would dominate. Stops at the first failure.
 */
export async function forEachConcurrently(
  count: number,
  limit: number,
  task: (index: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < count) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, count) }, worker));
  // The first failure a worker met; the others stopped taking tasks after it.
  for (const result of results) if (result.status === 'rejected') throw result.reason;
}
