/** A run's figures, from the exporter's report, its process, the simulator's request log and the parse ceiling. */
import type { ChildResult } from './child.js';
import { DEFAULT_BATCH_BYTES, DEFAULT_BATCH_ROWS, round } from './common.js';
import type { DataMeta } from './data.js';
import type { Params } from './options.js';
import type { ParseCeiling } from './parse-ceiling.js';
import { busyFigures, countBy, type BusyFigures, type RequestLogEntry } from './simulator-process.js';
import { STAGES, type ExporterReport, type RunFigures } from './types.js';

export function measure(
  p: Params,
  meta: DataMeta,
  report: ExporterReport,
  r: ChildResult,
  log_: RequestLogEntry[],
  ceiling: ParseCeiling,
  simPeakKb: number,
): RunFigures {
  const d = report.durations_seconds;
  const rows = report.input.rows;
  const listSent = report.list?.rows_sent ?? 0;
  const segmentSent = report.segments.reduce((s, x) => s + x.rows_sent, 0);
  const stageRows: Record<string, number | null> = {
    read: rows,
    preflight: null,
    list_setup: null,
    list_load: listSent,
    segment_setup: null,
    segment_load: segmentSent,
  };
  const stages: Record<string, unknown> = {};
  for (const stage of STAGES) {
    const seconds = d[stage] ?? 0;
    const n = stageRows[stage] ?? null;
    stages[stage] = {
      seconds: round(seconds),
      rows: n,
      rowsPerSecond: n !== null && seconds > 0 ? Math.round(n / seconds) : null,
      shareOfWall: round(seconds / r.wallSeconds, 3),
    };
  }
  const batchRows = p.batchRows ?? DEFAULT_BATCH_ROWS;
  const listLoads = log_.filter((e) => e.route === 'loadList');
  const listLoadsOk = listLoads.filter((e) => e.status !== 429);
  const listBytes = listLoadsOk.reduce((s, e) => s + e.requestBytes, 0);
  const bytesPerRow = listSent > 0 ? listBytes / listSent : 0;
  const expectedList = Math.ceil(listSent / batchRows);
  const expectedSegment = report.segments.reduce((s, x) => s + Math.ceil(x.rows_sent / batchRows), 0);
  const listBusy: BusyFigures = busyFigures(log_, ['loadList'], d.list_load);
  const segmentBusy: BusyFigures = busyFigures(log_, ['loadSegment'], d.segment_load);
  const loadSeconds = (d.list_load ?? 0) + (d.segment_load ?? 0);
  const loadBusy = listBusy.busySeconds + segmentBusy.busySeconds;
  const status429 = log_.filter((e) => e.status === 429);
  const status408 = log_.filter((e) => e.status === 408);
  const rowsPerSecond = rows / r.wallSeconds;
  const input = {
    matches:
      report.validation.skipped_rows === meta.skipped.segment_blank + meta.skipped.key_blank &&
      report.deduplication.unique_keys === meta.distinctKeys &&
      report.deduplication.merged_duplicates === meta.duplicateRows,
    skipped: report.validation.skipped_rows,
    skippedExpected: meta.skipped.segment_blank + meta.skipped.key_blank,
    uniqueKeys: report.deduplication.unique_keys,
    uniqueKeysExpected: meta.distinctKeys,
    mergedDuplicates: report.deduplication.merged_duplicates,
    mergedDuplicatesExpected: meta.duplicateRows,
  };
  return {
    status: report.status,
    exitCode: r.code,
    rows,
    validRows: report.validation.valid_rows,
    skippedRows: report.validation.skipped_rows,
    uniqueKeys: report.deduplication.unique_keys,
    mergedDuplicates: report.deduplication.merged_duplicates,
    segmentMemberships: report.deduplication.segment_memberships,
    accountingBalanced: report.accounting?.balanced ?? null,
    inputAsGenerated: input,
    wallSeconds: round(r.wallSeconds),
    reportTotalSeconds: round(d.total ?? null),
    rowsPerSecond: Math.round(rowsPerSecond),
    cpu: {
      userSeconds: round(r.userSeconds, 2),
      systemSeconds: round(r.systemSeconds, 2),
      /** Exporter CPU time over wall time: 1.0 = one core busy throughout. */
      utilisation:
        r.userSeconds !== null && r.systemSeconds !== null
          ? round((r.userSeconds + r.systemSeconds) / r.wallSeconds, 3)
          : null,
    },
    peakRssMb: round(r.peakRssKb / 1024, 1),
    peakRssSource: r.rssSource,
    /** Node processes of the exporter (2: the CLI runs the export in a child) and their summed RSS, sampled. */
    exporterProcesses: r.processes,
    peakRssAllProcessesMb: r.rssSamples.length ? round(Math.max(...r.rssSamples.map(([, kb]) => kb)) / 1024, 1) : null,
    simulatorPeakRssMb: round(simPeakKb / 1024, 1),
    stages,
    http: {
      exporter: {
        requests: report.http.requests,
        byRoute: report.http.by_route,
        byStatus: report.http.by_status,
        retries: report.http.retries,
        rateLimited: report.http.rate_limited,
        rateLimitWaits: report.http.rate_limit_waits,
        rateLimitWaitSeconds: report.http.rate_limit_wait_seconds,
        pacingWaitSeconds: report.http.pacing_wait_seconds,
        splitBatches: report.http.split_batches,
      },
      simulator: {
        requests: log_.length,
        byRoute: countBy(log_, (e) => e.route ?? '(unmatched)'),
        byStatus: countBy(log_, (e) => String(e.status)),
        status429: status429.length,
        status429ByRoute: countBy(status429, (e) => e.route ?? '(unmatched)'),
        status408: status408.length,
        status408ByRoute: countBy(status408, (e) => e.route ?? '(unmatched)'),
      },
    },
    busy: {
      list_load: roundBusy(listBusy),
      segment_load: roundBusy(segmentBusy),
      load_stages: {
        busySeconds: round(loadBusy),
        stageSeconds: round(loadSeconds),
        busyRatio: loadSeconds > 0 ? round(loadBusy / loadSeconds, 4) : null,
      },
    },
    batching: {
      batchRows,
      listRowsSent: listSent,
      listRequests: report.list?.requests ?? 0,
      listRequestsSimulator: listLoadsOk.length,
      listRequestsExpected: expectedList,
      listBytesPerRow: round(bytesPerRow, 1),
      listRequestBytesMax: listLoadsOk.reduce((m, e) => Math.max(m, e.requestBytes), 0),
      /** Would a full batch of batchRows rows exceed batch_bytes? Then the byte cap decides the count. */
      byteCapBinds: bytesPerRow * batchRows > DEFAULT_BATCH_BYTES,
      segmentRowsSent: segmentSent,
      segmentRequests: report.segments.reduce((s, x) => s + x.requests, 0),
      segmentRequestsSimulator: log_.filter((e) => e.route === 'loadSegment' && e.status !== 429).length,
      /** With adaptive Segment batches the count is lower than this fixed-size figure. */
      segmentRequestsExpected: expectedSegment,
      segmentBatchRowsMax: p.segmentBatchRowsMax ?? null,
      /** The report's segment_batch_rows: initial, smallest, largest, final and max sizes. */
      segmentBatchRows: report.segment_batch_rows ?? null,
    },
    parseCeiling: ceiling,
    ratioToParseCeiling: round(rowsPerSecond / ceiling.rowsPerSecond, 3),
    /** Parse-ceiling CPU seconds over exporter CPU seconds: the same ratio, insensitive to other load. */
    cpuRatioToParseCeiling:
      ceiling.cpuSeconds && r.userSeconds !== null && r.systemSeconds !== null
        ? round(ceiling.cpuSeconds / (r.userSeconds + r.systemSeconds), 3)
        : null,
  };
}

