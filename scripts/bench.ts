/**
 * `npm run bench`: end-to-end throughput and memory of the exporter CLI on a generated query result.
 *
 *   npm run build && npm run bench -- [--rows 1000000] [--segments 20] [--latency-ms 0] [--runs 1] ...
 *   npm run bench -- --help                  (every option)
 *
 * 1. Generates (or reuses from `.bench/data/`) a gzip CSV query result and uploads it to an in-process
 *    s3rver.
 * 2. Per run: times the parse ceiling (fast-csv alone on the same file, in a child process), starts the
 *    Selligent simulator in its own process with an empty tenant, runs `node dist/cli.js run` against
 *    `s3://bucket/key` under `/usr/bin/time -v`, and collects the run report, the OS's peak RSS of the
 *    exporter and the simulator's request log.
 * 3. Prints one JSON document on stdout (also written to `.bench/last.json` and under
 *    `.bench/results/`) and a readable table on stderr. Run files stay in `.bench/runs/` (the last 20).
 *
 * docs/performance.md explains every figure and holds measured results.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { cp, mkdir, readFile, readdir, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { ensureData, removeData, type DataMeta } from './bench-data.js';
import { formatProfile, summarizeCpuProfile, type ProfileSummary } from './bench-profile.js';
import { busyFigures, countBy, startSimulatorProcess, type BusyFigures, type RequestLogEntry } from './bench-sim.js';

const ROOT = resolve(import.meta.dirname, '..');
const BENCH_DIR = join(ROOT, '.bench');
const DIST_CLI = join(ROOT, 'dist', 'cli.js');
/** The exporter under test: a snapshot of dist/ taken at the start (see snapshotDist). */
let CLI = DIST_CLI;
const TIME = '/usr/bin/time';
const BUCKET = 'td-results';
const LIST = 'bench_contacts';
const SIMULATOR_DEFAULT_RATE_LIMIT = 2_500;
const DEFAULT_BATCH_ROWS = 5_000;
const DEFAULT_BATCH_BYTES = 10 * 1024 * 1024;
const DEFAULT_SEGMENT_BATCH_ROWS_MAX = 50_000;
/** --realistic: the latency model of a live tenant (docs/performance.md, "Realistic latency"). */
const REALISTIC = { rows: 200_000, latencyMs: 200, latencyPerRowMs: 0.2, serverTimeoutMs: 15_000 };

const USAGE = `Usage: npm run bench -- [options]

  --rows N                 data rows in the generated query result (default 1000000)
  --segments N             distinct Segments, 1-50, skewed sizes (default 20)
  --latency-ms N           simulator latency added to every answer (default 0)
  --latency-per-row-ms X   simulator latency per data row of a load body, added to --latency-ms (default 0)
  --server-timeout-ms N    the simulator answers 408 after N ms when a request's modelled work exceeds N
                           (default: no time-out)
  --segment-batch-rows-max N  segment_batch_rows_max setting: the largest Segment request the exporter's
                           adaptive sizing grows to (default: the exporter's, ${DEFAULT_SEGMENT_BATCH_ROWS_MAX});
                           equal to the Segment batch size, Segment batches are fixed
  --realistic              a service with realistic latency: 200 ms + 0.2 ms per row, 408 past 15 s,
                           200000 rows unless --rows; exports the same data twice, with fixed Segment
                           batches (segment_batch_rows_max = segment_batch_rows) and adaptive ones, and
                           prints them side by side (about 4 minutes here); with a build that has no
                           segment_batch_rows_max setting, only the fixed case runs
  --runs N                 repeat the run N times and report medians (default 1)
  --batch-rows N           batch_rows and segment_batch_rows settings (default: the exporter's, ${DEFAULT_BATCH_ROWS})
  --requests-per-minute N  requests_per_minute setting (default: the exporter's, 2500)
  --sim-rate-limit N       simulator requests per minute per key; 0 = no limit (default: the simulator's, ${SIMULATOR_DEFAULT_RATE_LIMIT})
  --seed N                 generator seed (default 1)
  --wait-idle S            before each run, wait up to S seconds for the machine to be quiet (other
                           processes using under a quarter of one core over 3 s) (default 0: do not wait)
  --node-arg ARG           pass ARG to the exporter's node, e.g. --node-arg=--max-old-space-size=128 (repeatable)
  --cpu-prof               run the exporter with node --cpu-prof and summarise the profile by function
                           (timings of that run are a few % slower)
  --build                  run npm run build first (dist/ is otherwise measured as it is)
  --commit REF             measure commit REF instead of dist/: its src/ is taken with git archive and
                           compiled apart under .bench/build/ (uncommitted edits in the tree stay out)
  --keep                   keep generated data in .bench/data/ for the next run (a file that was already
                           cached is always kept) and keep each run's rejected-rows file
  --help                   show this help
`;

// ------------------------------------------------------------------------------------------ options

interface Params {
  rows: number;
  segments: number;
  latencyMs: number;
  latencyPerRowMs: number;
  serverTimeoutMs: number | undefined;
  segmentBatchRowsMax: number | undefined;
  realistic: boolean;
  runs: number;
  batchRows: number | undefined;
  requestsPerMinute: number | undefined;
  simRateLimit: number | undefined;
  seed: number;
  cpuProf: boolean;
  keep: boolean;
  waitIdle: number;
  nodeArgs: string[];
  build: boolean;
  commit: string | undefined;
}

