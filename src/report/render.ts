import type { DryRunPlan, RunReport, SegmentReport, StageDurations } from './types.js';

import type { RowsFileCounts } from './rows-file-counts.js';

/**
 * A run report as a person reads it: what happened, where every row went, each Segment, why rows were
 * left out, how long each stage took and what it cost in requests. Pure: the report in, text out.
 */
export function renderReport(report: RunReport, rowsFile?: RowsFileCounts): string {
  const sections = [
    overview(report),
    accounting(report),
    changes(report),
    list(report),
    segments(report),
    reasons(report, rowsFile),
    plan(report),
    durations(report.durations_seconds),
    requests(report),
    warnings(report),
  ];
  return (
    sections
      .filter((lines) => lines.length > 0)
      .map((lines) => lines.join('\n'))
      .join('\n\n') + '\n'
  );
}

function overview(report: RunReport): string[] {
  const lines = [
    `${report.tool.name} ${report.tool.version} run report${report.dry_run ? ' (dry run: nothing was written)' : ''}`,
  ];
  const rows: Array<[string, string]> = [
    ['status', `${report.status} (exit ${report.exit_code})`],
    ['started', report.started_at],
    ['finished', report.finished_at ?? 'not recorded'],
  ];
  const input = report.input;
  if (input.location) {
    const how = [input.format, input.compression && input.compression !== 'none' ? input.compression : undefined]
      .filter(Boolean)
      .join(', ');
    rows.push([
      'input',
      `${input.location}${how ? ` (${how})` : ''}: ${count(input.rows, 'row')}, ${count(input.bytes, 'byte')}`,
    ]);
  }
  const target = report.selligent;
  if (target.base_url || target.organization || target.list) {
    rows.push([
      'selligent',
      [
        target.base_url,
        target.organization && `organization ${target.organization}`,
        target.list && `List ${target.list}`,
      ]
        .filter(Boolean)
        .join(', '),
    ]);
  }
  if (report.settings_source) rows.push(['settings', report.settings_source]);
  if (report.error)
    rows.push(['error', `${report.error.code}${report.error.stage ? ` in stage ${report.error.stage}` : ''}`]);
  else if (report.stage) rows.push(['stopped in', report.stage]);
  lines.push(...keyValues(rows, 2));
  if (report.error) lines.push(`  ${indentRest(report.error.message, 2)}`);
  return lines;
}

function accounting(report: RunReport): string[] {
  const a = report.accounting;
  if (!a)
    return report.input.rows > 0
      ? [`Rows: ${count(report.input.rows, 'row')} read; the run ended before they were accounted for.`]
      : [];
  const rows: Array<[string, string]> = [
    ['input rows', String(a.input_rows)],
    ['loaded', String(a.loaded)],
    ['skipped (invalid)', String(a.skipped)],
    ['merged duplicates', String(a.merged_duplicates)],
    ['rejected by Selligent', String(a.rejected)],
    [report.dry_run ? 'to load (dry run: nothing sent)' : 'not applied', String(a.not_applied)],
  ];
  if (a.unchanged !== undefined) rows.push(['unchanged (not sent)', String(a.unchanged)]);
  return [
    `Rows (each input row is counted once)${a.balanced ? '' : ': THE COUNTS DO NOT ADD UP, please report it'}`,
    ...keyValues(rows, 2),
  ];
}

function changes(report: RunReport): string[] {
  const c = report.changes;
  if (!c) return [];
  const rows: Array<[string, string]> = [
    ['mode', c.reset_reason ? `${c.mode}: ${c.reset_reason}` : c.mode],
    ['state', c.state],
    [
      'generation',
      `read ${c.generation_read ?? 'none'}, written ${c.generation_written ?? (c.commit_error ? 'none (not committed)' : 'none')}`,
    ],
    ['rows in state', String(c.rows_in_state)],
    ['new / changed / unchanged', `${c.new} / ${c.changed} / ${c.unchanged}`],
    ['left the input', String(c.left_input)],
  ];
  for (const [segment, counts] of Object.entries(c.segments))
    rows.push([`Segment ${segment}`, `${counts.added} to add, ${counts.removed} to remove`]);
  if (c.removal_requests > 0) rows.push(['removal requests', String(c.removal_requests)]);
  rows.push([
    'state bytes',
    `read ${c.state_bytes_read}${c.state_bytes_written === null ? '' : `, written ${c.state_bytes_written}`}`,
  ]);
  if (c.commit_guarantee) rows.push(['commit', c.commit_guarantee]);
  if (c.commit_error) rows.push(['not committed', c.commit_error]);
  return ['Changes since the last run (sync_mode changes)', ...keyValues(rows, 2)];
}

