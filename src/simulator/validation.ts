/**
 * Value and name validation for the simulator. All regular expressions are compiled once here; the
 * per-value checks are plain type tests so a 5,000-row load validates in a few milliseconds.
 */

import { DATA_TYPES, type DataType } from './types.js';
import { scalarText } from '../scalar-text.js';
import { API_NAME } from '../api-name.js';

export const MAX_TEXT_LENGTH = 4000;

/** An api_name of a List or Segment, or a field name (the same rule). */
export function isApiName(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 100 && API_NAME.test(value);
}

const DATA_TYPE_BY_LOWER = new Map<string, DataType>(DATA_TYPES.map((t) => [t.toLowerCase(), t]));

/** The canonical data type for a name (case-insensitive), or undefined. */
export function canonicalDataType(value: unknown): DataType | undefined {
  return typeof value === 'string' ? DATA_TYPE_BY_LOWER.get(value.toLowerCase()) : undefined;
}

// ISO-8601 checks by character codes (no regular expression per value):
//   YYYY-MM-DD[THH:MM[:SS[.fffffffff]][Z|+HH:MM|-HH:MM|+HHMM|-HHMM]]
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digits(s: string, at: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(at + i) - 48;
    if (!(c >= 0 && c <= 9)) return -1; // also NaN past the end
    v = v * 10 + c;
  }
  return v;
}

function validCalendar(y: number, m: number, d: number): boolean {
  if (m < 1 || m > 12 || d < 1) return false;
  if (d > (DAYS_IN_MONTH[m - 1] ?? 0)) return false;
  if (m === 2 && d === 29) return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  return true;
}

/** Length of a valid YYYY-MM-DD prefix (10) or -1. */
function datePart(s: string): number {
  if (s.length < 10 || s.charCodeAt(4) !== 45 || s.charCodeAt(7) !== 45) return -1;
  const y = digits(s, 0, 4);
  const m = digits(s, 5, 2);
  const d = digits(s, 8, 2);
  if (y < 0 || m < 0 || d < 0 || !validCalendar(y, m, d)) return -1;
  return 10;
}

export function isIsoDateTime(s: string): boolean {
  if (datePart(s) < 0) return false;
  const n = s.length;
  if (n === 10) return true;
  if (s.charCodeAt(10) !== 84 /* T */ || n < 16) return false;
  const hh = digits(s, 11, 2);
  const mm = digits(s, 14, 2);
  if (hh < 0 || hh > 23 || s.charCodeAt(13) !== 58 || mm < 0 || mm > 59) return false;
  let i = 16;
  if (i < n && s.charCodeAt(i) === 58 /* : */) {
    const ss = digits(s, i + 1, 2);
    if (ss < 0 || ss > 59 || i + 3 > n) return false;
    i += 3;
    if (i < n && s.charCodeAt(i) === 46 /* . */) {
      let f = 0;
      i++;
      while (i < n && f < 10) {
        const c = s.charCodeAt(i);
        if (c < 48 || c > 57) break;
        i++;
        f++;
      }
      if (f === 0 || f > 9) return false;
    }
  }
  if (i === n) return true;
  const z = s.charCodeAt(i);
  if (z === 90 /* Z */) return i + 1 === n;
  if (z !== 43 && z !== 45) return false;
  const oh = digits(s, i + 1, 2);
  if (oh < 0 || oh > 23) return false;
  let j = i + 3;
  if (j < n && s.charCodeAt(j) === 58) j++;
  const om = digits(s, j, 2);
  return om >= 0 && om <= 59 && j + 2 === n;
}

/** A Date field takes a calendar date written YYYY-MM-DD, nothing more. */
export function isIsoDate(s: string): boolean {
  return s.length === 10 && datePart(s) === 10;
}

/** DATETIME's range: 1753-01-01 .. 9999-12-31 (the four-digit year gives the upper bound). */
export const MIN_DATETIME_YEAR = 1753;