function parseOptions(argv: string[]): Params {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      rows: { type: 'string' },
      segments: { type: 'string' },
      'latency-ms': { type: 'string' },
      'latency-per-row-ms': { type: 'string' },
      'server-timeout-ms': { type: 'string' },
      'segment-batch-rows-max': { type: 'string' },
      realistic: { type: 'boolean' },
      runs: { type: 'string' },
      'batch-rows': { type: 'string' },
      'requests-per-minute': { type: 'string' },
      'sim-rate-limit': { type: 'string' },
      seed: { type: 'string' },
      'wait-idle': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      'cpu-prof': { type: 'boolean' },
      keep: { type: 'boolean' },
      build: { type: 'boolean' },
      commit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (name: string, value: string | undefined, fallback: number | undefined, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined => {
    if (value === undefined) return fallback;
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
  const realistic = values.realistic ?? false;
  const perRow = values['latency-per-row-ms'];
  const latencyPerRowMs = perRow === undefined ? (realistic ? REALISTIC.latencyPerRowMs : 0) : Number(perRow);
  if (!Number.isFinite(latencyPerRowMs) || latencyPerRowMs < 0 || latencyPerRowMs > 1_000) {
    throw new Error(`--latency-per-row-ms must be a number from 0 to 1000, got "${perRow}"`);
  }
  return {
    rows: int('rows', values.rows, realistic ? REALISTIC.rows : 1_000_000, 1)!,
    segments: int('segments', values.segments, 20, 1, 50)!,
    latencyMs: int('latency-ms', values['latency-ms'], realistic ? REALISTIC.latencyMs : 0, 0, 60_000)!,
    latencyPerRowMs,
    serverTimeoutMs: int('server-timeout-ms', values['server-timeout-ms'], realistic ? REALISTIC.serverTimeoutMs : undefined, 1, 3_600_000),
    segmentBatchRowsMax: int('segment-batch-rows-max', values['segment-batch-rows-max'], undefined, 1, 100_000),
    realistic,
    runs: int('runs', values.runs, 1, 1, 50)!,
    batchRows: int('batch-rows', values['batch-rows'], undefined, 1, 100_000),
    requestsPerMinute: int('requests-per-minute', values['requests-per-minute'], undefined, 1),
    simRateLimit: int('sim-rate-limit', values['sim-rate-limit'], undefined, 0),
    seed: int('seed', values.seed, 1, 0, 2 ** 31)!,
    cpuProf: values['cpu-prof'] ?? false,
    keep: values.keep ?? false,
    waitIdle: int('wait-idle', values['wait-idle'], 0, 0, 3_600)!,
    nodeArgs: values['node-arg'] ?? [],
    build: values.build ?? false,
    commit: values.commit,
  };
}

// ------------------------------------------------------------------------------------------ helpers

function latencyText(p: Params): string {
  const parts = [`${p.latencyMs} ms`];
  if (p.latencyPerRowMs > 0) parts.push(`${p.latencyPerRowMs} ms/row`);
  if (p.serverTimeoutMs !== undefined) parts.push(`408 past ${p.serverTimeoutMs} ms`);
  return parts.join(' + ').replace(' + 408', ', 408');
}

const log = (line: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

function round(n: number | null | undefined, digits = 3): number | null {
  if (n === null || n === undefined || !Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median of every numeric leaf across same-shaped objects; other leaves are taken from the first. */
function medianTree(items: unknown[]): unknown {
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

function git(args: string[]): string {
  try {
    return execFileSync('git', args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return '';
  }
}

async function machine(): Promise<Record<string, unknown>> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? cpus()[0]?.model ?? 'unknown';
  let nproc = cpus().length;
  try {
    nproc = Number(execFileSync('nproc', { encoding: 'utf8' }).trim()) || nproc;
  } catch {
    // keep os.cpus()
  }
  return {
    nproc,
    cpuModel: model,
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    freeMemoryGiB: round(freemem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    loadavg: loadavg().map((l) => round(l, 2)),
  };
}

// ------------------------------------------------------------------------------------------ build snapshot

/**
 * dist/ is shared with whoever runs `npm run build` (tests do too), so the exporter and the simulator run
 * from a copy taken at the start, named by a hash of its content: every run of one invocation measures
 * the same build, and two results with the same hash measured the same code.
 */
async function snapshotDist(): Promise<{ cli: string; hash: string; dir: string }> {
  const dist = join(ROOT, 'dist');
  const files = ((await readdir(dist, { recursive: true })) as string[]).filter((f) => f.endsWith('.js')).sort();
  const hash = createHash('sha256');
  for (const f of files) {
    hash.update(f + '\0');
    hash.update(await readFile(join(dist, f)));
  }
  const id = hash.digest('hex').slice(0, 12);
  const dir = join(BENCH_DIR, 'build', id);
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    await cp(dist, join(partial, 'dist'), { recursive: true });
    await cp(join(ROOT, 'package.json'), join(partial, 'package.json'));
    await rm(dir, { recursive: true, force: true });
    await cp(partial, dir, { recursive: true });
    await rm(partial, { recursive: true, force: true });
  }
  return { cli: join(dir, 'dist', 'cli.js'), hash: id, dir };
}

/**
 * Compiles commit `sha`'s src/ on its own (git archive + tsc) into .bench/build/src-ID/, where ID names
 * the content (src/ tree, tsconfig.json and package.json), so commits that leave src/ alone share a build.
 */
async function buildCommit(sha: string): Promise<{ cli: string; hash: string; dir: string }> {
  const ids = git(['rev-parse', `${sha}:src`, `${sha}:tsconfig.json`, `${sha}:package.json`]);
  const id = createHash('sha256').update(ids).digest('hex').slice(0, 12);
  const dir = join(BENCH_DIR, 'build', `src-${id}`);
  if (!existsSync(join(dir, 'dist', 'cli.js'))) {
    const partial = `${dir}.partial-${process.pid}`;
    await rm(partial, { recursive: true, force: true });
    await mkdir(partial, { recursive: true });
    execFileSync('sh', ['-c', `git archive ${sha} src tsconfig.json package.json | tar -x -C "${partial}"`], { cwd: ROOT });
    await symlink(join(ROOT, 'node_modules'), join(partial, 'node_modules'));
    log(`compiling ${sha.slice(0, 12)} apart in ${partial.replace(ROOT + '/', '')}`);
    execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(partial, 'tsconfig.json')], { cwd: partial, stdio: ['ignore', process.stderr, process.stderr] });
    await rm(dir, { recursive: true, force: true });
    await rename(partial, dir);
  }
  return { cli: join(dir, 'dist', 'cli.js'), hash: `src-${id}`, dir };
}

// ------------------------------------------------------------------------------------------ CPU use

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux default
}

/** Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat. */
async function machineBusySeconds(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const f = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
async function processCpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // Fields after the command: state(3) ... utime(14) stime(15), counted from 1 over the whole line.
  return (Number(rest[11] ?? 0) + Number(rest[12] ?? 0)) / clockTicks;
}

/** Cores' worth of CPU the rest of the machine used over `ms` (this process excluded). */
async function otherLoad(ms: number): Promise<number> {
  const m0 = await machineBusySeconds();
  const c0 = process.cpuUsage();
  await new Promise((r) => setTimeout(r, ms));
  const m1 = await machineBusySeconds();
  const c = process.cpuUsage(c0);
  return Math.max(0, m1 - m0 - (c.user + c.system) / 1e6) / (ms / 1000);
}

async function waitForQuiet(maxSeconds: number): Promise<number> {
  const deadline = performance.now() + maxSeconds * 1000;
  let load = await otherLoad(3_000);
  while (load > 0.25 && performance.now() < deadline) {
    log(`machine busy: other processes use ${load.toFixed(2)} core(s); waiting (up to ${Math.round((deadline - performance.now()) / 1000)} s more)`);
    await new Promise((r) => setTimeout(r, 7_000));
    load = await otherLoad(3_000);
  }
  return load;
}

// ------------------------------------------------------------------------------------------ S3

interface S3Server {
  endpoint: string;
  env: Record<string, string>;
  close(): Promise<void>;
}

interface S3rverInstance {
  run(): Promise<{ port: number }>;
  close(): Promise<void>;
  httpServer?: { closeAllConnections(): void };
}
type S3rverConstructor = new (o: { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] }) => S3rverInstance;

async function startS3(directory: string): Promise<S3Server> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverConstructor;
  await mkdir(directory, { recursive: true });
  const instance = new S3rver({ address: '127.0.0.1', port: 0, directory, silent: true, configureBuckets: [{ name: BUCKET }] });
  const { port } = await instance.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    env: {
      AWS_ENDPOINT_URL_S3: endpoint,
      S3_FORCE_PATH_STYLE: 'true',
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    },
    close: async () => {
      instance.httpServer?.closeAllConnections();
      await instance.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}

/**
 * Streams the file up with one PutObject. Checksums are `WHEN_REQUIRED`: with the SDK's default the body
 * goes out `aws-chunked` with a trailing checksum, which s3rver would store framing and all. The stored
 * object's ETag must equal the file's MD5.
 */
async function upload(s3: S3Server, meta: DataMeta, key: string): Promise<void> {
  const { S3Client, PutObjectCommand, HeadObjectCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  try {
    const started = performance.now();
    await client.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: createReadStream(meta.file), ContentLength: meta.gzipBytes, ContentType: 'text/csv' }));
    const head = await client.send(new HeadObjectCommand({ Bucket: BUCKET, Key: key }));
    const etag = (head.ETag ?? '').replace(/"/g, '');
    if (head.ContentLength !== meta.gzipBytes || etag !== meta.md5) {
      throw new Error(`s3rver stored s3://${BUCKET}/${key} wrongly: ${head.ContentLength} bytes, ETag ${etag}; expected ${meta.gzipBytes} bytes, MD5 ${meta.md5}`);
    }
    log(`uploaded s3://${BUCKET}/${key} (${(meta.gzipBytes / 1e6).toFixed(1)} MB) in ${((performance.now() - started) / 1000).toFixed(1)} s; ETag = MD5`);
  } finally {
    client.destroy();
  }
}

// ------------------------------------------------------------------------------------------ children

interface ChildResult {
  code: number;
  wallSeconds: number;
  peakRssKb: number;
  rssSource: string;
  userSeconds: number | null;
  systemSeconds: number | null;
  /** VmRSS of the exporter's processes together (the CLI may run the export in a child), sampled every 200 ms: [seconds since start, kB]. */
  rssSamples: Array<[number, number]>;
  /** Most node processes seen at once (2 when the CLI re-runs itself in a child). */
  processes: number;
  stdout: string;
  stderr: string;
}

/** Direct children of a process (from /proc; empty when it has exited). */
async function childPids(pid: number): Promise<number[]> {
  const children = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => null);
  if (children !== null) return children.trim().split(/\s+/).filter(Boolean).map(Number);
  const out: number[] = [];
  for (const entry of await readdir('/proc').catch(() => [] as string[])) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
    if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) out.push(Number(entry));
  }
  return out;
}

