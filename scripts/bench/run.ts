/** One measured run of a case, from a fresh simulator to the exporter's figures. */
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchCase } from './cases.js';
import { runNode } from './child.js';
import { BUCKET, LIST, ROOT, log, round } from './common.js';
import { measure, rssByPhase } from './figures.js';
import { machineBusySeconds, processCpuSeconds, waitForQuiet } from './machine.js';
import { latencyText } from './options.js';
import { parseCeiling } from './parse-ceiling.js';
import { formatProfile, summarizeCpuProfile, type ProfileSummary } from './profile.js';
import { startSimulatorProcess, type SimulatorProcess } from './simulator-process.js';
import type { DataMeta } from './data.js';
import type { BenchEnv, ExporterReport, RunFigures } from './types.js';
import { ALLOCATOR_ENV, DEFAULT_HEAP_MB, cappedHeapArgs } from '../../src/heap.js';

/**
 * A run on a simulator an earlier run used (its figures count only the requests made from now on), or on
 * another uploaded input than the invocation's.
 */
export interface RunOverrides {
  /** Started and stopped by the caller. */
  sim?: SimulatorProcess;
  key?: string;
  meta?: DataMeta;
}

/**
 * One run of one case: the parse ceiling, a fresh simulator (prepared by the case), the exporter under
 * `/usr/bin/time -v` against the uploaded input, and its figures.
 */
export async function runCase(
  benchCase: BenchCase,
  bench: BenchEnv,
  runDir: string,
  index: number,
  overrides: RunOverrides = {},
): Promise<RunFigures> {
  const p = benchCase.params;
  const { cli, s3 } = bench;
  const meta = overrides.meta ?? bench.meta;
  const key = overrides.key ?? bench.key;
  await mkdir(join(runDir, 'tmp'), { recursive: true });
  const quietBefore = p.waitIdle > 0 ? await waitForQuiet(p.waitIdle) : null;
  const loadBefore = loadavg()[0]!;

  log(`run ${index}: parse ceiling (fast-csv alone on the gunzipped file)`);
  const ceiling = await parseCeiling(meta, runDir);
  log(`run ${index}: parse ceiling ${ceiling.rowsPerSecond} rows/s (${ceiling.seconds} s)`);

  const sim =
    overrides.sim ??
    (await startSimulatorProcess({
      cli,
      latencyMs: p.latencyMs,
      latencyPerRowMs: p.latencyPerRowMs,
      serverTimeoutMs: p.serverTimeoutMs,
      rateLimit: p.simRateLimit,
      configPath: join(runDir, 'simulator.json'),
      maxOldSpaceMb: Math.max(4096, Math.min(16_384, Math.floor((totalmem() / 2 ** 20) * 0.6))),
      logPath: join(runDir, 'simulator.log'),
    }));
  const requestsBefore = overrides.sim ? (await sim.requests()).length : 0;
  let result: RunFigures;
  try {
    log(
      `run ${index}: simulator ${sim.baseUrl} (pid ${sim.pid}, latency ${latencyText(p)}, rate limit ${p.simRateLimit === undefined ? 'default' : p.simRateLimit || 'off'})`,
    );
    await benchCase.prepare?.({ env: bench, sim, runDir });
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
    Object.assign(settings, benchCase.settings);
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
      // The Dockerfile's ENV (checked against ALLOCATOR_ENV by test/unit/heap.test.ts).
      ...(p.asImage ? { NODE_ENV: 'production', ...ALLOCATOR_ENV } : {}),
    };
    const profDir = join(runDir, 'prof');
    const nodeArgs = [
      // What container/selligent-export starts Node with (test/unit/container-launcher.test.ts).
      ...(p.asImage ? cappedHeapArgs(DEFAULT_HEAP_MB) : []),
      ...(p.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', profDir] : []),
      ...p.nodeArgs,
      cli,
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
    const report = JSON.parse(await readFile(reportPath, 'utf8')) as ExporterReport;
    if (r.code !== 0)
      throw new Error(
        `the exporter exited ${r.code} (${report.status}): ${report.error?.code} ${report.error?.message ?? r.stderr.slice(-2000)}`,
      );
    const requests = (await sim.requests()).slice(requestsBefore);
    await writeFile(join(runDir, 'requests.jsonl'), requests.map((e) => JSON.stringify(e)).join('\n') + '\n');
    const simPeakKb = await sim.peakRssKb();
    result = measure(p, meta, report, r, requests, ceiling, simPeakKb);
    if (benchCase.finish) Object.assign(result, await benchCase.finish({ sim, report, requests }));
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
      loadavgAfter: round(loadavg()[0], 2),
    };
    result.files = {
      report: reportPath,
      exporterLog: join(runDir, 'exporter.log'),
      simulatorLog: join(runDir, 'simulator.log'),
    };
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
    if (!overrides.sim) await sim.stop();
  }
  return result;
}