function list(report: RunReport): string[] {
  const l = report.list;
  if (!l) return [];
  const state = l.created
    ? 'created by this run'
    : l.existed === true
      ? 'existed'
      : l.existed === false
        ? 'missing'
        : 'not checked';
  const lines = [`List ${l.api_name} (${state})`];
  if (l.fields_created_types.length > 0) {
    lines.push(
      `  fields created: ${l.fields_created_types.map((f) => `${f.name} ${f.data_type}${f.length !== undefined ? `(${f.length})` : ''}`).join(', ')}`,
    );
  } else if (l.fields_created.length > 0) {
    lines.push(`  fields created: ${l.fields_created.join(', ')}`);
  }
  if (l.business_key_set) lines.push('  business key set');
  if (report.dry_run) return lines;
  const parts = [
    `${l.rows_sent} rows sent in ${count(l.requests, 'request')}`,
    `${l.inserted} inserted`,
    `${l.updated} updated`,
    `${l.failed} failed`,
  ];
  if (l.duplicates > 0) parts.push(`${l.duplicates} duplicates`);
  if (l.not_found > 0) parts.push(`${l.not_found} not found`);
  if (l.not_applied > 0) parts.push(`${l.not_applied} not applied`);
  if (l.failed_without_detail > 0) parts.push(`${l.failed_without_detail} failed without detail`);
  lines.push(`  ${parts.join(', ')}`);
  return lines;
}

function segments(report: RunReport): string[] {
  if (report.segments.length === 0) return [];
  const header = ['Segment', 'status', 'rows', 'loaded', 'failed', 'not found', 'requests', 'created', 'cleared'];
  const body = report.segments.map((s: SegmentReport) => [
    s.routing_values && s.routing_values.length > 1 ? `${s.api_name} (${s.routing_values.join(', ')})` : s.api_name,
    s.status,
    String(s.rows),
    String(s.members_loaded),
    String(s.failed + s.skipped_rejected_keys),
    String(s.not_found),
    String(s.requests),
    s.created ? 'yes' : 'no',
    s.cleared ? 'yes' : 'no',
  ]);
  const lines = [`Segments (${report.segments.length})`, ...table(header, body, [2, 3, 4, 5, 6])];
  if (report.segments.some((s) => s.skipped_rejected_keys > 0))
    lines.push('  failed includes members not loaded because their List row was rejected');
  const replaced = report.segments.filter((s) => s.replace);
  if (replaced.length > 0) {
    const body = replaced.map((s) => {
      const r = s.replace!;
      return [
        s.api_name,
        r.strategy,
        String(r.members_before),
        String(r.added),
        String(r.kept),
        String(r.removed),
        String(r.after),
        String(r.removal_requests),
        r.guard,
      ];
    });
    lines.push(
      'Replaced Segments (memberships, not input rows)',
      ...table(
        ['Segment', 'strategy', 'before', 'added', 'kept', 'removed', 'after', 'removal requests', 'guard'],
        body,
        [2, 3, 4, 5, 6, 7],
      ),
    );
    for (const s of replaced) if (s.replace!.guard_message) lines.push(`  ${s.replace!.guard_message}`);
  }
  return lines;
}

function reasons(report: RunReport, rowsFile: RowsFileCounts | undefined): string[] {
  const lines: string[] = [];
  const byReason = (title: string, counts: Record<string, number>) => {
    const entries = Object.entries(counts)
      .filter(([, n]) => n > 0)
      .sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
    if (entries.length === 0) return;
    if (lines.length > 0) lines.push('');
    lines.push(
      title,
      ...keyValues(
        entries.map(([reason, n]) => [reason, String(n)]),
        2,
      ),
    );
  };
  byReason('Skipped rows by reason', report.validation.by_reason);
  byReason('Not applied by reason', report.accounting?.not_applied_by_reason ?? {});
  for (const failure of report.failed_without_detail) {
    if (lines.length > 0) lines.push('');
    lines.push(
      `${failure.stage} ${failure.target}: ${failure.failed} of ${failure.batch_rows} rows failed without detail (input rows ${failure.first_row}-${failure.last_row})`,
    );
  }
  const file = report.rejected_rows.file;
  if (report.rejected_rows.count > 0 || file) {
    if (lines.length > 0) lines.push('');
    lines.push(`Rows file: ${count(report.rejected_rows.count, 'row')}${file ? ` in ${file}` : ''}`);
    if (rowsFile && rowsFile.byReason.length > 0) {
      const body = rowsFile.byReason.map((entry) => [entry.stage, entry.code, String(entry.rows)]);
      lines.push(...table(['stage', 'reason', 'rows'], body, [2]));
    } else if (report.rejected_rows.count > 0 && !rowsFile) {
      lines.push("  (the file could not be read here; its lines give each row's stage and reason)");
    }
  }
  return lines;
}