/** A process and all its descendants. */
async function processTree(pid: number): Promise<number[]> {
  const all = [pid];
  for (let i = 0; i < all.length; i++) all.push(...(await childPids(all[i]!)));
  return all;
}

/**
 * Runs a node child under `/usr/bin/time -v` (peak RSS from the OS), or, without it, takes the peak from
 * the child's /proc/PID/status VmHWM. Either way VmRSS is sampled every 200 ms for a timeline. `onLine`
 * sees each stdout line as it comes, with the seconds since the start.
 */
async function runNode(nodeArgs: string[], env: NodeJS.ProcessEnv, timeFile: string, onLine?: (line: string, seconds: number) => void): Promise<ChildResult> {
  const useTime = existsSync(TIME);
  const argv = useTime ? [TIME, '-v', '-o', timeFile, process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs];
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const out: string[] = [];
  let err = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    out.push(line);
    onLine?.(line, since());
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
    if (err.length > 200_000) err = err.slice(-100_000);
  });
  let hwmKb = 0;
  let processes = 0;
  const samples: Array<[number, number]> = [];
  let sampling = false;
  const poll = setInterval(() => {
    if (sampling) return;
    sampling = true;
    (async () => {
      // Under time, the tree starts at time's child; the time process itself is left out.
      const tree = (await processTree(child.pid!)).slice(useTime ? 1 : 0);
      let rss = 0;
      let seen = 0;
      for (const pid of tree) {
        const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
        if (!status) continue;
        seen++;
        rss += Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
        hwmKb = Math.max(hwmKb, Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0));
      }
      processes = Math.max(processes, seen);
      if (seen > 0) samples.push([round(since(), 2)!, rss]);
    })()
      .catch(() => undefined)
      .finally(() => (sampling = false));
  }, 200);
  const code: number = await new Promise((done) => child.on('close', (c) => done(c ?? 1)));
  const wallSeconds = (performance.now() - started) / 1000;
  clearInterval(poll);
  let peakRssKb = hwmKb;
  let userSeconds: number | null = null;
  let systemSeconds: number | null = null;
  if (useTime) {
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    peakRssKb = Number(/Maximum resident set size \(kbytes\):\s*(\d+)/.exec(report)?.[1] ?? NaN);
    userSeconds = Number(/User time \(seconds\):\s*([\d.]+)/.exec(report)?.[1] ?? NaN);
    systemSeconds = Number(/System time \(seconds\):\s*([\d.]+)/.exec(report)?.[1] ?? NaN);
    const status = /Exit status:\s*(\d+)/.exec(report)?.[1];
    if (status !== undefined && code !== Number(status)) log(`note: time reports exit status ${status}, process closed with ${code}`);
  }
  return {
    code,
    wallSeconds,
    peakRssKb,
    rssSource: useTime ? `${TIME} -v (Maximum resident set size)` : '/proc/PID/status VmHWM, polled every 200 ms',
    userSeconds,
    systemSeconds,
    rssSamples: samples,
    processes,
    stdout: out.join('\n'),
    stderr: err,
  };
}

interface ParseCeiling {
  rows: number;
  seconds: number;
  rowsPerSecond: number;
  /** CPU time of the whole child (user + system, start-up included) and rows per CPU second. */
  cpuSeconds: number | null;
  rowsPerCpuSecond: number | null;
  peakRssMb: number;
}

