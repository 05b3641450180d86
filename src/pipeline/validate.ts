import { convertValue, widen } from '../schema/types.js';
import type { RawRow } from '../source/raw-rows.js';
import type { ColumnPlan } from './columns.js';
import { API_NAME } from '../api-name.js';

export type SkipReason =
  | 'field_count'
  | 'malformed_row'
  | 'unknown_field'
  | 'segment_blank'
  | 'segment_invalid'
  | 'key_blank'
  | 'type_mismatch'
  | 'nul_byte'
  | 'blank_row';

export type Verdict =
  { ok: true; cells: string[] } | { ok: false; reason: SkipReason; column: string | null; message: string };

/**
 * Spec 3.1: a row is invalid when its Segment value is blank or not an api_name, a key field is blank,
 * or a value does not fit its column's type; also when the reader could not split it into the header's
 * columns. While types are inferred, a valid row widens them instead.
 */
export function validateRow(row: RawRow, plan: ColumnPlan): Verdict {
  if (!Array.isArray(row)) return { ok: false, reason: row.reason, column: null, message: row.problem };
  if (row.length !== plan.width) {
    if (isBlank(row)) return BLANK;
    return {
      ok: false,
      reason: 'field_count',
      column: null,
      message: `has ${row.length} value(s), the header has ${plan.width}`,
    };
  }
  const segment = row[plan.segmentIndex]!;
  if (segment.trim() === '') {
    if (isBlank(row)) return BLANK;
    return { ok: false, reason: 'segment_blank', column: segmentName(plan), message: 'the Segment value is blank' };
  }
  if (!API_NAME.test(segment)) {
    return {
      ok: false,
      reason: 'segment_invalid',
      column: segmentName(plan),
      message: `${JSON.stringify(truncate(segment))} is not a Segment api_name (letters, digits and underscores only)`,
    };
  }
  for (const key of plan.keys) {
    if (row[key.index]!.trim() === '')
      return { ok: false, reason: 'key_blank', column: key.name, message: `key field ${key.field} is blank` };
  }
  for (let i = 0; i < row.length; i++) {
    if (row[i]!.includes('\0'))
      return { ok: false, reason: 'nul_byte', column: columnName(plan, i), message: 'a value contains a NUL byte' };
  }
  const inferred = plan.inferred;
  const fields = plan.fields;
  const longest = plan.longest ?? [];
  for (let i = 0; i < fields.length; i++) {
    const column = fields[i]!;
    const text = row[column.index]!;
    if (text === '') continue;
    // A row refused further on may count here too: a field a little longer than needed is harmless.
    if (text.length > longest[i]!) longest[i] = text.length;
    if (inferred) {
      inferred[i] = widen(inferred[i]!, text);
    } else if (column.type !== 'string') {
      const conversion = convertValue(text, column.type);
      if (!conversion.ok)
        return {
          ok: false,
          reason: 'type_mismatch',
          column: column.name,
          message: `${column.field} (${column.type}): ${conversion.reason}`,
        };
    }
  }
  return { ok: true, cells: row };
}

/** A record whose every value is empty or spaces (`,,,,`): a row of the input, invalid as a whole. */
const BLANK: Verdict = {
  ok: false,
  reason: 'blank_row',
  column: null,
  message: 'the row is blank (every value is empty)',
};

function isBlank(row: string[]): boolean {
  for (const cell of row) if (cell.trim() !== '') return false;
  return true;
}

function segmentName(plan: ColumnPlan): string {
  return columnName(plan, plan.segmentIndex);
}

function columnName(plan: ColumnPlan, index: number): string {
  if (index === plan.segmentIndex) return plan.segmentColumn;
  return plan.fields.find((column) => column.index === index)?.name ?? String(index + 1);
}

function truncate(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
