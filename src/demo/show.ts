/** What the demo prints, as text: the input, the report, the simulator's state and the rows file. */

/** The input with the row numbers the report and the rows file use (1 = the first data row). */
export function inputText(csv: string): string {
  const [header = '', ...rows] = csv.replace(/\n$/, '').split('\n');
  const width = String(rows.length).length;
  return [
    `  ${'header'.padStart(width + 4)}  ${header}`,
    ...rows.map((row, i) => `  row ${String(i + 1).padStart(width)}  ${row}`),
  ].join('\n');
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

/** The rows file: its path and each of its lines (each row not loaded: skipped, merged, rejected or not applied). */
export function rowsFileText(path: string | null, text: string | null): string {
  if (!path) return 'no rows file: every row was loaded';
  const lines = (text ?? '').split('\n').filter(Boolean);
  return [`${path} (${lines.length} line(s)):`, ...lines.map((line) => `  ${line}`)].join('\n');
}