async function parseCeiling(meta: DataMeta, runDir: string): Promise<ParseCeiling> {
  const r = await runNode(['--import', 'tsx', join(ROOT, 'scripts', 'bench-parse.ts'), meta.file], { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' }, join(runDir, 'parse-time.txt'));
  if (r.code !== 0) throw new Error(`parse ceiling child failed (${r.code}): ${r.stderr.slice(-2000)}`);
  const seen = JSON.parse(r.stdout.trim().split('\n').pop()!) as { rows: number; seconds: number; rowsPerSecond: number };
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

// ------------------------------------------------------------------------------------------ one run

/** The parts of the exporter's run report the benchmark reads. */
interface Report {
  status: string;
  exit_code: number;
  input: { rows: number; bytes: number };
  validation: { valid_rows: number; skipped_rows: number; by_reason: Record<string, number> };
  deduplication: { unique_keys: number; merged_duplicates: number; segment_memberships: number };
  list: { requests: number; rows_sent: number; inserted: number; updated: number; failed: number; created: boolean } | null;
  segments: Array<{ api_name: string; rows: number; rows_sent: number; members_loaded: number; requests: number; created: boolean }>;
  http: {
    requests: number;
    by_route: Record<string, number>;
    by_status: Record<string, number>;
    retries: number;
    rate_limited: number;
    rate_limit_waits: number;
    rate_limit_wait_seconds: number;
    pacing_wait_seconds: number;
    split_batches: number;
  };
  accounting: { balanced: boolean; loaded: number; rejected: number } | null;
  /** Sizes the adaptive Segment batching went through (absent from builds without it). */
  segment_batch_rows?: { initial: number; smallest: number; largest: number; final: number; max: number } | null;
  durations_seconds: Record<string, number | undefined>;
  error: { code: string; message: string } | null;
}

const STAGES = ['read', 'preflight', 'list_setup', 'list_load', 'segment_setup', 'segment_load'] as const;

async function oneRun(p: Params, meta: DataMeta, s3: S3Server, key: string, runDir: string, index: number): Promise<Record<string, unknown>> {
  await mkdir(join(runDir, 'tmp'), { recursive: true });
  const quietBefore = p.waitIdle > 0 ? await waitForQuiet(p.waitIdle) : null;
  const loadBefore = loadavg()[0]!;

  log(`run ${index}: parse ceiling (fast-csv alone on the gunzipped file)`);
  const ceiling = await parseCeiling(meta, runDir);
  log(`run ${index}: parse ceiling ${ceiling.rowsPerSecond} rows/s (${ceiling.seconds} s)`);

  const sim = await startSimulatorProcess({
    cli: CLI,
    latencyMs: p.latencyMs,
    latencyPerRowMs: p.latencyPerRowMs,
    serverTimeoutMs: p.serverTimeoutMs,
    rateLimit: p.simRateLimit,
    configPath: join(runDir, 'simulator.json'),
    maxOldSpaceMb: Math.max(4096, Math.min(16_384, Math.floor((totalmem() / 2 ** 20) * 0.6))),
    logPath: join(runDir, 'simulator.log'),
  });
  let result: Record<string, unknown>;
  try {
    log(`run ${index}: simulator ${sim.baseUrl} (pid ${sim.pid}, latency ${latencyText(p)}, rate limit ${p.simRateLimit === undefined ? 'default' : p.simRateLimit || 'off'})`);
    const settings: Record<string, unknown> = {
      organization: sim.organization,
      list_api_name: LIST,
      segment_column: 'selligent_segment',
      key_fields: 'CUSTOMER_IDENTIFIER',
      create_list_if_not_exists: true,
      create_segment_if_not_exists: true,
    };
    if (p.batchRows !== undefined) {
      settings.batch_rows = p.batchRows;
      settings.segment_batch_rows = p.batchRows;
    }
    if (p.segmentBatchRowsMax !== undefined) settings.segment_batch_rows_max = p.segmentBatchRowsMax;
    if (p.requestsPerMinute !== undefined) settings.requests_per_minute = p.requestsPerMinute;
    const settingsPath = join(runDir, 'settings.json');
    await writeFile(settingsPath, JSON.stringify({ result_settings: settings }, null, 2) + '\n');
    const reportPath = join(runDir, 'report.json');
    const rejectedPath = join(runDir, 'rejected.jsonl');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      ...s3.env,
      SELLIGENT_BASE_URL: sim.baseUrl,
      SELLIGENT_API_KEY: sim.apiKey,
      SELLIGENT_API_SECRET: sim.apiSecret,
      LOG_FORMAT: 'json',
      LOG_LEVEL: 'info',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const profDir = join(runDir, 'prof');
    const nodeArgs = [
      ...(p.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      ...p.nodeArgs,
      CLI,
      'run',
      '--settings',
      settingsPath,
      '--input',
      `s3://${BUCKET}/${key}`,
      '--report',
      reportPath,
      '--rejected',
      rejectedPath,
      '--temp-dir',
      join(runDir, 'tmp'),
    ];
    log(`run ${index}: exporter: node ${nodeArgs.map((a) => a.replace(ROOT + '/', '')).join(' ')}`);
    const exporterLog: string[] = [];
    // Phase ends, from the exporter's own log lines (seconds since the exporter started).
    const marks: Record<string, number> = {};
    const machine0 = await machineBusySeconds();
    const sim0 = await processCpuSeconds(sim.pid);
    const self0 = process.cpuUsage();
    const r = await runNode(nodeArgs, env, join(runDir, 'exporter-time.txt'), (line, seconds) => {
      exporterLog.push(line);
      try {
        const entry = JSON.parse(line) as { msg?: string; level?: number | string };
        if (entry.msg === 'input read and validated; preflight passed') marks.read ??= seconds;
        if (entry.msg && /^List \S+ loaded$/.test(entry.msg)) marks.list ??= seconds;
        if (entry.msg) log(`  exporter: ${entry.msg}`);
      } catch {
        log(`  exporter: ${line}`);
      }
    });
    const machineBusy = (await machineBusySeconds()) - machine0;
    const simulatorCpu = (await processCpuSeconds(sim.pid)) - sim0;
    const selfCpu = process.cpuUsage(self0);
    await writeFile(join(runDir, 'exporter.log'), `${exporterLog.join('\n')}\n--- stderr ---\n${r.stderr}`);
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as Report;
    if (r.code !== 0) throw new Error(`the exporter exited ${r.code} (${report.status}): ${report.error?.code} ${report.error?.message ?? r.stderr.slice(-2000)}`);
    const requests = await sim.requests();
    await writeFile(join(runDir, 'requests.jsonl'), requests.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const simPeakKb = await sim.peakRssKb();
    result = measure(p, meta, report, r, requests, ceiling, simPeakKb);
    const exporterCpu = (r.userSeconds ?? 0) + (r.systemSeconds ?? 0);
    const benchCpu = (selfCpu.user + selfCpu.system) / 1e6;
    result.rssByPhase = rssByPhase(r.rssSamples, marks, r.wallSeconds);
    await writeFile(join(runDir, 'exporter-rss.json'), JSON.stringify({ marks, samples: r.rssSamples }) + '\n');
    result.contention = {
      /** Cores' worth of CPU used during the exporter run by the exporter, the simulator, this process (s3rver) and everything else. */
      exporterCores: round(exporterCpu / r.wallSeconds, 3),
      simulatorCores: round(simulatorCpu / r.wallSeconds, 3),
      benchAndS3Cores: round(benchCpu / r.wallSeconds, 3),
      otherCores: round(Math.max(0, machineBusy - exporterCpu - simulatorCpu - benchCpu) / r.wallSeconds, 3),
      otherCoresBeforeRun: round(quietBefore, 3),
      loadavgBefore: round(loadBefore, 2),
      loadavgAfter: round(loadavg()[0]!, 2),
    };
    result.files = { report: reportPath, exporterLog: join(runDir, 'exporter.log'), simulatorLog: join(runDir, 'simulator.log') };
    if (p.cpuProf) {
      // The largest profile is the process that did the work (the CLI may run the export in a child).
      const names = (await readdir(profDir).catch(() => [] as string[])).filter((f) => f.endsWith('.cpuprofile'));
      const sized = await Promise.all(names.map(async (f) => ({ f, size: (await stat(join(profDir, f))).size })));
      const profiles = sized.sort((a, b) => b.size - a.size).map((x) => x.f);
      if (profiles.length > 0) {
        // Stage windows from the exporter's log lines; the profile starts within a few ms of the spawn.
        const windows = [
          { name: 'read + preflight', from: 0, to: marks.read ?? r.wallSeconds },
          { name: 'List setup + load', from: marks.read ?? r.wallSeconds, to: marks.list ?? r.wallSeconds },
          { name: 'Segment loads', from: marks.list ?? r.wallSeconds, to: r.wallSeconds + 1 },
        ];
        const summary: ProfileSummary = await summarizeCpuProfile(join(profDir, profiles[0]!), 25, windows);
        result.profile = summary;
        process.stderr.write(formatProfile(summary, 20) + '\n');
      }
    }
    if (!p.keep) await rm(rejectedPath, { force: true });
  } finally {
    await sim.stop();
  }
  return result;
}

function measure(p: Params, meta: DataMeta, report: Report, r: ChildResult, log_: RequestLogEntry[], ceiling: ParseCeiling, simPeakKb: number): Record<string, unknown> {
  const d = report.durations_seconds;
  const rows = report.input.rows;
  const listSent = report.list?.rows_sent ?? 0;
  const segmentSent = report.segments.reduce((s, x) => s + x.rows_sent, 0);
  const stageRows: Record<string, number | null> = { read: rows, preflight: null, list_setup: null, list_load: listSent, segment_setup: null, segment_load: segmentSent };
  const stages: Record<string, unknown> = {};
  for (const stage of STAGES) {
    const seconds = d[stage] ?? 0;
    const n = stageRows[stage] ?? null;
    stages[stage] = { seconds: round(seconds), rows: n, rowsPerSecond: n !== null && seconds > 0 ? Math.round(n / seconds) : null, shareOfWall: round(seconds / r.wallSeconds, 3) };
  }
  const batchRows = p.batchRows ?? DEFAULT_BATCH_ROWS;
  const listLoads = log_.filter((e) => e.route === 'loadList');
  const listLoadsOk = listLoads.filter((e) => e.status !== 429);
  const listBytes = listLoadsOk.reduce((s, e) => s + e.requestBytes, 0);
  const bytesPerRow = listSent > 0 ? listBytes / listSent : 0;
  const expectedList = Math.ceil(listSent / batchRows);
  const expectedSegment = report.segments.reduce((s, x) => s + Math.ceil(x.rows_sent / batchRows), 0);
  const listBusy: BusyFigures = busyFigures(log_, ['loadList'], d.list_load);
  const segmentBusy: BusyFigures = busyFigures(log_, ['loadSegment'], d.segment_load);
  const loadSeconds = (d.list_load ?? 0) + (d.segment_load ?? 0);
  const loadBusy = listBusy.busySeconds + segmentBusy.busySeconds;
  const status429 = log_.filter((e) => e.status === 429);
  const status408 = log_.filter((e) => e.status === 408);
  const rowsPerSecond = rows / r.wallSeconds;
  const input = {
    matches: report.validation.skipped_rows === meta.skipped.segment_blank + meta.skipped.key_blank &&
      report.deduplication.unique_keys === meta.distinctKeys &&
      report.deduplication.merged_duplicates === meta.duplicateRows,
    skipped: report.validation.skipped_rows,
    skippedExpected: meta.skipped.segment_blank + meta.skipped.key_blank,
    uniqueKeys: report.deduplication.unique_keys,
    uniqueKeysExpected: meta.distinctKeys,
    mergedDuplicates: report.deduplication.merged_duplicates,
    mergedDuplicatesExpected: meta.duplicateRows,
  };
  return {
    status: report.status,
    exitCode: r.code,
    rows,
    validRows: report.validation.valid_rows,
    skippedRows: report.validation.skipped_rows,
    uniqueKeys: report.deduplication.unique_keys,
    mergedDuplicates: report.deduplication.merged_duplicates,
    segmentMemberships: report.deduplication.segment_memberships,
    accountingBalanced: report.accounting?.balanced ?? null,
    inputAsGenerated: input,
    wallSeconds: round(r.wallSeconds),
    reportTotalSeconds: round(d.total ?? null),
    rowsPerSecond: Math.round(rowsPerSecond),
    cpu: {
      userSeconds: round(r.userSeconds, 2),
      systemSeconds: round(r.systemSeconds, 2),
      /** Exporter CPU time over wall time: 1.0 = one core busy throughout. */
      utilisation: r.userSeconds !== null && r.systemSeconds !== null ? round((r.userSeconds + r.systemSeconds) / r.wallSeconds, 3) : null,
    },
    peakRssMb: round(r.peakRssKb / 1024, 1),
    peakRssSource: r.rssSource,
    /** Node processes of the exporter (2: the CLI runs the export in a child) and their summed RSS, sampled. */
    exporterProcesses: r.processes,
    peakRssAllProcessesMb: r.rssSamples.length ? round(Math.max(...r.rssSamples.map(([, kb]) => kb)) / 1024, 1) : null,
    simulatorPeakRssMb: round(simPeakKb / 1024, 1),
    stages,
    http: {
      exporter: {
        requests: report.http.requests,
        byRoute: report.http.by_route,
        byStatus: report.http.by_status,
        retries: report.http.retries,
        rateLimited: report.http.rate_limited,
        rateLimitWaits: report.http.rate_limit_waits,
        rateLimitWaitSeconds: report.http.rate_limit_wait_seconds,
        pacingWaitSeconds: report.http.pacing_wait_seconds,
        splitBatches: report.http.split_batches,
      },
      simulator: {
        requests: log_.length,
        byRoute: countBy(log_, (e) => e.route ?? '(unmatched)'),
        byStatus: countBy(log_, (e) => String(e.status)),
        status429: status429.length,
        status429ByRoute: countBy(status429, (e) => e.route ?? '(unmatched)'),
        status408: status408.length,
        status408ByRoute: countBy(status408, (e) => e.route ?? '(unmatched)'),
      },
    },
    busy: {
      list_load: roundBusy(listBusy),
      segment_load: roundBusy(segmentBusy),
      load_stages: { busySeconds: round(loadBusy), stageSeconds: round(loadSeconds), busyRatio: loadSeconds > 0 ? round(loadBusy / loadSeconds, 4) : null },
    },
    batching: {
      batchRows,
      listRowsSent: listSent,
      listRequests: report.list?.requests ?? 0,
      listRequestsSimulator: listLoadsOk.length,
      listRequestsExpected: expectedList,
      listBytesPerRow: round(bytesPerRow, 1),
      listRequestBytesMax: listLoadsOk.reduce((m, e) => Math.max(m, e.requestBytes), 0),
      /** Would a full batch of batchRows rows exceed batch_bytes? Then the byte cap decides the count. */
      byteCapBinds: bytesPerRow * batchRows > DEFAULT_BATCH_BYTES,
      segmentRowsSent: segmentSent,
      segmentRequests: report.segments.reduce((s, x) => s + x.requests, 0),
      segmentRequestsSimulator: log_.filter((e) => e.route === 'loadSegment' && e.status !== 429).length,
      /** With adaptive Segment batches the count is lower than this fixed-size figure. */
      segmentRequestsExpected: expectedSegment,
      segmentBatchRowsMax: p.segmentBatchRowsMax ?? null,
      /** The report's segment_batch_rows: initial, smallest, largest, final and max sizes. */
      segmentBatchRows: report.segment_batch_rows ?? null,
    },
    parseCeiling: ceiling,
    ratioToParseCeiling: round(rowsPerSecond / ceiling.rowsPerSecond, 3),
    /** Parse-ceiling CPU seconds over exporter CPU seconds: the same ratio, insensitive to other load. */
    cpuRatioToParseCeiling: ceiling.cpuSeconds && r.userSeconds !== null && r.systemSeconds !== null ? round(ceiling.cpuSeconds / (r.userSeconds + r.systemSeconds), 3) : null,
  };
}

/**
 * Peak sampled VmRSS (MB, all the exporter's processes together) in each phase: start -> input read and preflight passed (read), -> List loaded
 * (list setup and load, including deduplication), -> exit (Segment loads and the report).
 */
function rssByPhase(samples: Array<[number, number]>, marks: Record<string, number>, end: number): Record<string, number | null> {
  const peak = (from: number, to: number) => {
    const inPhase = samples.filter(([t]) => t >= from && t < to).map(([, kb]) => kb);
    return inPhase.length ? round(Math.max(...inPhase) / 1024, 1) : null;
  };
  const read = marks.read ?? end;
  const list = marks.list ?? end;
  return { read: peak(0, read), list_load: peak(read, list), segment_load: peak(list, end + 1) };
}

function roundBusy(b: BusyFigures): Record<string, number | null> {
  return {
    requests: b.requests,
    busySeconds: round(b.busySeconds),
    windowSeconds: round(b.windowSeconds),
    busyRatio: round(b.busyRatio, 4),
    busyRatioWindow: round(b.busyRatioWindow, 4),
    meanRequestMs: round(b.meanRequestMs, 2),
    meanGapMs: round(b.meanGapMs, 2),
    p95GapMs: round(b.p95GapMs, 2),
    maxGapMs: round(b.maxGapMs, 2),
    outsideWindowSeconds: round(b.outsideWindowSeconds),
  };
}

// ------------------------------------------------------------------------------------------ targets

interface Target {
  name: string;
  value: number | string | null;
  target: string;
  met: boolean | null;
  note: string;
}

/** The JSON document's shape is loose on purpose: it is read back from disk and printed. */
type Any = any; // eslint-disable-line @typescript-eslint/no-explicit-any

async function targets(p: Params, m: Any, build: string): Promise<Target[]> {
  const out: Target[] = [];
  // The OS's figure is per process; when the CLI runs the export in a child, the sampled sum over its
  // processes is larger, and the larger of the two is judged.
  const rss = Math.max(m.peakRssMb ?? 0, m.peakRssAllProcessesMb ?? 0);
  const rssWhich = rss === m.peakRssMb ? 'OS peak of the largest process' : `sampled sum of ${m.exporterProcesses} processes (OS peak of the largest: ${m.peakRssMb} MB)`;
  out.push({ name: 'peak RSS', value: rss, target: '<= 300 MB', met: rss <= 300, note: `${round(rss / 300, 3)}x the limit; ${rssWhich}` });
  // RSS growth: compared with the 1M-row figure saved by an earlier invocation, when this one is larger.
  if (p.rows > 1_000_000) {
    // The same build first, then the latest 1M-row result of any build.
    const candidates = [
      `1000000r-${p.segments}s-${p.latencyMs}ms-${build}.json`,
      `1000000r-${p.segments}s-0ms-${build}.json`,
      `1000000r-${p.segments}s-${p.latencyMs}ms.json`,
      `1000000r-${p.segments}s-0ms.json`,
    ];
    let base: Any;
    let baseFile = '';
    for (const c of candidates) {
      const f = join(BENCH_DIR, 'results', c);
      if (existsSync(f)) {
        base = JSON.parse(await readFile(f, 'utf8'));
        baseFile = f;
        break;
      }
    }
    if (base?.median?.peakRssMb) {
      const baseRss = Math.max(base.median.peakRssMb ?? 0, base.median.peakRssAllProcessesMb ?? 0);
      const ratio = rss / baseRss;
      const same = base.commit?.build === build ? 'same build' : `another build: ${base.commit?.build}`;
      out.push({ name: 'peak RSS vs 1M rows', value: round(ratio, 3), target: '<= 1.3x', met: ratio <= 1.3, note: `${rss} MB vs ${baseRss} MB at 1M rows (${baseFile.replace(ROOT + '/', '')}, ${same})` });
    } else {
      out.push({ name: 'peak RSS vs 1M rows', value: null, target: '<= 1.3x', met: null, note: 'no 1M-row result in .bench/results/: run npm run bench -- --rows 1000000 first' });
    }
  }
  const busy = m.busy?.load_stages?.busyRatio ?? null;
  out.push({
    name: 'API busy ratio, load stages',
    value: busy,
    target: '>= 0.95 at 50 ms latency',
    met: p.latencyMs > 0 && busy !== null ? busy >= 0.95 : null,
    note: p.latencyMs > 0 ? `List ${m.busy.list_load.busyRatio}, Segments ${m.busy.segment_load.busyRatio}` : 'judged only with --latency-ms > 0',
  });
  const ratio = m.ratioToParseCeiling;
  out.push({
    name: 'end to end / parse ceiling',
    value: ratio,
    target: '>= 0.5 at 0 ms latency',
    met: p.latencyMs === 0 ? ratio >= 0.5 : null,
    note: `${m.rowsPerSecond} rows/s vs ${m.parseCeiling.rowsPerSecond} rows/s; by CPU seconds ${m.cpuRatioToParseCeiling}${p.latencyMs === 0 ? '' : ' (judged only at 0 ms latency)'}`,
  });
  const b = m.batching;
  out.push({
    name: 'List load requests',
    value: b.listRequests,
    target: `= ceil(${b.listRowsSent} / ${b.batchRows}) = ${b.listRequestsExpected}`,
    met: b.byteCapBinds ? null : b.listRequests === b.listRequestsExpected && b.listRequestsSimulator === b.listRequestsExpected,
    note: `${b.listRequestsSimulator} in the simulator log; ${b.listBytesPerRow} bytes/row${b.byteCapBinds ? ': the byte cap binds, not judged' : ''}; Segment loads ${b.segmentRequests} (${b.segmentRequestsExpected} at a fixed ${b.batchRows} rows)`,
  });
  const pacingOn = (p.requestsPerMinute ?? 2_500) <= (p.simRateLimit === undefined ? SIMULATOR_DEFAULT_RATE_LIMIT : p.simRateLimit || Infinity);
  const n429 = m.http.simulator.status429;
  out.push({
    name: '429 responses',
    value: n429,
    target: '0 with pacing at the simulator rate limit',
    met: pacingOn ? n429 === 0 && m.http.exporter.rateLimited === 0 : null,
    note: `exporter saw ${m.http.exporter.rateLimited}, retries ${m.http.exporter.retries}, pacing waits ${m.http.exporter.pacingWaitSeconds} s`,
  });
  return out;
}

// ------------------------------------------------------------------------------------------ output

function table(doc: Any): string {
  const runs: Any[] = doc.runs;
  const m = doc.median;
  const cols = runs.length > 1 ? ['median', ...runs.map((_: unknown, i: number) => `run ${i + 1}`)] : ['value'];
  const vals = (f: (r: Any) => unknown): string[] => {
    const fmt = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : String(round(v, 3))) : String(v));
    return runs.length > 1 ? [fmt(f(m)), ...runs.map((r) => fmt(f(r)))] : [fmt(f(m))];
  };
  const rows: Array<[string, string[]]> = [
    ['rows (input)', vals((r) => r.rows)],
    ['valid / unique keys', vals((r) => `${r.validRows} / ${r.uniqueKeys}`)],
    ['wall seconds', vals((r) => r.wallSeconds)],
    ['rows/s end to end', vals((r) => r.rowsPerSecond)],
    ['parse ceiling rows/s', vals((r) => r.parseCeiling.rowsPerSecond)],
    ['ratio to parse ceiling', vals((r) => r.ratioToParseCeiling)],
    ['  same, by CPU seconds', vals((r) => r.cpuRatioToParseCeiling)],
    ['peak RSS MB (exporter)', vals((r) => r.peakRssMb)],
    ['  all processes, sampled', vals((r) => `${r.peakRssAllProcessesMb} (${r.exporterProcesses} proc)`)],
    ['  same by phase read/List/Seg', vals((r) => `${r.rssByPhase?.read} / ${r.rssByPhase?.list_load} / ${r.rssByPhase?.segment_load}`)],
    ['CPU utilisation (cores)', vals((r) => r.cpu.utilisation)],
    ['other load (cores)', vals((r) => r.contention.otherCores)],
  ];
  for (const s of STAGES) {
    rows.push([`${s} s`, vals((r) => r.stages[s].seconds)]);
    if (s === 'read' || s === 'list_load' || s === 'segment_load') rows.push([`${s} rows/s`, vals((r) => r.stages[s].rowsPerSecond)]);
  }
  rows.push(
    ['busy ratio List load', vals((r) => r.busy.list_load.busyRatio)],
    ['busy ratio Segment load', vals((r) => r.busy.segment_load.busyRatio)],
    ['busy ratio load stages', vals((r) => r.busy.load_stages.busyRatio)],
    ['busy (window) List / Seg', vals((r) => `${r.busy.list_load.busyRatioWindow} / ${r.busy.segment_load.busyRatioWindow}`)],
    ['mean request ms List / Seg', vals((r) => `${r.busy.list_load.meanRequestMs} / ${r.busy.segment_load.meanRequestMs}`)],
    ['gap ms mean/p95/max List', vals((r) => `${r.busy.list_load.meanGapMs} / ${r.busy.list_load.p95GapMs} / ${r.busy.list_load.maxGapMs}`)],
    ['gap ms mean/p95/max Seg', vals((r) => `${r.busy.segment_load.meanGapMs} / ${r.busy.segment_load.p95GapMs} / ${r.busy.segment_load.maxGapMs}`)],
    ['List requests (expected)', vals((r) => `${r.batching.listRequests} (${r.batching.listRequestsExpected})`)],
    ['Segment requests (fixed-size count)', vals((r) => `${r.batching.segmentRequests} (${r.batching.segmentRequestsExpected})`)],
    ['Segment batch rows init/min/max/final', vals((r) => batchRowsText(r.batching.segmentBatchRows))],
    ['HTTP requests (simulator)', vals((r) => r.http.simulator.requests)],
    ['429s / 408s / retries', vals((r) => `${r.http.simulator.status429} / ${r.http.simulator.status408} / ${r.http.exporter.retries}`)],
  );
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map(([, v]) => (v[i] ?? '').length)));
  const line = (k: string, v: string[]) => `${k.padEnd(w0)}  ${v.map((x, i) => x.padStart(widths[i]!)).join('  ')}`;
  const out = [line('figure', cols), ...rows.map(([k, v]) => line(k, v)), ''];
  out.push('targets:');
  for (const t of doc.targets as Target[]) {
    const verdict = t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET';
    out.push(`  ${verdict.padEnd(7)}  ${t.name}: ${t.value ?? '-'} (target ${t.target}); ${t.note}`);
  }
  return out.join('\n');
}

function batchRowsText(b: Any): string {
  return b ? `${b.initial}/${b.smallest}/${b.largest}/${b.final} (max ${b.max})` : '-';
}

/**
 * --realistic: the fixed and the adaptive Segment batches side by side (medians when --runs > 1) and
 * adaptive / fixed for the figures that batching changes.
 */
function comparisonTable(fixed: Any, adaptive: Any): string {
  const fmt = (v: unknown) => (v === null || v === undefined ? '-' : typeof v === 'number' ? (Number.isInteger(v) ? v.toLocaleString('en-US') : String(round(v, 2))) : String(v));
  const ratio = (a: unknown, f: unknown) => (typeof a === 'number' && typeof f === 'number' && f > 0 ? String(round(a / f, 3)) : '');
  const figures: Array<[string, (r: Any) => unknown, boolean]> = [
    ['Segment requests', (r) => r.batching.segmentRequests, true],
    ['List requests', (r) => r.batching.listRequests, true],
    ['segment_load s', (r) => r.stages.segment_load.seconds, true],
    ['list_load s', (r) => r.stages.list_load.seconds, true],
    ['wall s', (r) => r.wallSeconds, true],
    ['peak RSS MB (largest process)', (r) => r.peakRssMb, true],
    ['Segment batch rows init/min/max/final', (r) => batchRowsText(r.batching.segmentBatchRows), false],
    ['408s (simulator)', (r) => r.http.simulator.status408, false],
    ['retries / split batches', (r) => `${r.http.exporter.retries} / ${r.http.exporter.splitBatches}`, false],
    ['other load (cores)', (r) => r.contention.otherCores, false],
  ];
  const rows = figures.map(([name, f, withRatio]) => [name, fmt(f(fixed)), adaptive ? fmt(f(adaptive)) : '-', withRatio && adaptive ? ratio(f(adaptive), f(fixed)) : '']);
  const head = ['figure', 'fixed', 'adaptive', 'adaptive / fixed'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** Whether the build in `dir` mentions `text` (a setting name) in any of its compiled files. */
function buildKnows(dir: string, text: string): boolean {
  try {
    execFileSync('grep', ['-rqF', '--include=*.js', text, join(dir, 'dist')], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Keeps the newest `keep` invocation directories under .bench/runs/ (their names sort by time). */
async function pruneRuns(dir: string, keep: number): Promise<void> {
  const entries = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const old of entries.slice(0, Math.max(0, entries.length - keep))) await rm(join(dir, old), { recursive: true, force: true });
}

// ------------------------------------------------------------------------------------------ main

async function main(): Promise<void> {
  const p = parseOptions(process.argv.slice(2));
  if (p.build) {
    log('npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  }
  if (!p.commit && !existsSync(DIST_CLI)) throw new Error(`${DIST_CLI} is missing: run npm run build first, or pass --commit HEAD`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = new Date();
  const ref = p.commit ?? 'HEAD';
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  if (!sha) throw new Error(`--commit ${ref}: not a commit`);
  const commit = { sha, short: sha.slice(0, 7), subject: git(['log', '-1', '--format=%s', sha]) };
  let srcDirty: string[] = [];
  let distBuilt: Date | null = null;
  let snapshot: { cli: string; hash: string; dir: string };
  if (p.commit) {
    snapshot = await buildCommit(sha);
    log(`exporter under test: commit ${commit.short} (${commit.subject}), compiled apart in ${snapshot.dir.replace(ROOT + '/', '')}`);
  } else {
    srcDirty = git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean);
    distBuilt = statSync(DIST_CLI).mtime;
    snapshot = await snapshotDist();
    log(`exporter under test: dist/ built ${distBuilt.toISOString()}, snapshot ${snapshot.hash} (${snapshot.dir.replace(ROOT + '/', '')})`);
    if (srcDirty.length > 0) log(`note: src/ has uncommitted changes (${srcDirty.length} file(s)), so dist/ may not be commit ${commit.short}; --commit REF measures a commit exactly`);
  }
  CLI = snapshot.cli;
  // The settings are strict: a build from before adaptive Segment batches refuses segment_batch_rows_max.
  const adaptiveBuild = buildKnows(snapshot.dir, 'segment_batch_rows_max');
  if (p.segmentBatchRowsMax !== undefined && !adaptiveBuild) throw new Error(`--segment-batch-rows-max: the build under test (${snapshot.hash}) has no segment_batch_rows_max setting`);
  const modes: Array<{ name: 'fixed' | 'adaptive' | null; params: Params }> = !p.realistic
    ? [{ name: null, params: p }]
    : adaptiveBuild
      ? [
          { name: 'fixed', params: { ...p, segmentBatchRowsMax: p.batchRows ?? DEFAULT_BATCH_ROWS } },
          { name: 'adaptive', params: p },
        ]
      : [{ name: 'fixed', params: p }];
  if (p.realistic && !adaptiveBuild) log(`note: the build under test has no segment_batch_rows_max setting, so its Segment batches are fixed: only the fixed case runs`);
  const host = await machine();
  log(`commit ${commit.short}; ${host.nproc} CPU(s) ${host.cpuModel}, ${host.memoryGiB} GiB; ${p.rows} rows, ${p.segments} Segments, latency ${latencyText(p)}, ${p.runs} run(s)${p.realistic ? ` of ${modes.map((m) => m.name).join(' and ')} Segment batches` : ''}`);

  const { meta, generated } = await ensureData(join(BENCH_DIR, 'data'), { rows: p.rows, segments: p.segments, seed: p.seed }, log);
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const s3 = await startS3(join(BENCH_DIR, `s3rver-${process.pid}`));
  const runsDir = join(BENCH_DIR, 'runs', stamp);
  const runs: Record<string, unknown>[] = [];
  const runsByMode: Record<string, Record<string, unknown>[]> = {};
  try {
    const key = `exports/bench/${meta.rows}r-${meta.segments}s/result_000.csv.gz`;
    await upload(s3, meta, key);
    for (let i = 1; i <= p.runs; i++) {
      // Fixed and adaptive alternate, so a change in the machine's load between runs touches both.
      for (const mode of modes) {
        const runDir = join(runsDir, mode.name ? `${mode.name}-run-${i}` : `run-${i}`);
        if (mode.name) log(`run ${i}: ${mode.name} Segment batches`);
        const r = await oneRun(mode.params, meta, s3, key, runDir, i);
        if (mode.name) r.segmentBatches = mode.name;
        (runsByMode[mode.name ?? 'default'] ??= []).push(r);
        log(`run ${i}: ${r.rowsPerSecond} rows/s, ${r.wallSeconds} s wall, peak RSS ${r.peakRssMb} MB, ratio to parse ceiling ${r.ratioToParseCeiling}`);
      }
    }
    // The document's runs and medians are those of the exporter's default settings (adaptive batches).
    runs.push(...runsByMode[modes[modes.length - 1]!.name ?? 'default']!);
  } finally {
    await s3.close();
    if (generated && !p.keep) {
      await removeData(meta);
      log('generated data removed (pass --keep to reuse it next time)');
    }
  }

  await pruneRuns(join(BENCH_DIR, 'runs'), 20);
  const medianRun = medianTree(runs.map((r) => ({ ...r, profile: undefined, files: undefined }))) as Any;
  const doc: Any = {
    benchmark: 'selligent-export end to end',
    measuredAt: started.toISOString(),
    commit: { ...commit, measured: p.commit ? 'the commit, compiled apart' : 'dist/ as built', srcUncommitted: srcDirty, distBuiltAt: distBuilt?.toISOString() ?? null, build: snapshot.hash },
    machine: host,
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
  if (p.realistic) {
    const fixedRuns = runsByMode.fixed ?? [];
    const adaptiveRuns = runsByMode.adaptive ?? [];
    const fixed = medianTree(fixedRuns.map((r) => ({ ...r, profile: undefined, files: undefined }))) as Any;
    const adaptive = adaptiveRuns.length ? (medianTree(adaptiveRuns.map((r) => ({ ...r, profile: undefined, files: undefined }))) as Any) : null;
    const ratio = (f: (r: Any) => number | null | undefined) => {
      const a = adaptive ? f(adaptive) : null;
      const b = f(fixed);
      return typeof a === 'number' && typeof b === 'number' && b > 0 ? round(a / b, 3) : null;
    };
    doc.comparison = {
      fixed: { segmentBatchRowsMax: p.batchRows ?? DEFAULT_BATCH_ROWS, median: fixed, runs: fixedRuns },
      adaptive: adaptive ? { segmentBatchRowsMax: p.segmentBatchRowsMax ?? DEFAULT_SEGMENT_BATCH_ROWS_MAX, median: adaptive, runs: adaptiveRuns } : null,
      adaptiveOverFixed: {
        segmentRequests: ratio((r) => r.batching.segmentRequests),
        segmentLoadSeconds: ratio((r) => r.stages.segment_load.seconds),
        listLoadSeconds: ratio((r) => r.stages.list_load.seconds),
        wallSeconds: ratio((r) => r.wallSeconds),
      },
    };
  }
  doc.targets = await targets(p, medianRun, snapshot.hash);
  const text = JSON.stringify(doc, null, 2) + '\n';
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
    ]
      .filter(Boolean)
      .join('-');
    await writeFile(join(BENCH_DIR, 'results', `${shape}.json`), text);
    await writeFile(join(BENCH_DIR, 'results', `${shape}-${snapshot.hash}.json`), text);
  }
  process.stdout.write(text);
  process.stderr.write('\n' + table(doc) + '\n');
  if (doc.comparison) {
    const c = doc.comparison;
    process.stderr.write(`\nSegment batches, fixed (segment_batch_rows_max = segment_batch_rows) and adaptive, ${p.rows} rows, latency ${latencyText(p)}${p.runs > 1 ? `, medians of ${p.runs} runs` : ''}:\n`);
    process.stderr.write(comparisonTable(c.fixed.median, c.adaptive?.median ?? null) + '\n');
  }
  process.stderr.write(`\nJSON: ${join(BENCH_DIR, 'last.json')}; run files: ${runsDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
