/**
 * The replace case (`--replace-members N [--replace-churn F]`): a Segment of N members exists before the
 * run; the input holds the members shifted by F (the first F*N leave, F*N new keys join). The same input
 * is exported once per strategy, `clear_then_load` and `load_then_remove`, each into a fresh simulator
 * seeded with the Segment, and the two are put side by side: requests (search pages, loads, removals),
 * wall time, peak RSS and the lowest member count the simulator saw during the run.
 *
 * The input is a gzip CSV (`selligent_segment`, `customer_identifier`, `email`) cached under
 * `.bench/data/` like the generated query result; its description has the generated file's shape, so
 * the parse ceiling, the upload and the run figures take it as they are.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { BenchCase, CasePreparation } from './cases.js';
import { LIST, medianTree, round, type Any } from './common.js';
import type { DataMeta } from './data.js';
import type { Params } from './options.js';
import type { RequestLogEntry, SimulatorProcess } from './simulator-process.js';
import type { ExporterReport, RunFigures } from './types.js';
import { roundTo } from '../../src/rounding.js';

/** Bump when the generated content changes, so stale cached files are not reused. */
const REPLACE_DATA_VERSION = 1;
export const REPLACE_SEGMENT = 'replaced_audience';
export const REPLACE_STRATEGIES = ['clear_then_load', 'load_then_remove'] as const;
export type ReplaceStrategy = (typeof REPLACE_STRATEGIES)[number];
const HEADER = ['selligent_segment', 'customer_identifier', 'email'];
/** Members per chunk of the seed's JSON text (the text is built in pieces, then sent at once). */
const SEED_CHUNK = 10_000;

export interface ReplaceShape {
  members: number;
  churn: number;
}

/** The key of member number `i` (0-based): sorts as it counts. */
export function replaceMemberId(i: number): string {
  return `C${String(i).padStart(9, '0')}`;
}

/**
 * Who is where: members now are keys 0 .. N-1; the input holds keys `leaving` .. N+joining-1, so the
 * first `leaving` members leave and `joining` new keys join.
 */
export function replacePlan({ members, churn }: ReplaceShape): {
  leaving: number;
  joining: number;
  inputFrom: number;
  inputTo: number;
  after: number;
  /** The fewest members the Segment may hold during a run that never empties it: min(old, new). */
  floor: number;
} {
  const moved = Math.min(members, Math.round(members * churn));
  return {
    leaving: moved,
    joining: moved,
    inputFrom: moved,
    inputTo: members + moved,
    after: members,
    floor: members,
  };
}

/** The input's data lines for keys from .. to-1 (no header). */
export function* replaceInputLines(from: number, to: number): Generator<string> {
  for (let i = from; i < to; i++) {
    const id = replaceMemberId(i);
    yield `${REPLACE_SEGMENT},${id},${id.toLowerCase()}@example.com\n`;
  }
}

/** The simulator's seed, as JSON text in pieces: the List with the members' records, and the Segment of them all. */
export function* replaceSeedText(members: number): Generator<string> {
  yield `{"lists":[{"api_name":${JSON.stringify(LIST)},"fields":[{"name":"CUSTOMER_IDENTIFIER","data_type":"Text","length":50},{"name":"EMAIL","data_type":"Text","length":200}],"business_key":["CUSTOMER_IDENTIFIER"],"records":[`;
  for (let start = 0; start < members; start += SEED_CHUNK) {
    const parts: string[] = [];
    for (let i = start; i < Math.min(members, start + SEED_CHUNK); i++) {
      const id = replaceMemberId(i);
      parts.push(`{"ID":${i + 1},"CUSTOMER_IDENTIFIER":"${id}","EMAIL":"${id.toLowerCase()}@example.com"}`);
    }
    yield (start > 0 ? ',' : '') + parts.join(',');
  }
  yield `],"segments":[{"api_name":${JSON.stringify(REPLACE_SEGMENT)},"members":[`;
  for (let start = 0; start < members; start += SEED_CHUNK) {
    const ids: number[] = [];
    for (let i = start; i < Math.min(members, start + SEED_CHUNK); i++) ids.push(i + 1);
    yield (start > 0 ? ',' : '') + ids.join(',');
  }
  yield ']}]}]}';
}

