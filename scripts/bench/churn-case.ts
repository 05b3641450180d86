/**
 * `--churn F`: changes-only sync (sync_mode changes) measured over two runs on one simulator.
 *
 * 1. A first run on the generated input writes the state (a local directory in the run directory, or
 *    with `--state-s3` a prefix on the benchmark's s3rver).
 * 2. A second run on a churned copy of the input, in which a fraction F of the keys changed, compares
 *    with that state and sends only the difference.
 *
 * The churned copy is derived from the generated file line by line, deciding per key (so every row of
 * a key changes alike): half of the churned keys get another lifetime_value, a fifth move to the next
 * Segment, 15 % are gone; new keys, 15 % of F times the distinct keys, are appended. It is cached
 * beside the generated file.
 */
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import { BENCH_DIR, BUCKET, log, medianTree, round } from './common.js';
import type { BenchCase } from './cases.js';
import { segmentNames, type DataMeta } from './data.js';
import type { Params } from './options.js';
import { runCase } from './run.js';
import type { S3Server } from './s3.js';
import { startSimulatorProcess, type SimulatorStartOptions } from './simulator-process.js';
import { churnTargets } from './targets.js';
import type { BenchEnv, RunFigures, Target } from './types.js';
import type { ChangesReport } from '../../src/report/types.js';
import { upload } from './s3.js';

/** Shares of the churned keys (value changed, Segment moved, gone) and of new keys, as fractions of F. */
export const CHURN_SHARES = { value: 0.5, move: 0.2, gone: 0.15, new: 0.15 } as const;

export type ChurnKind = 'value' | 'move' | 'gone';

/** Keys of valid rows are below this id; invalid rows use ids from it on (data.ts). */
const INVALID_KEY_BASE = 900_000_000;

