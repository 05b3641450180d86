/**
 * Peak memory of the exporter on inputs that stress its memory bounds rather than its speed: a single
 * very large value, very many distinct Segments, very many rows Selligent rejects. Each case runs the
 * built CLI (`dist/cli.js`, default heap cap unless the case sets one) against a simulator in this
 * process, under `/usr/bin/time -v`, and prints the exit code, the last stdout line, the OS peak RSS of
 * the largest process and the highest sum of VmRSS over the exporter's process tree (sampled every 100 ms).
 *
 *   npm run build && node --import tsx scripts/bench-memory.ts [case ...]
 *
 * Cases: value-15mb value-15mb-quoted value-20mb value-50mb segments-20 segments-100k rejected-200k rejected-200k-capped,
 * segments-<N>k-cap<MB> (200,000 rows over N thousand Segments, dry run, heap cap MB),
 * and [typed-]rejected-<N>k-cap<MB> (N thousand rejected rows under a heap cap of MB; typed: before sending)
 */
import { spawn } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator } from '../src/simulator/index.js';
import type { SeedState } from '../src/simulator/types.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** BENCH_MEMORY_CLI measures another build (e.g. a copy of an older dist/). */
const CLI = process.env.BENCH_MEMORY_CLI ?? join(ROOT, 'dist', 'cli.js');
const MB = 1_000_000;

interface Case {
  rows: (write: (line: string) => Promise<void>) => Promise<void>;
  settings?: Record<string, unknown>;
  env?: Record<string, string>;
  seed?: SeedState;
  dryRun?: boolean;
}

const HEADER = 'selligent_segment,customer_identifier,email,first_name';

function largeValue(bytes: number, quoted = false): Case {
  return {
    rows: async (write) => {
      await write(HEADER);
      await write('seg_a,C1,a@example.com,Alice');
      await write(`seg_a,C2,b@example.com,${quoted ? `"${'x, '.repeat(bytes / 3)}"` : 'x'.repeat(bytes)}`);
      await write('seg_b,C3,c@example.com,Carol');
    },
  };
}

function manySegments(rows: number, segments: number): Case {
  return {
    dryRun: true,
    rows: async (write) => {
      await write(HEADER);
      for (let i = 0; i < rows; i++)
        await write(`seg_${String(i % segments).padStart(6, '0')},C${i},c${i}@example.com,N${i}`);
    },
  };
}

/**
 * Every row has a first name longer than the List's Text(2) field: Selligent rejects every one. With
 * `typed`, the List's FIRST_NAME is Numeric instead, so every row is rejected before sending.
 */
function manyRejected(rows: number, env: Record<string, string> = {}, typed = false): Case {
  return {
    env,
    settings: { create_segment_if_not_exists: true },
    seed: {
      lists: [
        {
          api_name: 'master_contacts',
          fields: [
            { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
            { name: 'EMAIL', data_type: 'Text', length: 200 },
            typed ? { name: 'FIRST_NAME', data_type: 'Numeric' } : { name: 'FIRST_NAME', data_type: 'Text', length: 2 },
          ],
          records: [],
          segments: [],
          business_key: ['CUSTOMER_IDENTIFIER'],
        },
      ],
    },
    rows: async (write) => {
      await write(HEADER);
      for (let i = 0; i < rows; i++) await write(`seg_${i % 20},C${i},c${i}@example.com,Name${i}`);
    },
  };
}

const CASES: Record<string, Case> = {
  'value-15mb': largeValue(15 * MB),
  'value-15mb-quoted': largeValue(15 * MB, true),
  'value-20mb': largeValue(20 * MB),
  'value-50mb': largeValue(50 * MB),
  'segments-20': manySegments(200_000, 20),
  'segments-100k': manySegments(200_000, 100_000),
  'rejected-200k': manyRejected(200_000),
  'rejected-200k-capped': manyRejected(200_000, { SELLIGENT_EXPORT_MAX_HEAP_MB: '64' }),
};

async function writeInput(path: string, spec: Case): Promise<void> {
  const out = createWriteStream(path);
  await spec.rows(async (line) => {
    if (!out.write(line + '\n')) await once(out, 'drain');
  });
  out.end();
  await once(out, 'close');
}

/** VmRSS summed over `pid` and its descendants, in kB. */
function treeRssKb(pid: number): number {
  const parents = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      parents.set(Number(entry), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // the process ended meanwhile
    }
  }
  let total = 0;
  const walk = (p: number): void => {
    try {
      total += Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      return;
    }
    for (const [child, parent] of parents) if (parent === p) walk(child);
  };
  walk(pid);
  return total;
}

