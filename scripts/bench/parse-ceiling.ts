/** The parse ceiling: fast-csv alone on the same file, in a child process (parse-ceiling-child.ts). */
import { join } from 'node:path';
import { ROOT, round } from './common.js';
import { runNode } from './child.js';
import type { DataMeta } from './data.js';

export interface ParseCeiling {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** CPU time of the whole child (user + system, start-up included) and rows per CPU second. */
  cpuSeconds: number | null;
  rowsPerCpuSecond: number | null;
  peakRssMb: number;
}

export async function parseCeiling(meta: DataMeta, runDir: string): Promise<ParseCeiling> {
  const r = await runNode(
    ['--import', 'tsx', join(ROOT, 'scripts', 'bench', 'parse-ceiling-child.ts'), meta.file],
    { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' },
    join(runDir, 'parse-time.txt'),
  );
  if (r.code !== 0) throw new Error(`parse ceiling child failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as {
    rows: number;
    seconds: number;
    rowsPerSecond: number;
  };
  if (seen.rows !== meta.rows) throw new Error(`parse ceiling counted ${seen.rows} rows, the file has ${meta.rows}`);
  const cpu = r.userSeconds !== null && r.systemSeconds !== null ? r.userSeconds + r.systemSeconds : null;
  return {
    rows: seen.rows,
    seconds: round(seen.seconds)!,
    rowsPerSecond: Math.round(seen.rowsPerSecond),
    cpuSeconds: round(cpu, 2),
    rowsPerCpuSecond: cpu ? Math.round(seen.rows / cpu) : null,
    peakRssMb: round(r.peakRssKb / 1024, 1)!,
  };
}