/** A uniform draw in [0, 1) from a key id and the seed: the same key always draws the same. */
export function keyDraw(id: number, seed: number): number {
  let h = Math.imul(id ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(seed + 1, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 4294967296;
}

/** What churn F does to key `id`: nothing (undefined), or one kind of change. */
export function churnKind(id: number, seed: number, fraction: number): ChurnKind | undefined {
  if (fraction <= 0 || id >= INVALID_KEY_BASE) return undefined;
  const u = keyDraw(id, seed);
  if (u >= fraction * (1 - CHURN_SHARES.new)) return undefined;
  const share = u / (fraction * (1 - CHURN_SHARES.new));
  const { value, move } = CHURN_SHARES;
  const changed = value + move + CHURN_SHARES.gone;
  if (share < value / changed) return 'value';
  if (share < (value + move) / changed) return 'move';
  return 'gone';
}

/** New keys appended for churn F: a share of F times the distinct keys. */
export function newKeyCount(distinctKeys: number, fraction: number): number {
  return Math.round(distinctKeys * fraction * CHURN_SHARES.new);
}

/**
 * One generated CSV line after the change `kind` (line without its newline): null when the row is
 * gone. Columns as data.ts writes them; only the first name may hold a comma (quoted), so the columns
 * are found from both ends.
 */
export function churnLine(line: string, kind: ChurnKind, segments: readonly string[]): string | null {
  if (kind === 'gone') return null;
  const c1 = line.indexOf(',');
  if (kind === 'move') {
    const at = segments.indexOf(line.slice(0, c1));
    const next = segments[(at + 1) % segments.length]!;
    return `${next}${line.slice(c1)}`;
  }
  // lifetime_value is the third column from the end: another value, never the same one.
  const beforeTs = line.lastIndexOf(',', line.lastIndexOf(',') - 1);
  const beforeLtv = line.lastIndexOf(',', beforeTs - 1);
  const ltv = line.slice(beforeLtv + 1, beforeTs);
  const next = ltv === '' ? '1.00' : (Number(ltv) + 1).toFixed(2);
  return `${line.slice(0, beforeLtv + 1)}${next}${line.slice(beforeTs)}`;
}

/** The key id of a generated line (`C000000123` -> 123), or undefined for a blank key. */
export function lineKeyId(line: string): number | undefined {
  const c1 = line.indexOf(',');
  const c2 = line.indexOf(',', c1 + 1);
  if (c2 === c1 + 1) return undefined;
  return Number(line.slice(c1 + 2, c2));
}

/** A new key's row: valid, in a Segment drawn from its id. */
export function newKeyLine(id: number, segments: readonly string[]): string {
  const segment = segments[id % segments.length]!;
  return `${segment},C${String(id).padStart(9, '0')},new.${id}@example.com,Nova,${(id % 5000).toFixed(2)},2026-11-01 12:00:00,true`;
}

/** What the churned input should make the second run find. */
export interface ChurnExpected {
  fraction: number;
  /** Keys whose List row changed (a value), moved to another Segment, gone, and new. */
  valueChanged: number;
  segmentMoved: number;
  gone: number;
  new: number;
}

export interface ChurnMeta extends DataMeta {
  churn: ChurnExpected;
}

/** Bump when the churned content changes, so stale cached files are not reused. */
const CHURN_VERSION = 1;

function churnPath(meta: DataMeta, fraction: number): string {
  return meta.file.replace(/\.csv\.gz$/, `-churn${fraction}-c${CHURN_VERSION}.csv.gz`);
}

/** The churned copy of `meta`'s file (cached beside it). F = 0 is a byte-for-byte copy of the rows. */
export async function ensureChurnData(meta: DataMeta, fraction: number): Promise<ChurnMeta> {
  const file = churnPath(meta, fraction);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) {
    const cached = JSON.parse(await readFile(metaFile, 'utf8')) as ChurnMeta;
    if (cached.md5 && cached.churn.fraction === fraction && cached.rows > 0) {
      log(`churned input: reusing ${file}`);
      return { ...cached, file };
    }
  }
  log(`churned input: deriving F = ${fraction} from ${meta.file}`);
  const started = performance.now();
  const segments = segmentNames(meta.segments);
  const expected: ChurnExpected = { fraction, valueChanged: 0, segmentMoved: 0, gone: 0, new: 0 };
  // One bit per key id: a key is counted once however many rows it has.
  const seen = new Uint8Array(meta.distinctKeys + 1);
  let rows = 0;
  let validRows = 0;
  let csvBytes = 0;
  const segmentRows: Record<string, number> = Object.fromEntries(segments.map((s) => [s, 0]));
  const counted = (line: string): string => {
    rows++;
    csvBytes += Buffer.byteLength(line) + 1;
    return `${line}\n`;
  };
  async function* text(): AsyncGenerator<string> {
    const lines = createInterface({ input: createReadStream(meta.file).pipe(createGunzip()), crlfDelay: Infinity });
    let header = true;
    let chunk = '';
    for await (const line of lines) {
      if (header) {
        header = false;
        csvBytes += Buffer.byteLength(line) + 1;
        yield `${line}\n`;
        continue;
      }
      const id = lineKeyId(line);
      const kind = id === undefined ? undefined : churnKind(id, meta.seed, fraction);
      let out: string | null = line;
      if (kind) {
        out = churnLine(line, kind, segments);
        if (!seen[id!]) {
          seen[id!] = 1;
          expected[kind === 'value' ? 'valueChanged' : kind === 'move' ? 'segmentMoved' : 'gone']++;
        }
      }
      if (out === null) continue;
      const segment = out.slice(0, out.indexOf(','));
      if (id !== undefined && id < INVALID_KEY_BASE && segment.trim() !== '') {
        validRows++;
        segmentRows[segment] = (segmentRows[segment] ?? 0) + 1;
      }
      chunk += counted(out);
      if (chunk.length >= 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    const added = newKeyCount(meta.distinctKeys, fraction);
    for (let i = 1; i <= added; i++) {
      const line = newKeyLine(meta.distinctKeys + i, segments);
      validRows++;
      const segment = line.slice(0, line.indexOf(','));
      segmentRows[segment] = (segmentRows[segment] ?? 0) + 1;
      chunk += counted(line);
      if (chunk.length >= 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    expected.new = added;
    if (chunk) yield chunk;
  }
  const md5 = createHash('md5');
  let gzipBytes = 0;
  const partial = `${file}.partial-${process.pid}`;
  try {
    const gzip = createGzip({ level: 6 });
    gzip.on('data', (b: Buffer) => {
      md5.update(b);
      gzipBytes += b.length;
    });
    await pipeline(Readable.from(text()), gzip, createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  const distinctKeys = meta.distinctKeys - expected.gone + expected.new;
  const out: ChurnMeta = {
    ...meta,
    file,
    rows,
    csvBytes,
    gzipBytes,
    md5: md5.digest('hex'),
    validRows,
    distinctKeys,
    duplicateRows: validRows - distinctKeys,
    nearDuplicates: 0,
    farDuplicates: 0,
    segmentRows,
    generatedSeconds: round((performance.now() - started) / 1000, 1)!,
    churn: expected,
  };
  await writeFile(metaFile, JSON.stringify(out, null, 2) + '\n');
  log(
    `churned input: ${rows} rows in ${out.generatedSeconds} s (${expected.valueChanged} values changed, ${expected.segmentMoved} Segment moves, ${expected.gone} gone, ${expected.new} new)`,
  );
  return out;
}

/** Load requests by kind, from the simulator's request log (429 answers left out: they loaded nothing). */
export interface LoadRequests {
  list: number;
  segment: number;
  removal: number;
  total: number;
}

export function loadRequests(log_: Array<{ route: string | null; status: number }>): LoadRequests {
  const count = (route: string) => log_.filter((e) => e.route === route && e.status !== 429).length;
  const list = count('loadList');
  const segment = count('loadSegment');
  const removal = count('deleteSegmentData');
  return { list, segment, removal, total: list + segment + removal };
}

/** One run's changes-only figures, beside the run's usual ones. */
export interface ChurnRunFigures {
  loadRequests: LoadRequests;
  wallSeconds: number;
  readSeconds: number;
  /** Seconds per stage as the report gives them (the comparison is in list_load, the state write in segment_load). */
  stages: Record<string, number | null>;
  /**
   * The report's total less its stages: the new state's write and commit, which run after the last
   * stage (null when the report has no total).
   */
  afterStagesSeconds: number | null;
  peakRssMb: number;
  /** The report's changes block: mode, new/changed/unchanged/left, bytes read and written. */
  changes: ChangesReport | null;
  /** Rows (keys) in the state written, from its manifest. */
  stateRows: number | null;
  stateBytes: number | null;
  stateBytesPerRow: number | null;
}

/** The parts of a run's figures (figures.ts) these figures take. */
export interface MeasuredRun {
  wallSeconds: number;
  stages: { read: { seconds: number } };
  peakRssMb: number | null;
  peakRssAllProcessesMb: number | null;
}

/** The parts of the exporter's report these figures take. */
export interface ChangesRunReport {
  durations_seconds: Record<string, number | undefined>;
  changes: ChangesReport | null;
}

export function churnRunFigures(
  run: MeasuredRun,
  report: ChangesRunReport,
  requests: LoadRequests,
  stateRows: number | null,
): ChurnRunFigures {
  const stages: Record<string, number | null> = {};
  for (const [name, seconds] of Object.entries(report.durations_seconds)) stages[name] = round(seconds);
  const stateBytes = report.changes?.state_bytes_written ?? null;
  const { total, ...staged } = report.durations_seconds;
  const inStages = Object.values(staged).reduce<number>((sum, seconds) => sum + (seconds ?? 0), 0);
  return {
    loadRequests: requests,
    wallSeconds: run.wallSeconds,
    readSeconds: run.stages.read.seconds,
    stages,
    afterStagesSeconds: total === undefined ? null : round(total - inStages),
    peakRssMb: Math.max(run.peakRssMb ?? 0, run.peakRssAllProcessesMb ?? 0),
    changes: report.changes,
    stateRows,
    stateBytes,
    stateBytesPerRow: stateBytes !== null && stateRows ? round(stateBytes / stateRows, 2) : null,
  };
}

export interface ChurnRatios {
  loadRequests: number | null;
  secondWallOverFirstRead: number | null;
  secondWallOverFirstWall: number | null;
}

/** The ratios the changes-only targets are about. */
export function churnRatios(first: ChurnRunFigures, second: ChurnRunFigures): ChurnRatios {
  return {
    loadRequests: first.loadRequests.total > 0 ? round(second.loadRequests.total / first.loadRequests.total, 4) : null,
    secondWallOverFirstRead: first.readSeconds > 0 ? round(second.wallSeconds / first.readSeconds, 3) : null,
    secondWallOverFirstWall: first.wallSeconds > 0 ? round(second.wallSeconds / first.wallSeconds, 3) : null,
  };
}

/** Rows of the state in force at `stateUri` (its manifest), or null when it cannot be read. */
async function stateRows(stateUri: string, s3: S3Server): Promise<number | null> {
  try {
    const get = async (name: string): Promise<string> => {
      if (!stateUri.startsWith('s3://')) return readFile(join(stateUri, name), 'utf8');
      const { GetObjectCommand } = await import('@aws-sdk/client-s3');
      const client = await s3.client();
      try {
        const prefix = stateUri.slice(`s3://${BUCKET}/`.length);
        const body = await client.send(new GetObjectCommand({ Bucket: BUCKET, Key: `${prefix}${name}` }));
        return (await body.Body?.transformToString('utf8')) ?? '';
      } finally {
        client.destroy();
      }
    };
    const pointer = JSON.parse(await get('CURRENT.json')) as { manifest: string };
    const manifest = JSON.parse(await get(pointer.manifest)) as { rows: number };
    return manifest.rows;
  } catch {
    return null;
  }
}

export interface ChurnRuns {
  first: RunFigures[];
  second: RunFigures[];
}

/**
 * Every pair of runs (`--runs N`): a fresh simulator and a fresh state, the first run, then the second
 * on the churned input against the same simulator and state.
 */
export async function runChurn(
  p: Params & { churn: number },
  bench: BenchEnv,
  runsDir: string,
  stamp: string,
): Promise<ChurnRuns> {
  const churned = await ensureChurnData(bench.meta, p.churn);
  const churnedKey = bench.key.replace(/\.csv\.gz$/, `-churn${p.churn}.csv.gz`);
  await upload(bench.s3, churned, churnedKey);
  const out: ChurnRuns = { first: [], second: [] };
  for (let i = 1; i <= p.runs; i++) {
    const stateUri = p.stateS3 ? `s3://${BUCKET}/bench-state/${stamp}-${i}/` : join(runsDir, `churn-state-${i}`);
    if (!p.stateS3) await mkdir(stateUri, { recursive: true });
    const settings = { sync_mode: 'changes', state_uri: stateUri };
    await mkdir(runsDir, { recursive: true });
    const sim = await startSimulatorProcess(churnSimulatorOptions(p, bench.cli, join(runsDir, `churn-simulator-${i}`)));
    try {
      for (const which of ['first', 'second'] as const) {
        const benchCase: BenchCase = {
          name: `churn-${which}`,
          title: `changes-only sync, ${which} run${which === 'second' ? ` (churn F = ${p.churn})` : ''}`,
          params: p,
          tag: { churnRun: which },
          settings,
        };
        log(`run ${i}: ${benchCase.title}`);
        const runDir = join(runsDir, `churn-${which}-run-${i}`);
        const r = await runCase(
          benchCase,
          bench,
          runDir,
          i,
          which === 'second' ? { sim, key: churnedKey, meta: churned } : { sim },
        );
        const report = JSON.parse(await readFile(join(runDir, 'report.json'), 'utf8')) as ChangesRunReport;
        const requests = (await readFile(join(runDir, 'requests.jsonl'), 'utf8'))
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { route: string | null; status: number });
        const c = churnRunFigures(
          r as unknown as MeasuredRun,
          report,
          loadRequests(requests),
          await stateRows(stateUri, bench.s3),
        );
        r.churn = c;
        if (which === 'second') r.churnInput = churned.churn;
        log(
          `run ${i}, ${which}: load requests ${c.loadRequests.total} (List ${c.loadRequests.list}, Segment ${c.loadRequests.segment}, removal ${c.loadRequests.removal}), ${c.wallSeconds} s wall, read ${c.readSeconds} s, peak RSS ${c.peakRssMb} MB, state ${c.stateBytes} bytes (${c.stateBytesPerRow} per row)`,
        );
        out[which].push(r);
      }
    } finally {
      await sim.stop();
    }
  }
  if (!p.keep) {
    await rm(churned.file, { force: true });
    await rm(`${churned.file}.json`, { force: true });
  }
  return out;
}

/** As run.ts starts its own, with the heap for every record of both runs. */
function churnSimulatorOptions(p: Params, cli: string, base: string): SimulatorStartOptions {
  return {
    cli,
    latencyMs: p.latencyMs,
    latencyPerRowMs: p.latencyPerRowMs,
    serverTimeoutMs: p.serverTimeoutMs,
    rateLimit: p.simRateLimit,
    configPath: `${base}.json`,
    maxOldSpaceMb: Math.max(4096, Math.min(16_384, Math.floor((totalmem() / 2 ** 20) * 0.6))),
    logPath: `${base}.log`,
  };
}

/** The document's `churn` block. */
export interface ChurnBlock {
  fraction: number;
  state: string;
  input: ChurnExpected | null;
  first: ChurnRunFigures;
  second: ChurnRunFigures;
  ratios: ChurnRatios;
}

/** The document's `churn` block and its targets, from the medians of the runs. */
export async function churnDocument(
  p: Params & { churn: number },
  runs: ChurnRuns,
): Promise<{ block: ChurnBlock; targets: Target[] }> {
  const first = medianTree(runs.first.map((r) => r.churn)) as ChurnRunFigures;
  const second = medianTree(runs.second.map((r) => r.churn)) as ChurnRunFigures;
  let rssAt1M: { mb: number; file: string } | null = null;
  if (p.rows > 1_000_000) {
    const file = join(
      BENCH_DIR,
      'results',
      `1000000r-${p.segments}s-${p.latencyMs}ms-churn${p.churn}${p.asImage ? '-image' : ''}.json`,
    );
    if (existsSync(file)) {
      const base = JSON.parse(await readFile(file, 'utf8')) as { churn?: ChurnBlock };
      const mb = Math.max(base.churn?.first?.peakRssMb ?? 0, base.churn?.second?.peakRssMb ?? 0);
      if (mb > 0) rssAt1M = { mb, file: file.slice(BENCH_DIR.length - '.bench'.length) };
    }
  }
  return {
    block: {
      fraction: p.churn,
      state: p.stateS3 ? 'S3 (the benchmark s3rver)' : 'local directory',
      input: (runs.second[0]?.churnInput as ChurnExpected | undefined) ?? null,
      first,
      second,
      ratios: churnRatios(first, second),
    },
    targets: churnTargets(p, first, second, rssAt1M),
  };
}

/** The readable table of the two runs, on stderr after the usual one. */
export function churnTable(block: ChurnBlock): string {
  const f = block.first;
  const s = block.second;
  const req = (c: ChurnRunFigures) =>
    `${c.loadRequests.total} (${c.loadRequests.list} + ${c.loadRequests.segment} + ${c.loadRequests.removal})`;
  const rows: Array<[string, string, string]> = [
    ['load requests (List + Segment + removal)', req(f), req(s)],
    ['wall s', String(f.wallSeconds), String(s.wallSeconds)],
    ['read stage s', String(f.readSeconds), String(s.readSeconds)],
    ['list_load s (comparison)', String(f.stages.list_load), String(s.stages.list_load)],
    ['segment_load s', String(f.stages.segment_load), String(s.stages.segment_load)],
    ['after the stages s (state write, commit)', String(f.afterStagesSeconds), String(s.afterStagesSeconds)],
    ['peak RSS MB', String(f.peakRssMb), String(s.peakRssMb)],
    [
      'new / changed / unchanged / left',
      `${f.changes?.new} / ${f.changes?.changed} / ${f.changes?.unchanged} / ${f.changes?.left_input}`,
      `${s.changes?.new} / ${s.changes?.changed} / ${s.changes?.unchanged} / ${s.changes?.left_input}`,
    ],
    ['state bytes (keys)', `${f.stateBytes} (${f.stateRows})`, `${s.stateBytes} (${s.stateRows})`],
    ['state bytes per row', String(f.stateBytesPerRow), String(s.stateBytesPerRow)],
  ];
  const head: [string, string, string] = ['figure', 'first run', `second run, F = ${block.fraction}`];
  const w = [0, 1, 2].map((i) => Math.max(head[i]!.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: [string, string, string]) =>
    `${r[0].padEnd(w[0]!)}  ${r[1].padStart(w[1]!)}  ${r[2].padStart(w[2]!)}`;
  const r = block.ratios;
  return [
    `changes-only sync, state: ${block.state}:`,
    line(head),
    ...rows.map(line),
    `ratios: load requests ${r.loadRequests}, second wall / first read ${r.secondWallOverFirstRead}, second wall / first wall ${r.secondWallOverFirstWall}`,
  ].join('\n');
}
