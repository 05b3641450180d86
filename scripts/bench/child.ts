/** A node child process measured: under `/usr/bin/time -v`, with its RSS sampled from /proc. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { ROOT, TIME, log, round } from './common.js';

export interface ChildResult {
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
export async function runNode(
  nodeArgs: string[],
  env: NodeJS.ProcessEnv,
  timeFile: string,
  onLine?: (line: string, seconds: number) => void,
): Promise<ChildResult> {
  const useTime = existsSync(TIME);
  const argv = useTime ? [TIME, '-v', '-o', timeFile, process.execPath, ...nodeArgs] : [process.execPath, ...nodeArgs];
  const started = performance.now();
  const since = () => (performance.now() - started) / 1000;
  const child = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  const out: string[] = [];
  let err = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    out.push(line);
    onLine?.(line, since());
  });
  child.stderr.on('data', (d: Buffer) => {
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
    if (status !== undefined && code !== Number(status))
      log(`note: time reports exit status ${status}, process closed with ${code}`);
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
