/**
 * Simulator load benchmark: times list loads of `--rows` rows x 6 columns over HTTP (the figure the
 * exporter sees) and reports heap use per stored record. The simulator runs in a child process (its own
 * event loop and heap, as in real use); this process is the client.
 *
 *   node --import tsx scripts/bench-simulator.ts [--rows 5000] [--batches 40] [--json]
 */

import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator, type SimulatorOptions } from '../src/simulator/index.js';
import { roundTo } from '../src/rounding.js';

export interface BenchResult {
  rows: number;
  batches: number;
  bodyBytes: number;
  medianMs: number;
  p95Ms: number;
  minMs: number;
  serverMedianMs: number;
  /** Server CPU time per load (user + system), insensitive to other load on the machine. */
  serverCpuMsPerLoad: number;
  records: number;
  heapBytesPerRecord: number;
}

function makeBatch(start: number, rows: number): unknown[][] {
  const out: unknown[][] = [];
  for (let i = 0; i < rows; i++) {
    const n = start + i;
    out.push([
      `C${String(n).padStart(9, '0')}`,
      `customer${n}@example.com`,
      `First${n % 977}`,
      Math.round(n * 1.37 * 100) / 100,
      `2026-0${(n % 9) + 1}-1${n % 10}T10:15:00Z`,
      n % 3 === 0,
    ]);
  }
  return out;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

const BENCH_OPTIONS: SimulatorOptions = {
  port: 0,
  rateLimit: false,
  seed: {
    lists: [
      {
        api_name: 'bench',
        type: 'Datalist',
        fields: [
          { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
          { name: 'EMAIL', data_type: 'Text', length: 200 },
          { name: 'FIRST_NAME', data_type: 'Text', length: 100 },
          { name: 'LIFETIME_VALUE', data_type: 'Float' },
          { name: 'LAST_PURCHASE_AT', data_type: 'DateTime' },
          { name: 'ACTIVE', data_type: 'Boolean' },
        ],
      },
    ],
  },
};

interface ChildReport {
  serverMs: number[];
  /** Server CPU time (user + system) spent since the 'mark' message. */
  cpuMs: number;
  heapBefore: number;
  heapAfter: number;
}

/** Child side: run a simulator, report its port, then on request its log timings and heap use. */
async function serveInChild(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const sim = await startSimulator(BENCH_OPTIONS);
  process.send!({ port: sim.port });
  let cpuMark = process.cpuUsage();
  // A failure is left unhandled on purpose: it ends the child, and the parent sees it exit.
  process.on(
    'message',
    (msg: string) =>
      void (async () => {
        if (msg === 'mark') {
          cpuMark = process.cpuUsage();
          process.send!('marked');
          return;
        }
        if (msg !== 'report') return;
        const cpu = process.cpuUsage(cpuMark);
        gc?.();
        const report: ChildReport = {
          serverMs: sim
            .requestLog()
            .filter((e) => e.route === 'loadList')
            .map((e) => e.durationMs),
          cpuMs: (cpu.user + cpu.system) / 1000,
          heapBefore,
          heapAfter: process.memoryUsage().heapUsed,
        };
        await sim.close();
        process.send!(report, () => process.exit(0));
      })(),
  );
}

export async function runBench(rows = 5000, batches = 40): Promise<BenchResult> {
  const child: ChildProcess = fork(fileURLToPath(import.meta.url), ['--serve'], { execArgv: process.execArgv });
  const [{ port }] = (await once(child, 'message')) as [{ port: number }];
  const url = `http://127.0.0.1:${port}/Portal/Api/organizations/my_org/lists/bench/data/load?keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,EMAIL,FIRST_NAME,LIFETIME_VALUE,LAST_PURCHASE_AT,ACTIVE`;
  const headers = { 'X-ApiKey': `${DEV_API_KEY}:${DEV_API_SECRET}`, 'Content-Type': 'application/json' };
  const warmup = 3;
  try {
    const times: number[] = [];
    let bodyBytes = 0;
    // Warm-up (JIT), then measured batches of fresh keys (inserts).
    for (let b = -warmup; b < batches; b++) {
      if (b === 0) {
        child.send('mark');
        await once(child, 'message');
      }
      const body = JSON.stringify(makeBatch((b + warmup) * rows, rows));
      bodyBytes = Buffer.byteLength(body);
      const t = performance.now();
      const r = await fetch(url, { method: 'POST', headers, body });
      const j = (await r.json()) as { number_of_inserted_records: number };
      const ms = performance.now() - t;
      if (r.status !== 200 || j.number_of_inserted_records !== rows)
        throw new Error(`unexpected answer ${r.status} ${JSON.stringify(j)}`);
      if (b >= 0) times.push(ms);
    }
    child.send('report');
    const [report] = (await once(child, 'message')) as [ChildReport];
    const serverTimes = report.serverMs.slice(warmup).sort((a, b) => a - b);
    const records = (batches + warmup) * rows;
    times.sort((a, b) => a - b);
    return {
      rows,
      batches,
      bodyBytes,
      medianMs: roundTo(percentile(times, 0.5), 2),
      p95Ms: roundTo(percentile(times, 0.95), 2),
      minMs: roundTo(times[0] ?? Number.NaN, 2),
      serverMedianMs: roundTo(percentile(serverTimes, 0.5), 2),
      serverCpuMsPerLoad: roundTo(report.cpuMs / batches, 2),
      records,
      heapBytesPerRecord: Math.round((report.heapAfter - report.heapBefore) / records),
    };
  } finally {
    if (child.exitCode === null) {
      const timer = setTimeout(() => child.kill(), 5000);
      await once(child, 'exit');
      clearTimeout(timer);
    }
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href && process.argv.includes('--serve')) {
  await serveInChild();
} else if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({
    options: {
      rows: { type: 'string' },
      batches: { type: 'string' },
      json: { type: 'boolean' },
      serve: { type: 'boolean' },
    },
  });
  const r = await runBench(Number(values.rows ?? 5000), Number(values.batches ?? 40));
  if (values.json) console.log(JSON.stringify(r));
  else {
    console.log(
      `list load of ${r.rows} rows x 6 columns (${(r.bodyBytes / 1024).toFixed(0)} KiB body), ${r.batches} batches:`,
    );
    console.log(`  round trip: median ${r.medianMs} ms, p95 ${r.p95Ms} ms, min ${r.minMs} ms`);
    console.log(
      `  server side (request log): median ${r.serverMedianMs} ms; server CPU per load ${r.serverCpuMsPerLoad} ms`,
    );
    console.log(
      `  heap per stored record: ~${r.heapBytesPerRecord} bytes over ${r.records} records${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for a steadier figure)'}`,
    );
  }
}