export function replaceDataPath(dir: string, shape: ReplaceShape): string {
  return join(dir, `replace-${shape.members}m-${shape.churn}c-v${REPLACE_DATA_VERSION}.csv.gz`);
}

/** The replace input's file and description, generated first when it is not cached. */
export async function ensureReplaceData(
  dir: string,
  shape: ReplaceShape,
  log: (line: string) => void,
): Promise<{ meta: DataMeta; generated: boolean }> {
  const file = replaceDataPath(dir, shape);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as DataMeta;
    log(`input: reusing ${file} (${(meta.gzipBytes / 1e6).toFixed(1)} MB gzip)`);
    return { meta: { ...meta, file }, generated: false };
  }
  await mkdir(dir, { recursive: true });
  const plan = replacePlan(shape);
  const rows = plan.inputTo - plan.inputFrom;
  log(`input: generating ${rows} rows of Segment ${REPLACE_SEGMENT} -> ${file}`);
  const started = performance.now();
  const md5 = createHash('md5');
  let csvBytes = 0;
  let gzipBytes = 0;
  const partial = `${file}.partial`;
  function* text(): Generator<string> {
    yield HEADER.join(',') + '\n';
    let chunk = '';
    for (const line of replaceInputLines(plan.inputFrom, plan.inputTo)) {
      chunk += line;
      if (chunk.length >= 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    if (chunk) yield chunk;
  }
  const count = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      csvBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const hash = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      md5.update(chunk);
      gzipBytes += chunk.length;
      callback(null, chunk);
    },
  });
  await pipeline(Readable.from(text()), count, createGzip(), hash, createWriteStream(partial));
  await rename(partial, file);
  const meta: DataMeta = {
    rows,
    segments: 1,
    seed: 1,
    version: REPLACE_DATA_VERSION,
    file,
    gzipBytes,
    csvBytes,
    md5: md5.digest('hex'),
    header: HEADER,
    validRows: rows,
    distinctKeys: rows,
    duplicateRows: 0,
    nearDuplicates: 0,
    farDuplicates: 0,
    skipped: { segment_blank: 0, key_blank: 0 },
    quotedRows: 0,
    segmentNames: [REPLACE_SEGMENT],
    segmentRows: { [REPLACE_SEGMENT]: rows },
    generatedSeconds: roundTo((performance.now() - started) / 1000, 1),
  };
  await writeFile(metaFile, JSON.stringify(meta, null, 2) + '\n');
  log(`input: generated in ${meta.generatedSeconds} s (${(gzipBytes / 1e6).toFixed(1)} MB gzip)`);
  return { meta, generated: true };
}

/** Both strategies, in turn, on the same input. */
export function replaceCases(p: Params, shape: ReplaceShape): BenchCase[] {
  return REPLACE_STRATEGIES.map((strategy) => ({
    name: strategy,
    title: `replace a Segment of ${shape.members} members, ${shape.churn * 100} % churn: ${strategy}`,
    params: p,
    tag: { replaceStrategy: strategy },
    settings: { segment_data_import_option: 'replace', segment_replace_strategy: strategy },
    prepare: (preparation: CasePreparation) => seedSimulator(preparation.sim, shape.members),
    finish: async ({ sim, report, requests }) => ({
      replace: replaceFigures(strategy, shape, report, requests, await watermark(sim)),
    }),
  }));
}

