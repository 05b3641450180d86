/**
 * `npm run bench`: end-to-end throughput and memory of the exporter CLI on a generated query result.
 *
 *   npm run build && npm run bench -- [--rows 1000000] [--segments 20] [--latency-ms 0] [--runs 1] ...
 *   npm run bench -- --help                  (every option)
 *
 * 1. Generates (or reuses from `.bench/data/`) a gzip CSV query result and uploads it to an in-process
 *    s3rver.
 * 2. Per run and case: times the parse ceiling (fast-csv alone on the same file, in a child process),
 *    starts the Selligent simulator in its own process with an empty tenant, runs `node dist/cli.js run`
 *    against `s3://bucket/key` under `/usr/bin/time -v`, and collects the run report, the OS's peak RSS
 *    of the exporter and the simulator's request log.
 * 3. Prints one JSON document on stdout (also written to `.bench/last.json` and under
 *    `.bench/results/`) and a readable table on stderr. Run files stay in `.bench/runs/` (the last 20).
 *
 * docs/performance.md explains every figure, how this folder is built, and holds measured results.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildCommit, buildKnows, snapshotDist, type BuildUnderTest } from './build.js';
import { benchCases } from './cases.js';
import { churnDocument, churnTable, runChurn } from './churn-case.js';
import { BENCH_DIR, DIST_CLI, ROOT, git, log } from './common.js';
import { ensureData, removeData } from './data.js';
import { buildDocument, pruneRuns, saveDocument } from './document.js';
import { machine } from './machine.js';
import { latencyText, parseOptions } from './options.js';
import { runCase } from './run.js';
import { startS3, upload } from './s3.js';
import { ensureReplaceData } from './replace-case.js';
import { comparisonTable, replaceTable, table } from './tables.js';
import type { BenchEnv, RunFigures } from './types.js';
import { scalarText } from '../../src/scalar-text.js';

async function main(): Promise<void> {
  const p = parseOptions(process.argv.slice(2));
  if (p.build) {
    log('npm run build');
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: ['ignore', process.stderr, process.stderr] });
  }
  if (!p.commit && !existsSync(DIST_CLI))
    throw new Error(`${DIST_CLI} is missing: run npm run build first, or pass --commit HEAD`);
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const started = new Date();
  const ref = p.commit ?? 'HEAD';
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`]);
  if (!sha) throw new Error(`--commit ${ref}: not a commit`);
  const commit = { sha, short: sha.slice(0, 7), subject: git(['log', '-1', '--format=%s', sha]) };
  let srcDirty: string[] = [];
  let distBuilt: Date | null = null;
  let snapshot: BuildUnderTest;
  if (p.commit) {
    snapshot = await buildCommit(sha);
    log(
      `exporter under test: commit ${commit.short} (${commit.subject}), compiled apart in ${snapshot.dir.replace(ROOT + '/', '')}`,
    );
  } else {
    srcDirty = git(['status', '--porcelain', '--', 'src']).split('\n').filter(Boolean);
    distBuilt = statSync(DIST_CLI).mtime;
    snapshot = await snapshotDist();
    log(
      `exporter under test: dist/ built ${distBuilt.toISOString()}, snapshot ${snapshot.hash} (${snapshot.dir.replace(ROOT + '/', '')})`,
    );
    if (srcDirty.length > 0)
      log(
        `note: src/ has uncommitted changes (${srcDirty.length} file(s)), so dist/ may not be commit ${commit.short}; --commit REF measures a commit exactly`,
      );
  }
  // The settings are strict: a build from before adaptive Segment batches refuses segment_batch_rows_max.
  const adaptiveBuild = buildKnows(snapshot.dir, 'segment_batch_rows_max');
  if (p.segmentBatchRowsMax !== undefined && !adaptiveBuild)
    throw new Error(
      `--segment-batch-rows-max: the build under test (${snapshot.hash}) has no segment_batch_rows_max setting`,
    );
  if (p.replaceMembers !== undefined && !buildKnows(snapshot.dir, 'segment_replace_strategy'))
    throw new Error(
      `--replace-members: the build under test (${snapshot.hash}) has no segment_replace_strategy setting`,
    );
  const cases = benchCases(p, adaptiveBuild);
  if (p.realistic && !adaptiveBuild)
    log(
      `note: the build under test has no segment_batch_rows_max setting, so its Segment batches are fixed: only the fixed case runs`,
    );
  const host = await machine();
  log(
    `commit ${commit.short}; ${scalarText(host.nproc)} CPU(s) ${scalarText(host.cpuModel)}, ${scalarText(host.memoryGiB)} GiB; ${p.rows} rows, ${p.segments} Segments, latency ${latencyText(p)}, ${p.runs} run(s)${p.realistic ? ` of ${cases.map((c) => c.name).join(' and ')} Segment batches` : ''}`,
  );

  const { meta, generated } =
    p.replaceMembers !== undefined
      ? await ensureReplaceData(join(BENCH_DIR, 'data'), { members: p.replaceMembers, churn: p.replaceChurn }, log)
      : await ensureData(join(BENCH_DIR, 'data'), { rows: p.rows, segments: p.segments, seed: p.seed }, log);
  const stamp = started.toISOString().replace(/[:.]/g, '-');
  const s3 = await startS3(join(BENCH_DIR, `s3rver-${process.pid}`));
  const runsDir = join(BENCH_DIR, 'runs', stamp);
  const runs: RunFigures[] = [];
  const runsByCase: Record<string, RunFigures[]> = {};
  try {
    const key = `exports/bench/${meta.rows}r-${meta.segments}s/result_000.csv.gz`;
    await upload(s3, meta, key);
    const bench: BenchEnv = { cli: snapshot.cli, meta, s3, key };
    if (p.churn !== undefined) {
      const churn = await runChurn({ ...p, churn: p.churn }, bench, runsDir, stamp);
      runsByCase['churn-first'] = churn.first;
      runsByCase['churn-second'] = churn.second;
    }
    for (let i = 1; i <= (p.churn === undefined ? p.runs : 0); i++) {
      // The cases alternate, so a change in the machine's load between runs touches them all.
      for (const benchCase of cases) {
        const runDir = join(runsDir, benchCase.name ? `${benchCase.name}-run-${i}` : `run-${i}`);
        if (benchCase.title) log(`run ${i}: ${benchCase.title}`);
        const r = await runCase(benchCase, bench, runDir, i);
        Object.assign(r, benchCase.tag);
        (runsByCase[benchCase.name ?? 'default'] ??= []).push(r);
        log(
          `run ${i}: ${scalarText(r.rowsPerSecond)} rows/s, ${scalarText(r.wallSeconds)} s wall, peak RSS ${scalarText(r.peakRssMb)} MB, ratio to parse ceiling ${scalarText(r.ratioToParseCeiling)}`,
        );
      }
    }
    // The document's runs and medians are those of the last case: the exporter's default settings (adaptive batches).
    runs.push(
      ...(runsByCase[p.churn === undefined ? (cases[cases.length - 1]?.name ?? 'default') : 'churn-second'] ?? []),
    );
  } finally {
    await s3.close();
    if (generated && !p.keep) {
      await removeData(meta);
      log('generated data removed (pass --keep to reuse it next time)');
    }
  }

  await pruneRuns(join(BENCH_DIR, 'runs'), 20);
  const doc = await buildDocument({
    p,
    started,
    commit: {
      ...commit,
      measured: p.commit ? 'the commit, compiled apart' : 'dist/ as built',
      srcUncommitted: srcDirty,
      distBuiltAt: distBuilt?.toISOString() ?? null,
      build: snapshot.hash,
    },
    machine: host,
    meta,
    runs,
    runsByCase,
    build: snapshot.hash,
  });
  if (p.churn !== undefined) {
    const churn = await churnDocument(
      { ...p, churn: p.churn },
      { first: runsByCase['churn-first'] ?? [], second: runsByCase['churn-second'] ?? [] },
    );
    doc.churn = churn.block;
    doc.targets.push(...churn.targets);
  }
  const text = JSON.stringify(doc, null, 2) + '\n';
  await saveDocument(p, text, snapshot.hash);
  process.stdout.write(text);
  process.stderr.write('\n' + table(doc) + '\n');
  if (doc.comparison) {
    const c = doc.comparison;
    process.stderr.write(
      `\nSegment batches, fixed (segment_batch_rows_max = segment_batch_rows) and adaptive, ${p.rows} rows, latency ${latencyText(p)}${p.runs > 1 ? `, medians of ${p.runs} runs` : ''}:\n`,
    );
    process.stderr.write(comparisonTable(c.fixed.median, c.adaptive?.median ?? null) + '\n');
  }
  if (doc.replace) {
    process.stderr.write(
      `\nReplacing a Segment of ${p.replaceMembers} members, churn ${p.replaceChurn}, latency ${latencyText(p)}${p.runs > 1 ? `, medians of ${p.runs} runs` : ''}:\n`,
    );
    process.stderr.write(replaceTable(doc.replace) + '\n');
  }
  if (doc.churn) process.stderr.write(`\n${churnTable(doc.churn)}\n`);
  process.stderr.write(`\nJSON: ${join(BENCH_DIR, 'last.json')}; run files: ${runsDir}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
