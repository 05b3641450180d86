/** The readable tables on stderr: the figures of a run (or the medians and each run), and the realistic comparison. */
import { round, type Any } from './common.js';
import { STAGES, type Target } from './types.js';
import { scalarText } from '../../src/scalar-text.js';

export function table(doc: Any): string {
  const runs: Any[] = doc.runs;
  const m = doc.median;
  const cols = runs.length > 1 ? ['median', ...runs.map((_: unknown, i: number) => `run ${i + 1}`)] : ['value'];
  const vals = (f: (r: Any) => unknown): string[] => {
    const fmt = (v: unknown) => cell(v, 3);
    return runs.length > 1 ? [fmt(f(m)), ...runs.map((r) => fmt(f(r)))] : [fmt(f(m))];
  };
  const rows: Array<[string, string[]]> = [
    ['rows (input)', vals((r) => r.rows)],
    ['valid / unique keys', vals((r) => `${r.validRows} / ${r.uniqueKeys}`)],
    ['wall seconds', vals((r) => r.wallSeconds)],
    ['rows/s end to end', vals((r) => r.rowsPerSecond)],
    ['parse ceiling rows/s', vals((r) => r.parseCeiling.rowsPerSecond)],
    ['ratio to parse ceiling', vals((r) => r.ratioToParseCeiling)],
    ['  same, by CPU seconds', vals((r) => r.cpuRatioToParseCeiling)],
    ['peak RSS MB (exporter)', vals((r) => r.peakRssMb)],
    ['  all processes, sampled', vals((r) => `${r.peakRssAllProcessesMb} (${r.exporterProcesses} proc)`)],
    [
      '  same by phase read/List/Seg',
      vals((r) => `${r.rssByPhase?.read} / ${r.rssByPhase?.list_load} / ${r.rssByPhase?.segment_load}`),
    ],
    ['CPU utilisation (cores)', vals((r) => r.cpu.utilisation)],
    ['other load (cores)', vals((r) => r.contention.otherCores)],
  ];
  for (const s of STAGES) {
    rows.push([`${s} s`, vals((r) => r.stages[s].seconds)]);
    if (s === 'read' || s === 'list_load' || s === 'segment_load')
      rows.push([`${s} rows/s`, vals((r) => r.stages[s].rowsPerSecond)]);
  }
  rows.push(
    ['busy ratio List load', vals((r) => r.busy.list_load.busyRatio)],
    ['busy ratio Segment load', vals((r) => r.busy.segment_load.busyRatio)],
    ['busy ratio load stages', vals((r) => r.busy.load_stages.busyRatio)],
    [
      'busy (window) List / Seg',
      vals((r) => `${r.busy.list_load.busyRatioWindow} / ${r.busy.segment_load.busyRatioWindow}`),
    ],
    [
      'mean request ms List / Seg',
      vals((r) => `${r.busy.list_load.meanRequestMs} / ${r.busy.segment_load.meanRequestMs}`),
    ],
    [
      'gap ms mean/p95/max List',
      vals((r) => `${r.busy.list_load.meanGapMs} / ${r.busy.list_load.p95GapMs} / ${r.busy.list_load.maxGapMs}`),
    ],
    [
      'gap ms mean/p95/max Seg',
      vals(
        (r) => `${r.busy.segment_load.meanGapMs} / ${r.busy.segment_load.p95GapMs} / ${r.busy.segment_load.maxGapMs}`,
      ),
    ],
    ['List requests (expected)', vals((r) => `${r.batching.listRequests} (${r.batching.listRequestsExpected})`)],
    [
      'Segment requests (fixed-size count)',
      vals((r) => `${r.batching.segmentRequests} (${r.batching.segmentRequestsExpected})`),
    ],
    ['Segment batch rows init/min/max/final', vals((r) => batchRowsText(r.batching.segmentBatchRows))],
    ['HTTP requests (simulator)', vals((r) => r.http.simulator.requests)],
    [
      '429s / 408s / retries',
      vals((r) => `${r.http.simulator.status429} / ${r.http.simulator.status408} / ${r.http.exporter.retries}`),
    ],
  );
  const w0 = Math.max(...rows.map(([k]) => k.length));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map(([, v]) => (v[i] ?? '').length)));
  const line = (k: string, v: string[]) => `${k.padEnd(w0)}  ${v.map((x, i) => x.padStart(widths[i]!)).join('  ')}`;
  const out = [line('figure', cols), ...rows.map(([k, v]) => line(k, v)), ''];
  out.push('targets:');
  for (const t of doc.targets as Target[]) {
    const verdict = t.met === null ? 'n/a' : t.met ? 'MET' : 'NOT MET';
    out.push(`  ${verdict.padEnd(7)}  ${t.name}: ${t.value ?? '-'} (target ${t.target}); ${t.note}`);
  }
  return out.join('\n');
}

