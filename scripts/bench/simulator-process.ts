/**
 * The Selligent simulator in its own process for the benchmark (`node dist/cli.js simulate --port 0
 * --control --latency-ms N`, the per-row latency and the server time-out in its configuration file), and what the benchmark computes from its request log: requests per route,
 * 429s, and the API busy ratio (how much of a stage's wall time had a bulk request in flight).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export interface RequestLogEntry {
  method: string;
  path: string;
  status: number;
  durationMs: number;
  requestBytes: number;
  responseBytes: number;
  startedAt: string;
  route: string | null;
  fault?: string;
}

export interface SimulatorProcess {
  baseUrl: string;
  /** The first organization the simulator created (its tenant starts with nothing else). */
  organization: string;
  apiKey: string;
  apiSecret: string;
  pid: number;
  requests(): Promise<RequestLogEntry[]>;
  /** The simulator's own peak RSS so far (VmHWM), in kB. */
  peakRssKb(): Promise<number>;
  stop(): Promise<void>;
}

export interface SimulatorStartOptions {
  cli: string;
  latencyMs: number;
  /** Modelled work per data row of a load body, added to latencyMs (the simulator's `latencyPerRowMs`). */
  latencyPerRowMs?: number;
  /** A request whose modelled work exceeds this answers 408 after this long (`variants.serverTimeoutMs`). */
  serverTimeoutMs?: number;
  /** Requests per minute per API key; `undefined` = the simulator's default; 0 = no limit. */
  rateLimit?: number;
  /** Where to write the simulator's configuration file (request log size, rate limit). */
  configPath: string;
  /** Heap for the simulator: it keeps every loaded record in memory. */
  maxOldSpaceMb: number;
  logPath: string;
}

export async function startSimulatorProcess(o: SimulatorStartOptions): Promise<SimulatorProcess> {
  const config: Record<string, unknown> = { requestLogSize: 2_000_000 };
  if (o.rateLimit !== undefined) config.rateLimit = o.rateLimit > 0 ? { limit: o.rateLimit, windowMs: 60_000 } : false;
  if (o.latencyPerRowMs) config.latencyPerRowMs = o.latencyPerRowMs;
  if (o.serverTimeoutMs !== undefined) config.variants = { serverTimeoutMs: o.serverTimeoutMs };
  await writeFile(o.configPath, JSON.stringify(config) + '\n');
  const args = [
    `--max-old-space-size=${o.maxOldSpaceMb}`,
    o.cli,
    'simulate',
    '--port',
    '0',
    '--control',
    '--latency-ms',
    String(o.latencyMs),
    '--config',
    o.configPath,
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 20_000) stderr = stderr.slice(-10_000);
  });
  const lines = createInterface({ input: child.stdout });
  const seen: string[] = [];
  const ready = new Promise<{ baseUrl: string; apiKey: string; apiSecret: string }>((resolve, reject) => {
    let baseUrl: string | undefined;
    lines.on('line', (line) => {
      seen.push(line);
      const listening = /^Selligent simulator listening on (http:\/\/\S+)/.exec(line);
      if (listening && seen.length === 1) baseUrl = listening[1]!;
      const exported = /^export SELLIGENT_BASE_URL=(\S+) SELLIGENT_API_KEY=(\S+) SELLIGENT_API_SECRET=(\S+)/.exec(line);
      if (exported) resolve({ baseUrl: exported[1] ?? baseUrl!, apiKey: exported[2]!, apiSecret: exported[3]! });
    });
    child.once('exit', (code) =>
      reject(new Error(`the simulator exited (${code}) before it was ready: ${seen.join(' | ')} ${stderr}`)),
    );
  });
  const timeout = setTimeout(() => child.kill('SIGTERM'), 30_000);
  let info: { baseUrl: string; apiKey: string; apiSecret: string };
  try {
    info = await ready;
  } finally {
    clearTimeout(timeout);
  }
  if (!/^Selligent simulator listening on http:\/\//.test(seen[0] ?? '')) {
    child.kill('SIGTERM');
    throw new Error(`unexpected first line from the simulator: ${seen[0]}`);
  }
  const logLines: string[] = [];
  lines.on('line', (line) => logLines.push(line));
  const organization =
    /^organization:\s+([^,\s]+)/.exec(seen.find((l) => l.startsWith('organization:')) ?? '')?.[1] ?? 'my_org';
  return {
    ...info,
    organization,
    pid: child.pid!,
    requests: async () => {
      const response = await fetch(`${info.baseUrl}/__simulator/requests`);
      if (!response.ok) throw new Error(`GET /__simulator/requests: HTTP ${response.status}`);
      const body = (await response.json()) as { requests: RequestLogEntry[] };
      return body.requests.filter((r) => r.route !== '__simulator');
    },
    peakRssKb: async () => {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8').catch(() => '');
      return Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
    },
    stop: async () => stopChild(child, o.logPath, () => `${logLines.join('\n')}\n--- stderr ---\n${stderr}`),
  };
}

