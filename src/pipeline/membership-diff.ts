/**
 * The comparison of one key partition of a Segment: its members now against its members to be. Keys
 * are canonical (see membership-spool.ts), so two spellings of one record are one key. The new members
 * are held, the current ones streamed past them; memory is one partition's worth. Synchronous: a
 * partition is small enough to be read at once, and a promise per member would cost more than the rest.
 */

export type MembershipChange<T> =
  /** A new member that is not a member now: to load. */
  | { change: 'add'; item: T }
  /** A member now and after: nothing to send. `incoming` is the new member of the same key. */
  | { change: 'stay'; item: T; incoming: T }
  /** A member now that is not among the new members: to remove. */
  | { change: 'remove'; item: T };

/**
 * Yields every current member as `stay` or `remove` as it streams past, then every new member that was
 * not met as `add`. A key seen twice on one side counts once: the first new member of a key is the one
 * added, and a current member read twice (a page boundary that moved) is reported once.
 */
export function* diffPartition<T>(
  incoming: Iterable<T>,
  current: Iterable<T>,
  keyOf: (item: T) => string,
): Generator<MembershipChange<T>> {
  const waiting = new Map<string, T>();
  for (const item of incoming) {
    const key = keyOf(item);
    if (!waiting.has(key)) waiting.set(key, item);
  }
  const met = new Set<string>();
  for (const item of current) {
    const key = keyOf(item);
    if (met.has(key)) continue;
    met.add(key);
    const incoming = waiting.get(key);
    if (incoming !== undefined && waiting.delete(key)) yield { change: 'stay', item, incoming };
    else yield { change: 'remove', item };
  }
  for (const item of waiting.values()) yield { change: 'add', item };
}
