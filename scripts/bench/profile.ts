/**
 * Summarises a V8 `.cpuprofile` (from `node --cpu-prof`) by function: self time (samples whose top
 * frame is the function) and inclusive time (samples with the function anywhere on the stack), plus self
 * time by source file. Async frames break stacks at each await, so inclusive times of async functions
 * are lower bounds; self times are exact to the sampling interval.
 */
import { readFile } from 'node:fs/promises';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface FunctionCost {
  function: string;
  where: string;
  selfMs: number;
  selfPercent: number;
  inclusiveMs: number;
  inclusivePercent: number;
}

export interface WindowSummary {
  name: string;
  fromSeconds: number;
  toSeconds: number;
  totalMs: number;
  idleMs: number;
  gcMs: number;
  busyMs: number;
  /** Busy time over the window's length: the share of one core the process used in it. */
  busyShare: number;
  topSelf: Array<{ function: string; where: string; selfMs: number; selfPercent: number }>;
  byFile: Array<{ file: string; selfMs: number; selfPercent: number }>;
}

export interface ProfileSummary {
  file: string;
  /** The same figures for stretches of the run (seconds since the profile started), e.g. one per stage. */
  windows?: WindowSummary[];
  /** Sampled wall time of the process, and the part of it spent idle (waiting on I/O or timers). */
  totalMs: number;
  idleMs: number;
  /** Garbage collection, as V8 attributes it. */
  gcMs: number;
  /** Percentages below are of the busy (non-idle) time. */
  busyMs: number;
  topSelf: FunctionCost[];
  topInclusive: FunctionCost[];
  byFile: Array<{ file: string; selfMs: number; selfPercent: number }>;
}

function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const cwd = process.cwd() + '/';
  if (u.startsWith(cwd)) u = u.slice(cwd.length);
  return u;
}

export async function summarizeCpuProfile(
  file: string,
  top = 20,
  windows: Array<{ name: string; from: number; to: number }> = [],
): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const node of profile.nodes) {
    byId.set(node.id, node);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const keyOf = (node: ProfileNode): string => {
    const f = node.callFrame;
    const url = shortUrl(f.url);
    return `${f.functionName || '(anonymous)'}\t${url ? `${url}:${f.lineNumber + 1}` : ''}`;
  };
  const nodeKey = new Map<number, string>();
  for (const node of profile.nodes) nodeKey.set(node.id, keyOf(node));

  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const fileSelf = new Map<string, number>();
  let total = 0;
  let idle = 0;
  let gc = 0;
  const { samples, timeDeltas } = profile;
  const meanDelta = samples.length > 1 ? (profile.endTime - profile.startTime) / samples.length : 0;
  interface Acc {
    total: number;
    idle: number;
    gc: number;
    self: Map<string, number>;
    files: Map<string, number>;
  }
  const acc: Acc[] = windows.map(() => ({ total: 0, idle: 0, gc: 0, self: new Map(), files: new Map() }));
  let clock = 0;
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the gap before sample i: sample i lasts until the next one.
    clock += Math.max(0, timeDeltas[i] ?? 0);
    const us = i + 1 < timeDeltas.length ? Math.max(0, timeDeltas[i + 1]!) : meanDelta;
    const id = samples[i]!;
    const node = byId.get(id);
    if (!node) continue;
    total += us;
    const name = node.callFrame.functionName;
    const at = clock / 1e6;
    const w = windows.findIndex((x) => at >= x.from && at < x.to);
    const a = w >= 0 ? acc[w] : undefined;
    if (a) a.total += us;
    if (name === '(idle)') {
      idle += us;
      if (a) a.idle += us;
      continue;
    }
    if (name === '(garbage collector)') {
      gc += us;
      if (a) a.gc += us;
    }
    const key = nodeKey.get(id)!;
    if (a) {
      a.self.set(key, (a.self.get(key) ?? 0) + us);
      const u = shortUrl(node.callFrame.url) || name;
      a.files.set(u, (a.files.get(u) ?? 0) + us);
    }
    self.set(key, (self.get(key) ?? 0) + us);
    const url = shortUrl(node.callFrame.url) || name;
    fileSelf.set(url, (fileSelf.get(url) ?? 0) + us);
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const k = nodeKey.get(n)!;
      if (seen.has(k)) continue;
      seen.add(k);
      inclusive.set(k, (inclusive.get(k) ?? 0) + us);
    }
  }
  const busy = total - idle;
  const pct = (us: number) => (busy > 0 ? Math.round((1000 * us) / busy) / 10 : 0);
  const ms = (us: number) => Math.round(us / 100) / 10;
  const cost = (key: string): FunctionCost => {
    const [fn, where] = key.split('\t') as [string, string];
    const s = self.get(key) ?? 0;
    const inc = inclusive.get(key) ?? 0;
    return {
      function: fn,
      where,
      selfMs: ms(s),
      selfPercent: pct(s),
      inclusiveMs: ms(inc),
      inclusivePercent: pct(inc),
    };
  };
  const skipInclusive = new Set(['(root)', '(program)', '(anonymous)']);
  const windowSummaries: WindowSummary[] = windows.map((w, i) => {
    const a = acc[i]!;
    const wBusy = a.total - a.idle;
    const wp = (us: number) => (wBusy > 0 ? Math.round((1000 * us) / wBusy) / 10 : 0);
    return {
      name: w.name,
      fromSeconds: Math.round(w.from * 100) / 100,
      toSeconds: Math.round(w.to * 100) / 100,
      totalMs: ms(a.total),
      idleMs: ms(a.idle),
      gcMs: ms(a.gc),
      busyMs: ms(wBusy),
      busyShare: w.to > w.from ? Math.round((wBusy / 1e6 / (w.to - w.from)) * 1000) / 1000 : 0,
      topSelf: [...a.self.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, top)
        .map(([k, us]) => {
          const [fn, where] = k.split('\t') as [string, string];
          return { function: fn, where, selfMs: ms(us), selfPercent: wp(us) };
        }),
      byFile: [...a.files.entries()]
        .sort((x, y) => y[1] - x[1])
        .slice(0, top)
        .map(([f, us]) => ({ file: f, selfMs: ms(us), selfPercent: wp(us) })),
    };
  });
  return {
    file,
    ...(windows.length ? { windows: windowSummaries } : {}),
    totalMs: ms(total),
    idleMs: ms(idle),
    gcMs: ms(gc),
    busyMs: ms(busy),
    topSelf: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => cost(k)),
    topInclusive: [...inclusive.entries()]
      .filter(([k]) => !skipInclusive.has(k.split('\t')[0]!) && k.split('\t')[1] !== '')
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => cost(k)),
    byFile: [...fileSelf.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([f, us]) => ({ file: f, selfMs: ms(us), selfPercent: pct(us) })),
  };
}

