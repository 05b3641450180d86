/**
 * The JSON document of an invocation (medians, every run, the realistic comparison, the targets), and
 * where it is kept: `.bench/last.json` and `.bench/results/` (the latest per shape, and per shape and
 * build, which the RSS growth target compares with).
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  BENCH_DIR,
  DEFAULT_BATCH_ROWS,
  DEFAULT_SEGMENT_BATCH_ROWS_MAX,
  ROOT,
  SIMULATOR_DEFAULT_RATE_LIMIT,
  medianTree,
  round,
  type Any,
} from './common.js';
import type { DataMeta } from './data.js';
import type { Params } from './options.js';
import { replaceComparison } from './replace-case.js';
import { replaceTargets, targets } from './targets.js';
import type { RunFigures, Target } from './types.js';

export interface DocumentInputs {
  p: Params;
  started: Date;
  commit: Record<string, unknown>;
  machine: Record<string, unknown>;
  meta: DataMeta;
  /** The runs of the case the document's `runs` and `median` describe. */
  runs: RunFigures[];
  /** Every case's runs by case name (`default` for the unnamed case). */
  runsByCase: Record<string, RunFigures[]>;
  build: string;
}

/** Medians over runs; the profile and the file paths differ by nature and are left out. */
function medianOfRuns(runs: RunFigures[]): Any {
  return medianTree(runs.map((r) => ({ ...r, profile: undefined, files: undefined })));
}

export async function buildDocument(o: DocumentInputs): Promise<Any> {
  const { p, meta, runs } = o;
  const medianRun = medianOfRuns(runs);
  const doc: Any = {
    benchmark: 'selligent-export end to end',
    measuredAt: o.started.toISOString(),
    commit: o.commit,
    machine: o.machine,
    params: {
      ...p,
      batchRows: p.batchRows ?? DEFAULT_BATCH_ROWS,
      requestsPerMinute: p.requestsPerMinute ?? 2_500,
      simRateLimit: p.simRateLimit === undefined ? SIMULATOR_DEFAULT_RATE_LIMIT : p.simRateLimit || 'off',
    },
    input: {
      file: meta.file.replace(ROOT + '/', ''),
      gzipBytes: meta.gzipBytes,
      csvBytes: meta.csvBytes,
      rows: meta.rows,
      validRows: meta.validRows,
      distinctKeys: meta.distinctKeys,
      duplicateRows: meta.duplicateRows,
      nearDuplicates: meta.nearDuplicates,
      farDuplicates: meta.farDuplicates,
      skipped: meta.skipped,
      quotedRows: meta.quotedRows,
      segments: meta.segments,
      largestSegmentRows: Math.max(...Object.values(meta.segmentRows)),
      smallestSegmentRows: Math.min(...Object.values(meta.segmentRows)),
    },
    median: medianRun,
    runs,
    targets: [] as Target[],
  };
  if (p.realistic) doc.comparison = comparison(p, o.runsByCase);
  if (p.replaceMembers !== undefined) {
    doc.replace = replaceComparison(o.runsByCase);
    doc.targets = replaceTargets(doc.replace);
  } else doc.targets = await targets(p, medianRun, o.build);
  return doc;
}

/** --realistic: the fixed and the adaptive Segment batches, and adaptive / fixed for the figures batching changes. */
function comparison(p: Params, runsByCase: Record<string, RunFigures[]>): Any {
  const fixedRuns = runsByCase.fixed ?? [];
  const adaptiveRuns = runsByCase.adaptive ?? [];
  const fixed = medianOfRuns(fixedRuns);
  const adaptive = adaptiveRuns.length ? medianOfRuns(adaptiveRuns) : null;
  const ratio = (f: (r: Any) => number | null | undefined) => {
    const a = adaptive ? f(adaptive) : null;
    const b = f(fixed);
    return typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null;
  };
  return {
    fixed: { segmentBatchRowsMax: p.batchRows ?? DEFAULT_BATCH_ROWS, median: fixed, runs: fixedRuns },
    adaptive: adaptive
      ? {
          segmentBatchRowsMax: p.segmentBatchRowsMax ?? DEFAULT_SEGMENT_BATCH_ROWS_MAX,
          median: adaptive,
          runs: adaptiveRuns,
        }
      : null,
    adaptiveOverFixed: {
      segmentRequests: ratio((r) => r.batching.segmentRequests),
      segmentLoadSeconds: ratio((r) => r.stages.segment_load.seconds),
      listLoadSeconds: ratio((r) => r.stages.list_load.seconds),
      wallSeconds: ratio((r) => r.wallSeconds),
    },
  };
}

/** Writes the document to `.bench/last.json` and, unless the run was instrumented, under `.bench/results/`. */
export async function saveDocument(p: Params, text: string, build: string): Promise<void> {
  await mkdir(join(BENCH_DIR, 'results'), { recursive: true });
  await writeFile(join(BENCH_DIR, 'last.json'), text);
  if (!p.cpuProf && p.nodeArgs.length === 0) {
    // Latest result per shape, and per shape and build (what the RSS growth check compares with).
    const shape = [
      `${p.rows}r-${p.segments}s-${p.latencyMs}ms`,
      p.latencyPerRowMs > 0 ? `${p.latencyPerRowMs}msrow` : '',
      p.serverTimeoutMs !== undefined ? `to${p.serverTimeoutMs}` : '',
      p.segmentBatchRowsMax !== undefined ? `smax${p.segmentBatchRowsMax}` : '',
      p.realistic ? 'realistic' : '',
      p.batchRows !== undefined ? `b${p.batchRows}` : '',
      p.requestsPerMinute !== undefined ? `rpm${p.requestsPerMinute}` : '',
      p.simRateLimit !== undefined ? `sim${p.simRateLimit}` : '',
      p.seed !== 1 ? `seed${p.seed}` : '',
      p.replaceMembers !== undefined ? `replace${p.replaceMembers}-churn${p.replaceChurn}` : '',
      p.churn !== undefined ? `churn${p.churn}${p.stateS3 ? 's3' : ''}` : '',
      p.asImage ? 'image' : '',
    ]
      .filter(Boolean)
      .join('-');
    await writeFile(join(BENCH_DIR, 'results', `${shape}.json`), text);
    await writeFile(join(BENCH_DIR, 'results', `${shape}-${build}.json`), text);
  }
}

/** Keeps the newest `keep` invocation directories under .bench/runs/ (their names sort by time). */
export async function pruneRuns(dir: string, keep: number): Promise<void> {
  const entries = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const old of entries.slice(0, Math.max(0, entries.length - keep)))
    await rm(join(dir, old), { recursive: true, force: true });
}