function inDateTimeRange(s: string): boolean {
  return digits(s, 0, 4) >= MIN_DATETIME_YEAR;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;
const INT_MIN = -(2 ** 31);
const INT_MAX = 2 ** 31 - 1;
const INTEGER_TEXT = /^\s*[-+]?\d+\s*$/;
const NUMBER_TEXT = /^\s*[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?\s*$/;

/** An integer as a number when it is exact as a double, else as a bigint. */
function exactInteger(v: bigint): number | bigint {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/**
 * Brings a value into the form the field stores, before it is checked: integers of a Long field that a
 * double cannot hold exactly become bigint, a bigint sent to a Float becomes a double, and with `acceptStrings`
 * (variant V11) strings for Numeric, Long, Float and Boolean fields become their typed value ("" = null).
 * A value that cannot be converted is returned unchanged, for checkValue to refuse.
 */
export function coerceValue(dataType: DataType, value: unknown, acceptStrings: boolean): unknown {
  switch (dataType) {
    case 'Long':
      if (typeof value === 'number')
        return Number.isInteger(value) && !Number.isSafeInteger(value) ? BigInt(value) : value;
      if (acceptStrings && typeof value === 'string') {
        if (value.trim() === '') return null;
        return INTEGER_TEXT.test(value) ? exactInteger(BigInt(value.trim().replace(/^\+/, ''))) : value;
      }
      return value;
    case 'Numeric':
    case 'Float':
      if (typeof value === 'bigint') return dataType === 'Float' ? Number(value) : value;
      if (acceptStrings && typeof value === 'string') {
        if (value.trim() === '') return null;
        return NUMBER_TEXT.test(value) ? Number(value) : value;
      }
      return value;
    case 'Boolean':
      if (acceptStrings && typeof value === 'string') {
        const t = value.trim().toLowerCase();
        if (t === '') return null;
        if (t === 'true' || t === '1') return true;
        if (t === 'false' || t === '0') return false;
      }
      return value;
    default:
      return value;
  }
}

export type ValueProblem =
  { code: 'InvalidType'; message: string } | { code: 'MaxStringLengthExceeded'; message: string };

export interface FieldForValidation {
  name: string;
  dataType: DataType;
  length: number | null;
  allowNull: boolean;
}

/**
 * Checks one value (after coerceValue) against a field. Returns undefined when the value fits. Accepted:
 * Boolean: true/false; Numeric: integers -2^31 .. 2^31-1; Long: integers -2^63 .. 2^63-1 (exact digits);
 * Float: finite numbers; Date: "YYYY-MM-DD"; DateTime: ISO-8601 strings from 1753-01-01 on;
 * Text/LongText: strings only (numbers and booleans are InvalidType); Json: anything. null is allowed
 * unless the field has allow_null false.
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
      return (typeof value === 'number' && Number.isSafeInteger(value)) ||
        (typeof value === 'bigint' && value >= LONG_MIN && value <= LONG_MAX)
        ? undefined
        : invalidType(field, value);
    case 'Numeric':
      return typeof value === 'number' && Number.isInteger(value) && value >= INT_MIN && value <= INT_MAX
        ? undefined
        : invalidType(field, value);
    case 'Float':
      return typeof value === 'number' && Number.isFinite(value) ? undefined : invalidType(field, value);
    case 'Boolean':
      return typeof value === 'boolean' ? undefined : invalidType(field, value);
    case 'Date':
      return typeof value === 'string' && isIsoDate(value) ? undefined : invalidType(field, value);
    case 'DateTime':
      return typeof value === 'string' && isIsoDateTime(value) && inDateTimeRange(value)
        ? undefined
        : invalidType(field, value);
    case 'Json':
      return undefined;
  }
}

function invalidType(field: FieldForValidation, value: unknown): ValueProblem {
  let shown: string;
  if (typeof value === 'string') shown = value.length > 40 ? `"${value.slice(0, 40)}..."` : `"${value}"`;
  else if (typeof value === 'object') shown = Array.isArray(value) ? 'an array' : 'an object';
  else shown = scalarText(value);
  return {
    code: 'InvalidType',
    message: `Value ${shown} is not a valid ${field.dataType} for field ${field.name}`,
  };
}
