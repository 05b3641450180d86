/** What the demo prints, as text: the input, the report, the simulator's state and the rejected-rows file. */
import { summaryLine } from '../report/summary.js';
import type { RunReport } from '../report/types.js';

/** The input with the row numbers the report and the rejected-rows file use (1 = the first data row). */
export function inputText(csv: string): string {
  const [header = '', ...rows] = csv.replace(/\n$/, '').split('\n');
  const width = String(rows.length).length;
  return [
    `  ${'header'.padStart(width + 4)}  ${header}`,
    ...rows.map((row, i) => `  row ${String(i + 1).padStart(width)}  ${row}`),
  ].join('\n');
}

/** The summary line and the report's accounting of the input rows. */
export function reportSummary(report: RunReport, reportPath: string): string {
  const lines = [summaryLine(report, reportPath)];
  const a = report.accounting;
  if (!a) return lines.concat('(no accounting: the run stopped before the rows were read)').join('\n');
  const reasons = (byReason: Record<string, number>) => {
    const entries = Object.entries(byReason).filter(([, n]) => n > 0);
    return entries.length ? `  (${entries.map(([reason, n]) => `${reason}: ${n}`).join(', ')})` : '';
  };
  const figures: Array<[string, number | string, string]> = [
    ['input rows', a.input_rows, ''],
    ['skipped by validation', a.skipped, reasons(report.validation.by_reason)],
    ['merged duplicates', a.merged_duplicates, a.merged_duplicates ? `  (${report.deduplication.strategy})` : ''],
    ['rejected by Selligent', a.rejected, ''],
    ['not applied', a.not_applied, reasons(a.not_applied_by_reason)],
    [
      'loaded into the List',
      a.loaded,
      report.list ? `  (${report.list.inserted} inserted, ${report.list.updated} updated)` : '',
    ],
    ['balanced', a.balanced ? 'yes' : 'NO', ''],
  ];
  lines.push('accounting:');
  for (const [name, value, note] of figures) lines.push(`  ${name.padEnd(22)}${String(value).padStart(5)}${note}`);
  for (const segment of report.segments) {
    lines.push(
      `  Segment ${segment.api_name}: ${segment.members_loaded} of ${segment.rows} row(s) loaded${segment.created ? ' (created)' : ''}, ${segment.status}`,
    );
  }
  return lines.join('\n');
}

/** The parts of the simulator's state (GET /__simulator/state) the demo shows. */
export interface SimulatorState {
  lists?: Array<{
    organization?: string;
    api_name: string;
    records?: Array<Record<string, unknown>>;
    segments?: Array<{ api_name: string; type?: string; members?: Array<number | Record<string, unknown>> }>;
  }>;
}

/** The List's records (fields that hold a value) and each Segment's members by key. */
export function stateText(state: SimulatorState, list: string, keyField: string): string {
  const found = state.lists?.find((l) => l.api_name.toLowerCase() === list.toLowerCase());
  if (!found) return `List ${list} is not in the simulator`;
  const records = found.records ?? [];
  const keyOf = new Map(records.map((record) => [record.ID, String(record[keyField])]));
  const lines = [`List ${found.api_name}: ${records.length} record(s)`];
  for (const record of records) {
    const values = Object.entries(record).filter(
      ([name, value]) => name !== 'ID' && value !== null && value !== undefined,
    );
    lines.push(
      `  ID ${String(record.ID).padEnd(3)} ${values.map(([name, value]) => `${name}=${String(value)}`).join(' ')}`,
    );
  }
  for (const segment of found.segments ?? []) {
    const members = (segment.members ?? []).map((member) =>
      typeof member === 'number' ? (keyOf.get(member) ?? `ID ${member}`) : JSON.stringify(member),
    );
    lines.push(
      `Segment ${segment.api_name}${segment.type && segment.type !== 'Static' ? ` (${segment.type})` : ''}: ${members.length} member(s)${members.length ? `: ${members.join(', ')}` : ''}`,
    );
  }
  return lines.join('\n');
}

/** The rejected-rows file: its path and each of its lines. */
export function rowsFileText(path: string | null, text: string | null): string {
  if (!path) return 'no rejected-rows file: no row was skipped or rejected';
  const lines = (text ?? '').split('\n').filter(Boolean);
  return [`${path} (${lines.length} line(s)):`, ...lines.map((line) => `  ${line}`)].join('\n');
}