/** A plain-text rendering for the terminal. */
export function formatProfile(s: ProfileSummary, top = 15): string {
  const lines: string[] = [];
  lines.push(`CPU profile ${s.file}`);
  lines.push(
    `  sampled ${(s.totalMs / 1000).toFixed(1)} s, idle ${(s.idleMs / 1000).toFixed(1)} s, busy ${(s.busyMs / 1000).toFixed(1)} s (GC ${(s.gcMs / 1000).toFixed(1)} s); % of busy`,
  );
  lines.push('  self time by function:');
  for (const c of s.topSelf.slice(0, top))
    lines.push(
      `    ${c.selfPercent.toFixed(1).padStart(5)}%  ${(c.selfMs / 1000).toFixed(2).padStart(7)} s  ${c.function}  ${c.where}`,
    );
  lines.push('  inclusive time by function:');
  for (const c of s.topInclusive.slice(0, top))
    lines.push(
      `    ${c.inclusivePercent.toFixed(1).padStart(5)}%  ${(c.inclusiveMs / 1000).toFixed(2).padStart(7)} s  ${c.function}  ${c.where}`,
    );
  lines.push('  self time by file:');
  for (const f of s.byFile.slice(0, top))
    lines.push(
      `    ${f.selfPercent.toFixed(1).padStart(5)}%  ${(f.selfMs / 1000).toFixed(2).padStart(7)} s  ${f.file}`,
    );
  for (const w of s.windows ?? []) {
    lines.push(
      `  ${w.name} (${w.fromSeconds}-${w.toSeconds} s): busy ${(w.busyMs / 1000).toFixed(1)} s = ${w.busyShare} of the window, idle ${(w.idleMs / 1000).toFixed(1)} s, GC ${(w.gcMs / 1000).toFixed(1)} s; self time, % of busy:`,
    );
    for (const c of w.topSelf.slice(0, Math.min(top, 12)))
      lines.push(
        `    ${c.selfPercent.toFixed(1).padStart(5)}%  ${(c.selfMs / 1000).toFixed(2).padStart(7)} s  ${c.function}  ${c.where}`,
      );
  }
  return lines.join('\n');
}

// Standalone: node --import tsx scripts/bench/profile.ts FILE.cpuprofile [TOP]
if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: profile.ts FILE.cpuprofile [TOP]\n');
    process.exit(2);
  }
  const top = Number(process.argv[3] ?? 20);
  process.stdout.write(formatProfile(await summarizeCpuProfile(file, top), top) + '\n');
}
