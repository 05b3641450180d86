/**
 * Value and name validation for the simulator. All regular expressions are compiled once here; the
 * per-value checks are plain type tests so a 5,000-row load validates in a few milliseconds.
 */

import { DATA_TYPES, type DataType } from './types.js';

export const MAX_TEXT_LENGTH = 4000;

const API_NAME = /^[A-Za-z0-9_]+$/;
/** Field names follow the same rule as api names. */
const FIELD_NAME = API_NAME;

export function isApiName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 100 && API_NAME.test(value);
}

export function isFieldName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 100 && FIELD_NAME.test(value);
}

const DATA_TYPE_BY_LOWER = new Map<string, DataType>(DATA_TYPES.map((t) => [t.toLowerCase(), t]));

/** The canonical data type for a name (case-insensitive), or undefined. */
export function canonicalDataType(value: unknown): DataType | undefined {
  return typeof value === 'string' ? DATA_TYPE_BY_LOWER.get(value.toLowerCase()) : undefined;
}

// ISO-8601 calendar date, optionally followed by a time and an offset.
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validCalendar(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (d > DAYS_IN_MONTH[m - 1]) return false;
  if (m === 2 && d === 29) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return true;
}

export function isIsoDate(value: string): boolean {
  // A Date field takes a calendar date; a full ISO date-time is accepted too (its date part is what counts).
  const m = DATE_ONLY.exec(value);
  if (m) return validCalendar(+m[1], +m[2], +m[3]);
  return isIsoDateTime(value);
}

export function isIsoDateTime(value: string): boolean {
  const m = DATE_TIME.exec(value);
  if (!m) return false;
  if (!validCalendar(+m[1], +m[2], +m[3])) return false;
  if (m[4] !== undefined) {
    if (+m[4] > 23 || +m[5] > 59) return false;
    if (m[6] !== undefined && +m[6] > 59) return false;
  }
  return true;
}

/** 2^63 as a double. JSON numbers are doubles once parsed, so the check is done on the double value. */
const LONG_LIMIT = 9223372036854775808;

export type ValueProblem =
  | { code: 'InvalidType'; message: string }
  | { code: 'MaxStringLengthExceeded'; message: string };

export interface FieldForValidation {
  name: string;
  dataType: DataType;
  length: number | null;
  allowNull: boolean;
}

/**
 * Checks one value against a field. Returns undefined when the value fits. Accepted JSON types:
 * Boolean: true/false; Long: integers with -2^63 <= v < 2^63; Numeric/Float: finite numbers;
 * Date/DateTime: ISO-8601 strings; Text/LongText: strings only (numbers and booleans are InvalidType);
 * Json: anything. null is allowed unless the field has allow_null false.
 */
export function checkValue(field: FieldForValidation, value: unknown): ValueProblem | undefined {
  if (value === null) {
    return field.allowNull
      ? undefined
      : { code: 'InvalidType', message: `Field ${field.name} does not allow null values` };
  }
  switch (field.dataType) {
    case 'Text': {
      if (typeof value !== 'string') return invalidType(field, value);
      const max = field.length ?? MAX_TEXT_LENGTH;
      if (value.length > max) {
        return {
          code: 'MaxStringLengthExceeded',
          message: `Length of string (${value.length}) exceeds maximum field length (${max})`,
        };
      }
      return undefined;
    }
    case 'LongText':
      return typeof value === 'string' ? undefined : invalidType(field, value);
    case 'Long':
      return typeof value === 'number' && Number.isInteger(value) && value >= -LONG_LIMIT && value < LONG_LIMIT
        ? undefined
        : invalidType(field, value);
    case 'Numeric':
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : invalidType(field, value);
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : invalidType(field, value);
    case 'Date':
      return typeof value === 'string' && isIsoDate(value) ? undefined : invalidType(field, value);
    case 'DateTime':
      return typeof value === 'string' && isIsoDateTime(value) ? undefined : invalidType(field, value);
    case 'Json':
      return undefined;
  }
}

function invalidType(field: FieldForValidation, value: unknown): ValueProblem {
  let shown: string;
  if (typeof value === 'string') shown = value.length > 40 ? `"${value.slice(0, 40)}..."` : `"${value}"`;
  else if (typeof value === 'object') shown = Array.isArray(value) ? 'an array' : 'an object';
  else shown = String(value);
  return {
    code: 'InvalidType',
    message: `Value ${shown} is not a valid ${field.dataType} for field ${field.name}`,
  };
}