/**
 * Peak sampled VmRSS (MB, all the exporter's processes together) in each phase: start -> input read and preflight passed (read), -> List loaded
 * (list setup and load, including deduplication), -> exit (Segment loads and the report).
 */
export function rssByPhase(
  samples: Array<[number, number]>,
  marks: Record<string, number>,
  end: number,
): Record<string, number | null> {
  const peak = (from: number, to: number) => {
    const inPhase = samples.filter(([t]) => t >= from && t < to).map(([, kb]) => kb);
    return inPhase.length ? round(Math.max(...inPhase) / 1024, 1) : null;
  };
  const read = marks.read ?? end;
  const list = marks.list ?? end;
  return { read: peak(0, read), list_load: peak(read, list), segment_load: peak(list, end + 1) };
}

function roundBusy(b: BusyFigures): Record<string, number | null> {
  return {
    requests: b.requests,
    busySeconds: round(b.busySeconds),
    windowSeconds: round(b.windowSeconds),
    busyRatio: round(b.busyRatio, 4),
    busyRatioWindow: round(b.busyRatioWindow, 4),
    meanRequestMs: round(b.meanRequestMs, 2),
    meanGapMs: round(b.meanGapMs, 2),
    p95GapMs: round(b.p95GapMs, 2),
    maxGapMs: round(b.maxGapMs, 2),
    outsideWindowSeconds: round(b.outsideWindowSeconds),
  };
}