async function stopChild(child: ChildProcess, logPath: string, text: () => string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  }
  await writeFile(logPath, text()).catch(() => undefined);
}

// ------------------------------------------------------------------------------------------- metrics

export interface Interval {
  start: number;
  end: number;
}

/** Total length of the union of the intervals (ms). */
export function unionMs(intervals: Interval[]): number {
  const sorted = [...intervals].sort((a, b) => a.start - b.start);
  let total = 0;
  let curStart = Number.NaN;
  let curEnd = Number.NaN;
  for (const { start, end } of sorted) {
    if (Number.isNaN(curStart) || start > curEnd) {
      if (!Number.isNaN(curStart)) total += curEnd - curStart;
      curStart = start;
      curEnd = end;
    } else if (end > curEnd) {
      curEnd = end;
    }
  }
  if (!Number.isNaN(curStart)) total += curEnd - curStart;
  return total;
}

export interface BusyFigures {
  /** Bulk requests of this stage in the simulator log (429s included: they occupy the API too). */
  requests: number;
  /** Union of their [startedAt, startedAt + durationMs] intervals, in seconds. */
  busySeconds: number;
  /** From the first bulk request's start to the last one's end, in seconds (the simulator's clock). */
  windowSeconds: number;
  /** busySeconds / the stage's duration in the run report (exporter's clock): the primary figure. */
  busyRatio: number | null;
  /** busySeconds / windowSeconds: leaves out the time before the first and after the last request. */
  busyRatioWindow: number | null;
  /** Gaps between one bulk request's end and the next one's start (ms): mean, 95th percentile, largest. */
  meanGapMs: number | null;
  p95GapMs: number | null;
  maxGapMs: number | null;
  /** Time before the first bulk request and after the last one within the stage (s): stage - window. */
  outsideWindowSeconds: number | null;
  /** Mean server-side duration of one bulk request (ms). */
  meanRequestMs: number | null;
}

export function busyFigures(log: RequestLogEntry[], routes: string[], stageSeconds: number | undefined): BusyFigures {
  const intervals = log
    .filter((r) => r.route !== null && routes.includes(r.route))
    .map((r) => {
      const start = Date.parse(r.startedAt);
      return { start, end: start + r.durationMs };
    })
    .sort((a, b) => a.start - b.start);
  if (intervals.length === 0) {
    return {
      requests: 0,
      busySeconds: 0,
      windowSeconds: 0,
      busyRatio: null,
      busyRatioWindow: null,
      meanGapMs: null,
      p95GapMs: null,
      maxGapMs: null,
      outsideWindowSeconds: null,
      meanRequestMs: null,
    };
  }
  const busy = unionMs(intervals);
  const window = Math.max(...intervals.map((i) => i.end)) - intervals[0]!.start;
  const gapList: number[] = [];
  for (let i = 1; i < intervals.length; i++) gapList.push(Math.max(0, intervals[i]!.start - intervals[i - 1]!.end));
  const gaps = gapList.reduce((a, b) => a + b, 0);
  gapList.sort((a, b) => a - b);
  return {
    requests: intervals.length,
    busySeconds: busy / 1000,
    windowSeconds: window / 1000,
    busyRatio: stageSeconds && stageSeconds > 0 ? Math.min(1, busy / 1000 / stageSeconds) : null,
    busyRatioWindow: window > 0 ? busy / window : null,
    meanGapMs: gapList.length ? gaps / gapList.length : null,
    p95GapMs: gapList.length ? gapList[Math.min(gapList.length - 1, Math.floor(gapList.length * 0.95))]! : null,
    maxGapMs: gapList.length ? gapList[gapList.length - 1]! : null,
    outsideWindowSeconds: stageSeconds !== undefined ? Math.max(0, stageSeconds - window / 1000) : null,
    meanRequestMs: intervals.reduce((s, i) => s + (i.end - i.start), 0) / intervals.length,
  };
}

export function countBy<T>(items: T[], key: (item: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const item of items) {
    const k = key(item);
    out[k] = (out[k] ?? 0) + 1;
  }
  return Object.fromEntries(Object.entries(out).sort((a, b) => b[1] - a[1]));
}