function batchRowsText(b: Any): string {
  return b ? `${b.initial}/${b.smallest}/${b.largest}/${b.final} (max ${b.max})` : '-';
}

/**
 * --realistic: the fixed and the adaptive Segment batches side by side (medians when --runs > 1) and
 * adaptive / fixed for the figures that batching changes.
 */
export function comparisonTable(fixed: Any, adaptive: Any): string {
  const fmt = (v: unknown) => cell(v, 2);
  const ratio = (a: unknown, f: unknown) =>
    typeof a === 'number' && typeof f === 'number' && f > 0 ? String(round(a / f, 3)) : '';
  const figures: Array<[string, (r: Any) => unknown, boolean]> = [
    ['Segment requests', (r) => r.batching.segmentRequests, true],
    ['List requests', (r) => r.batching.listRequests, true],
    ['segment_load s', (r) => r.stages.segment_load.seconds, true],
    ['list_load s', (r) => r.stages.list_load.seconds, true],
    ['wall s', (r) => r.wallSeconds, true],
    ['peak RSS MB (largest process)', (r) => r.peakRssMb, true],
    ['Segment batch rows init/min/max/final', (r) => batchRowsText(r.batching.segmentBatchRows), false],
    ['408s (simulator)', (r) => r.http.simulator.status408, false],
    ['retries / split batches', (r) => `${r.http.exporter.retries} / ${r.http.exporter.splitBatches}`, false],
    ['other load (cores)', (r) => r.contention.otherCores, false],
  ];
  const rows = figures.map(([name, f, withRatio]) => [
    name,
    fmt(f(fixed)),
    adaptive ? fmt(f(adaptive)) : '-',
    withRatio && adaptive ? ratio(f(adaptive), f(fixed)) : '',
  ]);
  const head = ['figure', 'fixed', 'adaptive', 'adaptive / fixed'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}

/** A figure in a table cell: '-' for none, whole numbers with separators, others to `digits` places. */
function cell(v: unknown, digits: number): string {
  if (v === null || v === undefined) return '-';
  if (typeof v !== 'number') return scalarText(v);
  return Number.isInteger(v) ? v.toLocaleString('en-US') : String(round(v, digits));
}

/** The replace case: both strategies side by side (medians when --runs > 1), and load_then_remove / clear_then_load. */
export function replaceTable(comparison: Any): string {
  const a = comparison.clear_then_load?.median;
  const b = comparison.load_then_remove?.median;
  const fmt = (v: unknown) => cell(v, 2);
  const figures: Array<[string, (r: Any) => unknown, boolean]> = [
    ['requests', (r) => r.replace.requests.total, true],
    ['  search pages', (r) => r.replace.requests.searchPages, false],
    ['  List loads', (r) => r.replace.requests.listLoads, false],
    ['  clears', (r) => r.replace.requests.clears, false],
    ['  Segment loads', (r) => r.replace.requests.segmentLoads, false],
    ['  removals', (r) => r.replace.requests.removals, false],
    ['wall s', (r) => r.wallSeconds, true],
    ['  preflight s', (r) => r.stages.preflight.seconds, false],
    ['  list_load s', (r) => r.stages.list_load.seconds, false],
    ['  segment_load s', (r) => r.stages.segment_load.seconds, false],
    ['peak RSS MB (largest process)', (r) => r.peakRssMb, true],
    ['CPU seconds (exporter)', (r) => (r.cpu.userSeconds ?? 0) + (r.cpu.systemSeconds ?? 0), true],
    ['lowest members during the run', (r) => r.replace.lowestMembers, false],
    ['members after (expected)', (r) => `${r.replace.membersAfter} (${r.replace.membersAfterExpected})`, false],
    ['other load (cores)', (r) => r.contention.otherCores, false],
  ];
  const ratio = (x: unknown, y: unknown) =>
    typeof x === 'number' && typeof y === 'number' && y > 0 ? String(round(x / y, 3)) : '';
  const rows = figures.map(([name, f, withRatio]) => [
    name,
    a ? fmt(f(a)) : '-',
    b ? fmt(f(b)) : '-',
    withRatio && a && b ? ratio(f(b), f(a)) : '',
  ]);
  const head = ['figure', 'clear_then_load', 'load_then_remove', 'ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  return [line(head), ...rows.map(line)].join('\n');
}
