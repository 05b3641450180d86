/** What a run's rows file (skipped and rejected rows, JSON Lines) holds, counted by stage and reason code. */
export interface RowsFileCounts {
  byReason: Array<{ stage: string; code: string; rows: number }>;
}

/**
 * Counts the lines of a rows file by their `stage` and `code`, in the order each first appears. A line
 * that is not a JSON object with those two texts counts under `?`: the count still adds up to the lines.
 */
export function countRowsFile(text: string): RowsFileCounts {
  const counts = new Map<string, { stage: string; code: string; rows: number }>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    let stage = '?';
    let code = '?';
    try {
      const row = JSON.parse(line) as { stage?: unknown; code?: unknown } | null;
      if (typeof row?.stage === 'string') stage = row.stage;
      if (typeof row?.code === 'string') code = row.code;
    } catch {
      // Counted under `?` below.
    }
    const key = `${stage}\u0000${code}`;
    const entry = counts.get(key) ?? { stage, code, rows: 0 };
    entry.rows++;
    counts.set(key, entry);
  }
  return { byReason: [...counts.values()] };
}