async function runCase(name: string, spec: Case): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(join(tmpdir(), `bench-memory-${name}-`));
  try {
    const input = join(dir, 'input.csv');
    await writeInput(input, spec);
    const sim = await startSimulator({
      port: 0,
      rateLimit: false,
      ...(spec.seed ? { seed: spec.seed } : {}),
      logRequests: false,
      requestLogSize: 10,
    });
    try {
      const settings = {
        organization: 'my_org',
        list_api_name: 'master_contacts',
        segment_column: 'selligent_segment',
        key_fields: 'CUSTOMER_IDENTIFIER',
        create_list_if_not_exists: true,
        create_segment_if_not_exists: true,
        requests_per_minute: 100_000,
        ...spec.settings,
      };
      writeFileSync(join(dir, 'settings.json'), JSON.stringify(settings));
      const args = [
        '-v',
        process.execPath,
        CLI,
        'run',
        '--settings',
        join(dir, 'settings.json'),
        '--input',
        input,
        '--report',
        join(dir, 'report.json'),
        '--temp-dir',
        dir,
      ];
      if (spec.dryRun) args.push('--dry-run');
      const child = spawn('/usr/bin/time', args, {
        env: {
          PATH: process.env.PATH,
          HOME: process.env.HOME,
          SELLIGENT_BASE_URL: sim.baseUrl,
          SELLIGENT_API_KEY: DEV_API_KEY,
          SELLIGENT_API_SECRET: DEV_API_SECRET,
          LOG_LEVEL: 'warn',
          ...spec.env,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk) => (stdout += chunk));
      child.stderr.on('data', (chunk) => (stderr += chunk));
      let treePeakKb = 0;
      const started = Date.now();
      const sampler = setInterval(() => (treePeakKb = Math.max(treePeakKb, treeRssKb(child.pid!))), 100);
      const [code] = (await once(child, 'close')) as [number | null];
      clearInterval(sampler);
      const maxRssKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(stderr)?.[1] ?? NaN);
      const lastLine = stdout.trim().split('\n').pop() ?? '';
      const crash = /FATAL ERROR|heap out of memory|ERR_WORKER_OUT_OF_MEMORY|WORKER_EXITED/.exec(stderr + stdout)?.[0];
      return {
        case: name,
        exit: code,
        seconds: (Date.now() - started) / 1000,
        maxRssMb: Math.round(maxRssKb / 102.4) / 10,
        treePeakMb: Math.round(treePeakKb / 102.4) / 10,
        crash: crash ?? null,
        summary: lastLine.slice(0, 400),
      };
    } finally {
      await sim.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(CASES)) {
  // [typed-]rejected-<N>k-cap<MB>: N thousand rejected rows under a heap cap of MB.
  const shaped = /^(typed-)?rejected-(\d+)k-cap(\d+)$/.exec(name);
  // segments-<N>k-cap<MB>: 200,000 rows over N thousand Segments (dry run) under a heap cap of MB.
  const segmented = /^segments-(\d+)k-cap(\d+)$/.exec(name);
  const spec = shaped
    ? manyRejected(Number(shaped[2]) * 1000, { SELLIGENT_EXPORT_MAX_HEAP_MB: shaped[3]! }, Boolean(shaped[1]))
    : segmented
      ? { ...manySegments(200_000, Number(segmented[1]) * 1000), env: { SELLIGENT_EXPORT_MAX_HEAP_MB: segmented[2]! } }
      : CASES[name];
  if (!spec) throw new Error(`unknown case ${name}; cases: ${Object.keys(CASES).join(', ')}`);
  console.log(JSON.stringify(await runCase(name, spec)));
}