function plan(report: RunReport): string[] {
  const p = report.plan;
  if (!p) return [];
  const lines = ['Plan (what a real run would do)'];
  if (p.steps) {
    const body = p.steps.map((step) => [
      step.action,
      step.target,
      step.rows === undefined ? '' : String(step.rows),
      String(step.requests),
    ]);
    lines.push(...table(['request', 'for', 'rows', 'requests'], body, [2, 3]));
    lines.push(...replacePlan(p));
    lines.push(`  ${count(p.requests, 'request')} in all`);
    return lines;
  }
  if (p.list_to_create) lines.push('  create the List');
  if (p.fields_to_create.length > 0)
    lines.push(
      `  create fields: ${p.fields_to_create.map((f) => `${f.name} ${f.data_type}${f.length !== undefined ? `(${f.length})` : ''}`).join(', ')}`,
    );
  if (p.business_key_to_set) lines.push(`  set the business key: ${p.business_key_to_set.join(', ')}`);
  lines.push(`  load ${count(p.list_rows, 'row')} into the List in ${count(p.list_requests, 'request')}`);
  if (p.segments.length > 0) {
    const body = p.segments.map((s) => [
      s.api_name,
      String(s.rows),
      String(s.requests),
      s.create ? 'yes' : 'no',
      s.clear ? 'yes' : 'no',
    ]);
    lines.push(...table(['Segment', 'rows', 'requests', 'create', 'clear'], body, [1, 2]));
    lines.push(...replacePlan(p));
  }
  lines.push(`  ${count(p.requests, 'request')} in all`);
  return lines;
}

/** The replaced Segments of a dry-run plan: members now, to add, keep and remove, and the guard's verdict. */
function replacePlan(p: DryRunPlan): string[] {
  const lines: string[] = [];
  const replaced = p.segments.filter((s) => s.replace);
  if (replaced.length > 0) {
    const rows = replaced.map((s) => {
      const r = s.replace!;
      return [
        s.api_name,
        r.strategy,
        String(r.members_now),
        String(r.to_add),
        String(r.to_keep),
        String(r.to_remove),
        String(r.after),
        String(r.search_requests),
        String(r.removal_requests),
        r.guard,
      ];
    });
    lines.push(
      ...table(
        ['Segment', 'strategy', 'now', 'to add', 'to keep', 'to remove', 'after', 'searches', 'removals', 'guard'],
        rows,
        [2, 3, 4, 5, 6, 7, 8],
      ),
    );
    for (const s of replaced) if (s.replace!.guard_message) lines.push(`  ${s.replace!.guard_message}`);
  }
  return lines;
}

const STAGES: Array<[keyof StageDurations, string]> = [
  ['read', 'read and validate'],
  ['preflight', 'preflight'],
  ['list_setup', 'List set-up'],
  ['list_load', 'List load'],
  ['segment_setup', 'Segment set-up'],
  ['segment_load', 'Segment loads'],
  ['total', 'total'],
];

function durations(d: StageDurations): string[] {
  const rows = STAGES.flatMap(([key, label]): Array<[string, string]> =>
    d[key] === undefined ? [] : [[label, `${d[key].toFixed(1)} s`]],
  );
  return rows.length > 0 ? ['Durations', ...keyValues(rows, 2)] : [];
}

function requests(report: RunReport): string[] {
  const h = report.http;
  if (h.requests === 0) return [];
  const rows: Array<[string, string]> = [
    ['requests', String(h.requests)],
    ['retries', String(h.retries)],
    [
      'rate limited (429)',
      `${h.rate_limited}${h.rate_limit_waits > 0 ? `, waited ${h.rate_limit_waits} time(s), ${h.rate_limit_wait_seconds.toFixed(1)} s` : ''}`,
    ],
  ];
  if (h.pacing_wait_seconds > 0) rows.push(['paced', `${h.pacing_wait_seconds.toFixed(1)} s`]);
  if (h.list_busy_waits > 0)
    rows.push(['List busy', `waited ${h.list_busy_waits} time(s), ${h.list_busy_wait_seconds.toFixed(1)} s`]);
  if (h.split_batches > 0) rows.push(['batches split', String(h.split_batches)]);
  const statuses = Object.entries(h.by_status).sort(([x], [y]) => x.localeCompare(y));
  if (statuses.length > 0) rows.push(['by status', statuses.map(([status, n]) => `${status}: ${n}`).join(', ')]);
  const lines = ['Requests', ...keyValues(rows, 2)];
  const routes = Object.entries(h.by_route).sort((x, y) => y[1] - x[1] || x[0].localeCompare(y[0]));
  if (routes.length > 0)
    lines.push(
      '  by route:',
      ...keyValues(
        routes.map(([route, n]) => [route, String(n)]),
        4,
      ),
    );
  if (report.segment_batch_rows && report.segment_batch_rows.largest !== null) {
    const b = report.segment_batch_rows;
    lines.push(`  Segment batch rows: ${b.smallest}-${b.largest} (first ${b.initial}, limit ${b.max})`);
  }
  return lines;
}

function warnings(report: RunReport): string[] {
  if (report.warnings.length === 0) return [];
  return [
    `Warnings (${report.warnings.length})`,
    ...report.warnings.map((w) => `  ${w.code}: ${indentRest(w.message, 4)}`),
  ];
}

function count(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

function keyValues(rows: Array<[string, string]>, indent = 0): string[] {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  return rows.map(([key, value]) => `${' '.repeat(indent)}${key.padEnd(width)}  ${value}`.trimEnd());
}

/** Columns aligned; the numeric columns (by index) to the right. */
function table(header: string[], body: string[][], numeric: number[]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...body.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) =>
    '  ' +
    row
      .map((cell, i) => (numeric.includes(i) ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), ...body.map(line)];
}

function indentRest(text: string, spaces: number): string {
  return text.replace(/\n/g, `\n${' '.repeat(spaces)}`);
}
