/** The figures judged against the exporter's performance targets (docs/performance.md). */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BENCH_DIR, ROOT, SIMULATOR_DEFAULT_RATE_LIMIT, round, type Any } from './common.js';
import type { Params } from './options.js';
import type { Target } from './types.js';
import { churnRatios, type ChurnRunFigures } from './churn-case.js';

export async function targets(p: Params, m: Any, build: string): Promise<Target[]> {
  const out: Target[] = [];
  // The OS's figure is per process; when the CLI runs the export in a child, the sampled sum over its
  // processes is larger, and the larger of the two is judged.
  const rss = Math.max(m.peakRssMb ?? 0, m.peakRssAllProcessesMb ?? 0);
  const rssWhich =
    rss === m.peakRssMb
      ? 'OS peak of the largest process'
      : `sampled sum of ${m.exporterProcesses} processes (OS peak of the largest: ${m.peakRssMb} MB)`;
  out.push({
    name: 'peak RSS',
    value: rss,
    target: '<= 300 MB',
    met: rss <= 300,
    note: `${round(rss / 300, 3)}x the limit; ${rssWhich}`,
  });
  // RSS growth: compared with the 1M-row figure saved by an earlier invocation, when this one is larger.
  if (p.rows > 1_000_000) {
    // The same build first, then the latest 1M-row result of any build.
    const launch = p.asImage ? '-image' : '';
    const candidates = [
      `1000000r-${p.segments}s-${p.latencyMs}ms${launch}-${build}.json`,
      `1000000r-${p.segments}s-0ms${launch}-${build}.json`,
      `1000000r-${p.segments}s-${p.latencyMs}ms${launch}.json`,
      `1000000r-${p.segments}s-0ms${launch}.json`,
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
      out.push({
        name: 'peak RSS vs 1M rows',
        value: round(ratio, 3),
        target: '<= 1.3x',
        met: ratio <= 1.3,
        note: `${rss} MB vs ${baseRss} MB at 1M rows (${baseFile.replace(ROOT + '/', '')}, ${same})`,
      });
    } else {
      out.push({
        name: 'peak RSS vs 1M rows',
        value: null,
        target: '<= 1.3x',
        met: null,
        note: 'no 1M-row result in .bench/results/: run npm run bench -- --rows 1000000 first',
      });
    }
  }
  const busy = m.busy?.load_stages?.busyRatio ?? null;
  out.push({
    name: 'API busy ratio, load stages',
    value: busy,
    target: '>= 0.95 at 50 ms latency',
    met: p.latencyMs > 0 && busy !== null ? busy >= 0.95 : null,
    note:
      p.latencyMs > 0
        ? `List ${m.busy.list_load.busyRatio}, Segments ${m.busy.segment_load.busyRatio}`
        : 'judged only with --latency-ms > 0',
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
    met: b.byteCapBinds
      ? null
      : b.listRequests === b.listRequestsExpected && b.listRequestsSimulator === b.listRequestsExpected,
    note: `${b.listRequestsSimulator} in the simulator log; ${b.listBytesPerRow} bytes/row${b.byteCapBinds ? ': the byte cap binds, not judged' : ''}; Segment loads ${b.segmentRequests} (${b.segmentRequestsExpected} at a fixed ${b.batchRows} rows)`,
  });
  const pacingOn =
    (p.requestsPerMinute ?? 2_500) <=
    (p.simRateLimit === undefined ? SIMULATOR_DEFAULT_RATE_LIMIT : p.simRateLimit || Infinity);
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

/**
 * The replace case (replace-case.ts): each strategy's peak RSS within the memory target, and
 * load_then_remove never below min(old, new) members while clear_then_load shows the empty Segment.
 */
export function replaceTargets(comparison: Any): Target[] {
  const out: Target[] = [];
  for (const strategy of ['clear_then_load', 'load_then_remove']) {
    const m = comparison[strategy]?.median;
    if (!m) continue;
    const rss = Math.max(m.peakRssMb ?? 0, m.peakRssAllProcessesMb ?? 0);
    out.push({
      name: `peak RSS, ${strategy}`,
      value: rss,
      target: '<= 300 MB',
      met: rss <= 300,
      note: `${round(rss / 300, 3)}x the limit`,
    });
  }
  const ltr = comparison.load_then_remove?.median?.replace;
  if (ltr) {
    out.push({
      name: 'lowest members, load_then_remove',
      value: ltr.lowestMembers,
      target: `>= min(old, new) = ${ltr.floor}`,
      met: ltr.neverBelowFloor,
      note: `${ltr.membersAfter} members after (expected ${ltr.membersAfterExpected})`,
    });
  }
  const ctl = comparison.clear_then_load?.median?.replace;
  if (ctl) {
    out.push({
      name: 'lowest members, clear_then_load',
      value: ctl.lowestMembers,
      target: '= 0 (the Segment is emptied)',
      met: ctl.lowestMembers === 0,
      note: `${ctl.membersAfter} members after (expected ${ctl.membersAfterExpected})`,
    });
  }
  return out;
}

/**
 * The changes-only targets. `rssAt1M`: the larger peak RSS of the two runs of a 1M-row churn result at
 * the same F (for the flatness target when this invocation is larger), with where it came from.
 */
export function churnTargets(
  p: Pick<Params, 'rows'> & { churn: number },
  first: ChurnRunFigures,
  second: ChurnRunFigures,
  rssAt1M: { mb: number; file: string } | null,
): Target[] {
  const ratios = churnRatios(first, second);
  const out: Target[] = [];
  const r = ratios.loadRequests;
  if (p.churn === 0) {
    out.push({
      name: 'changes: load requests at F = 0',
      value: second.loadRequests.total,
      target: '= 0',
      met: second.loadRequests.total === 0,
      note: `List ${second.loadRequests.list}, Segment ${second.loadRequests.segment}, removal ${second.loadRequests.removal}`,
    });
  } else {
    out.push({
      name: 'changes: second-run / first-run load requests',
      value: r,
      target: '<= 0.02 at F = 0.01',
      met: p.churn === 0.01 && r !== null ? r <= 0.02 : null,
      note: `${second.loadRequests.total} / ${first.loadRequests.total} (List ${second.loadRequests.list}, Segment ${second.loadRequests.segment}, removal ${second.loadRequests.removal})${p.churn === 0.01 ? '' : '; judged at F = 0.01 only'}`,
    });
  }
  const w = ratios.secondWallOverFirstRead;
  out.push({
    name: 'changes: second-run wall / first-run read stage',
    value: w,
    target: '<= 1.3',
    met: w === null ? null : w <= 1.3,
    note: `${second.wallSeconds} s / ${first.readSeconds} s`,
  });
  const rss = Math.max(first.peakRssMb, second.peakRssMb);
  out.push({
    name: 'changes: peak RSS, both runs',
    value: rss,
    target: '<= 300 MB',
    met: rss <= 300,
    note: `first ${first.peakRssMb} MB, second ${second.peakRssMb} MB`,
  });
  if (p.rows > 1_000_000) {
    out.push({
      name: 'changes: peak RSS vs 1M rows',
      value: rssAt1M ? round(rss / rssAt1M.mb, 3) : null,
      target: '<= 1.3x (flat)',
      met: rssAt1M ? rss / rssAt1M.mb <= 1.3 : null,
      note: rssAt1M
        ? `${rss} MB vs ${rssAt1M.mb} MB (${rssAt1M.file})`
        : `no 1M-row result at F = ${p.churn} in .bench/results/: run npm run bench -- --rows 1000000 --churn ${p.churn} first`,
    });
  }
  out.push({
    name: 'changes: state bytes per row',
    value: second.stateBytesPerRow,
    target: 'reported',
    met: null,
    note: `${second.stateBytes} bytes for ${second.stateRows} keys (first run: ${first.stateBytesPerRow} bytes per row)`,
  });
  return out;
}