async function control(sim: SimulatorProcess, method: string, path: string, body?: string): Promise<Any> {
  const response = await fetch(`${sim.baseUrl}/__simulator/${path}`, {
    method,
    headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
    body,
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} /__simulator/${path}: HTTP ${response.status} ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

/**
 * Seeds the List and the Segment, then starts the watermark period. The seed is larger than a request
 * body may be, so the limit is raised for it and put back before the exporter starts.
 */
async function seedSimulator(sim: SimulatorProcess, members: number): Promise<void> {
  const seed = [...replaceSeedText(members)].join('');
  const config = (await control(sim, 'GET', 'config')) as { maxBodyBytes: number };
  await control(sim, 'POST', 'config', JSON.stringify({ maxBodyBytes: Buffer.byteLength(seed) + 1024 }));
  try {
    await control(sim, 'POST', 'seed', seed);
  } finally {
    await control(sim, 'POST', 'config', JSON.stringify({ maxBodyBytes: config.maxBodyBytes }));
  }
  await control(sim, 'POST', 'watermarks/reset');
}

/** The Segment's lowest and current member counts since the seed. */
async function watermark(sim: SimulatorProcess): Promise<{ min: number; current: number } | null> {
  const marks = (await control(sim, 'GET', 'watermarks')) as Record<
    string,
    Record<string, { min: number; current: number }>
  >;
  return marks[LIST]?.[REPLACE_SEGMENT] ?? null;
}

/** The part of a Segment's report entry the replace case reads (absent from builds without the setting). */
interface ReplaceEntry {
  members_before?: number;
  added?: number;
  removed?: number;
  after?: number;
}

/** One run's replace figures, from the exporter's report, the simulator's request log and its watermark. */
export function replaceFigures(
  strategy: ReplaceStrategy,
  shape: ReplaceShape,
  report: ExporterReport,
  requests: readonly RequestLogEntry[],
  mark: { min: number; current: number } | null,
): RunFigures {
  const plan = replacePlan(shape);
  const routes: Record<string, number> = {};
  for (const entry of requests) if (entry.route) routes[entry.route] = (routes[entry.route] ?? 0) + 1;
  const entry = (
    report.segments.find((s) => s.api_name.toLowerCase() === REPLACE_SEGMENT) as { replace?: ReplaceEntry } | undefined
  )?.replace;
  const lowest = mark?.min ?? null;
  return {
    strategy,
    members: shape.members,
    churn: shape.churn,
    leaving: plan.leaving,
    joining: plan.joining,
    requests: {
      total: requests.length,
      searchPages: routes.searchSegment ?? 0,
      listLoads: routes.loadList ?? 0,
      clears: routes.clearSegment ?? 0,
      segmentLoads: routes.loadSegment ?? 0,
      removals: routes.deleteSegmentData ?? 0,
    },
    reported: entry
      ? { before: entry.members_before, added: entry.added, removed: entry.removed, after: entry.after }
      : null,
    membersAfter: mark?.current ?? null,
    membersAfterExpected: plan.after,
    lowestMembers: lowest,
    /** min(old, new): what load_then_remove must never go below. */
    floor: plan.floor,
    neverBelowFloor: lowest === null ? null : lowest >= plan.floor,
  };
}

/** The figures of a strategy's median run that the ratios read. */
interface ReplaceMedian {
  wallSeconds: number;
  peakRssMb: number;
  replace: { requests: { total: number } };
}

/** Each strategy's median run (figures of every kind), and load_then_remove / clear_then_load. */
export function replaceComparison(runsByCase: Record<string, RunFigures[]>): Any {
  const medians: Partial<Record<ReplaceStrategy, ReplaceMedian>> = {};
  const out: Record<string, unknown> = {};
  for (const strategy of REPLACE_STRATEGIES) {
    const runs = runsByCase[strategy] ?? [];
    if (runs.length === 0) {
      out[strategy] = null;
      continue;
    }
    const median = medianTree(runs.map((r) => ({ ...r, profile: undefined, files: undefined }))) as ReplaceMedian;
    medians[strategy] = median;
    out[strategy] = { median, runs: runs.length };
  }
  const a = medians.clear_then_load;
  const b = medians.load_then_remove;
  out.loadThenRemoveOverClearThenLoad = {
    requests: a && b ? round(b.replace.requests.total / a.replace.requests.total, 3) : null,
    wallSeconds: a && b ? round(b.wallSeconds / a.wallSeconds, 3) : null,
    peakRssMb: a && b ? round(b.peakRssMb / a.peakRssMb, 3) : null,
  };
  return out;
}
