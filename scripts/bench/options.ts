/** The command line of `npm run bench`: its help text and the options it takes. */
import { parseArgs } from 'node:util';
import {
  DEFAULT_BATCH_ROWS,
  DEFAULT_SEGMENT_BATCH_ROWS_MAX,
  REALISTIC,
  SIMULATOR_DEFAULT_RATE_LIMIT,
} from './common.js';

export const USAGE = `Usage: npm run bench -- [options]

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
  --replace-members N      the replace case instead: a Segment of N members exists before the run, the
                           input moves --replace-churn of them out and as many new keys in, and it is
                           exported with segment_replace_strategy clear_then_load and load_then_remove,
                           side by side (requests, wall time, peak RSS, lowest member count seen);
                           --rows, --segments and --realistic do not apply
  --replace-churn F        the replace case's churn, 0-1 (default 0.05)
  --churn F                changes-only sync (sync_mode changes), F from 0 to 1: a first run writes the
                           state, a second run on a copy of the input in which a fraction F of the keys
                           changed (values, Segment moves, gone, new) sends the difference; both measured
  --state-s3               with --churn: the state on the benchmark's s3rver instead of a local directory
  --runs N                 repeat the run N times and report medians (default 1)
  --batch-rows N           batch_rows and segment_batch_rows settings (default: the exporter's, ${DEFAULT_BATCH_ROWS})
  --requests-per-minute N  requests_per_minute setting (default: the exporter's, 2500)
  --sim-rate-limit N       simulator requests per minute per key; 0 = no limit (default: the simulator's, ${SIMULATOR_DEFAULT_RATE_LIMIT})
  --seed N                 generator seed (default 1)
  --wait-idle S            before each run, wait up to S seconds for the machine to be quiet (other
                           processes using under a quarter of one core over 3 s) (default 0: do not wait)
  --as-image               run the exporter as the image's command does: one Node process with the heap
                           cap on its command line (container/selligent-export) and the image's
                           environment (NODE_ENV=production, the allocator settings)
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

export interface Params {
  rows: number;
  segments: number;
  latencyMs: number;
  latencyPerRowMs: number;
  serverTimeoutMs: number | undefined;
  segmentBatchRowsMax: number | undefined;
  realistic: boolean;
  runs: number;
  /** --churn F: the changes-only sync case (churn-case.ts). */
  churn: number | undefined;
  stateS3: boolean;
  batchRows: number | undefined;
  requestsPerMinute: number | undefined;
  simRateLimit: number | undefined;
  seed: number;
  cpuProf: boolean;
  keep: boolean;
  waitIdle: number;
  nodeArgs: string[];
  /** --as-image: the exporter started as the image's command starts it. */
  asImage: boolean;
  build: boolean;
  commit: string | undefined;
  /** The replace case: members of the Segment before the run (undefined: not that case). */
  replaceMembers: number | undefined;
  replaceChurn: number;
}

export function parseOptions(argv: string[]): Params {
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
      churn: { type: 'string' },
      'state-s3': { type: 'boolean' },
      'batch-rows': { type: 'string' },
      'requests-per-minute': { type: 'string' },
      'sim-rate-limit': { type: 'string' },
      seed: { type: 'string' },
      'wait-idle': { type: 'string' },
      'node-arg': { type: 'string', multiple: true },
      'as-image': { type: 'boolean' },
      'cpu-prof': { type: 'boolean' },
      keep: { type: 'boolean' },
      build: { type: 'boolean' },
      commit: { type: 'string' },
      'replace-members': { type: 'string' },
      'replace-churn': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  const int = (
    name: string,
    value: string | undefined,
    fallback: number | undefined,
    min: number,
    max = Number.MAX_SAFE_INTEGER,
  ): number | undefined => {
    if (value === undefined) return fallback;
    const n = Number(value.replace(/_/g, ''));
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
    return n;
  };
  const realistic = values.realistic ?? false;
  const perRow = values['latency-per-row-ms'];
  const latencyPerRowMs = perRow === undefined ? (realistic ? REALISTIC.latencyPerRowMs : 0) : Number(perRow);
  if (!Number.isFinite(latencyPerRowMs) || latencyPerRowMs < 0 || latencyPerRowMs > 1_000) {
    throw new Error(`--latency-per-row-ms must be a number from 0 to 1000, got "${perRow}"`);
  }
  const replaceMembers = int('replace-members', values['replace-members'], undefined, 1, 100_000_000);
  const churnText = values['replace-churn'];
  const replaceChurn = churnText === undefined ? 0.05 : Number(churnText);
  if (!Number.isFinite(replaceChurn) || replaceChurn < 0 || replaceChurn > 1)
    throw new Error(`--replace-churn must be a number from 0 to 1, got "${churnText}"`);
  if (churnText !== undefined && replaceMembers === undefined)
    throw new Error('--replace-churn needs --replace-members');
  if (replaceMembers !== undefined && realistic)
    throw new Error('--replace-members and --realistic do not go together');
  const churn = values.churn === undefined ? undefined : Number(values.churn);
  if (churn !== undefined && !(Number.isFinite(churn) && churn >= 0 && churn <= 1))
    throw new Error(`--churn must be a fraction from 0 to 1, got "${values.churn}"`);
  if (values['state-s3'] && churn === undefined) throw new Error('--state-s3 goes with --churn F');
  if (churn !== undefined && realistic) throw new Error('--churn and --realistic are separate cases: pick one');
  if (churn !== undefined && replaceMembers !== undefined)
    throw new Error('--churn and --replace-members are separate cases: pick one');
  return {
    rows: int('rows', values.rows, realistic ? REALISTIC.rows : 1_000_000, 1)!,
    segments: int('segments', values.segments, 20, 1, 50)!,
    latencyMs: int('latency-ms', values['latency-ms'], realistic ? REALISTIC.latencyMs : 0, 0, 60_000)!,
    latencyPerRowMs,
    serverTimeoutMs: int(
      'server-timeout-ms',
      values['server-timeout-ms'],
      realistic ? REALISTIC.serverTimeoutMs : undefined,
      1,
      3_600_000,
    ),
    segmentBatchRowsMax: int('segment-batch-rows-max', values['segment-batch-rows-max'], undefined, 1, 100_000),
    realistic,
    runs: int('runs', values.runs, 1, 1, 50)!,
    churn,
    stateS3: values['state-s3'] ?? false,
    batchRows: int('batch-rows', values['batch-rows'], undefined, 1, 100_000),
    requestsPerMinute: int('requests-per-minute', values['requests-per-minute'], undefined, 1),
    simRateLimit: int('sim-rate-limit', values['sim-rate-limit'], undefined, 0),
    seed: int('seed', values.seed, 1, 0, 2 ** 31)!,
    cpuProf: values['cpu-prof'] ?? false,
    keep: values.keep ?? false,
    waitIdle: int('wait-idle', values['wait-idle'], 0, 0, 3_600)!,
    nodeArgs: values['node-arg'] ?? [],
    asImage: values['as-image'] ?? false,
    build: values.build ?? false,
    commit: values.commit,
    replaceMembers,
    replaceChurn,
  };
}

export function latencyText(p: Params): string {
  const parts = [`${p.latencyMs} ms`];
  if (p.latencyPerRowMs > 0) parts.push(`${p.latencyPerRowMs} ms/row`);
  if (p.serverTimeoutMs !== undefined) parts.push(`408 past ${p.serverTimeoutMs} ms`);
  return parts.join(' + ').replace(' + 408', ', 408');
}
