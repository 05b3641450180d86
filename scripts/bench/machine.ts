/** The machine the benchmark runs on: what it is, and how busy it and its processes are (from /proc). */
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { cpus, freemem, loadavg, totalmem } from 'node:os';
import { log, round } from './common.js';

export async function machine(): Promise<Record<string, unknown>> {
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

let clockTicks = 100;
try {
  clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
} catch {
  // Linux default
}

/** Busy CPU seconds of the whole machine since boot (all cores), from /proc/stat. */
export async function machineBusySeconds(): Promise<number> {
  const text = await readFile('/proc/stat', 'utf8').catch(() => '');
  const f = (text.split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal
  const busy = (f[0] ?? 0) + (f[1] ?? 0) + (f[2] ?? 0) + (f[5] ?? 0) + (f[6] ?? 0) + (f[7] ?? 0);
  return busy / clockTicks;
}

/** CPU seconds (user + system) a process has used so far, from /proc/PID/stat. */
export async function processCpuSeconds(pid: number): Promise<number> {
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

export async function waitForQuiet(maxSeconds: number): Promise<number> {
  const deadline = performance.now() + maxSeconds * 1000;
  let load = await otherLoad(3_000);
  while (load > 0.25 && performance.now() < deadline) {
    log(
      `machine busy: other processes use ${load.toFixed(2)} core(s); waiting (up to ${Math.round((deadline - performance.now()) / 1000)} s more)`,
    );
    await new Promise((r) => setTimeout(r, 7_000));
    load = await otherLoad(3_000);
  }
  return load;
}
