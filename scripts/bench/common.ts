/**
 * What every part of the benchmark shares: where it keeps its files, the exporter's defaults it judges
 * against, its log line, and the rounding and medians of its figures.
 */
import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { roundTo } from '../../src/rounding.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BENCH_DIR = join(ROOT, '.bench');
export const DIST_CLI = join(ROOT, 'dist', 'cli.js');
export const TIME = '/usr/bin/time';
export const BUCKET = 'td-results';
export const LIST = 'bench_contacts';
export const SIMULATOR_DEFAULT_RATE_LIMIT = 2_500;
export const DEFAULT_BATCH_ROWS = 5_000;
export const DEFAULT_BATCH_BYTES = 10 * 1024 * 1024;
export const DEFAULT_SEGMENT_BATCH_ROWS_MAX = 50_000;
/** --realistic: the latency model of a live tenant (docs/performance.md, "Realistic latency"). */
export const REALISTIC = { rows: 200_000, latencyMs: 200, latencyPerRowMs: 0.2, serverTimeoutMs: 15_000 };

/** The JSON document's shape is loose on purpose: it is read back from disk and printed. */
export type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

export const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

export function round(n: number | null | undefined, digits = 3): number | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null;
  return roundTo(n, digits);
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median of every numeric leaf across same-shaped objects; other leaves are taken from the first. */
export function medianTree(items: unknown[]): unknown {
  const first = items[0];
  if (items.every((v) => typeof v === 'number' && Number.isFinite(v))) return round(median(items as number[]), 4);
  if (first && typeof first === 'object' && !Array.isArray(first)) {
    const keys = new Set(items.flatMap((v) => (v && typeof v === 'object' ? Object.keys(v) : [])));
    const out: Record<string, unknown> = {};
    for (const k of keys) out[k] = medianTree(items.map((v) => (v as Record<string, unknown> | null)?.[k]));
    return out;
  }
  return first;
}

export function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}
