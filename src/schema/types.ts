/**
 * Column types: Treasure Data's five (the names its Selligent export knows), the Presto/Trino/Hive names
 * behind them, inference from values, and conversion of a text value to the JSON scalar Selligent takes.
 * All pure functions.
 */

/**
 * Treasure Data's five, plus `date` (a schema's date column, loaded as a Selligent Date) and `numeric`
 * (never an input type: how values are sent to an existing List's 32-bit Numeric field).
 */
export type ColumnType = 'string' | 'long' | 'double' | 'boolean' | 'timestamp' | 'date' | 'numeric';

export type SelligentFieldType = 'Text' | 'Long' | 'Float' | 'Boolean' | 'DateTime' | 'Date' | 'Numeric';

/** Selligent's largest Text; longer values need LongText. */
export const MAX_TEXT_LENGTH = 4000;
/**
 * Lengths a created Text field is given: the first that holds the longest value seen. Nothing below
 * 255, so the usual short texts (names, e-mail addresses) have room for longer values in later runs.
 */
const TEXT_LENGTH_STEPS = [255, 500, 1000, 2000, MAX_TEXT_LENGTH];

/** The Text (or LongText) field for a text column whose longest value has `longest` characters. */
export function textFieldFor(longest: number): { data_type: 'Text'; length: number } | { data_type: 'LongText' } {
  const length = TEXT_LENGTH_STEPS.find((step) => step >= longest);
  return length === undefined ? { data_type: 'LongText' } : { data_type: 'Text', length };
}

export const FIELD_TYPE_FOR: Record<ColumnType, SelligentFieldType> = {
  string: 'Text',
  long: 'Long',
  double: 'Float',
  boolean: 'Boolean',
  timestamp: 'DateTime',
  date: 'Date',
  numeric: 'Numeric',
};

/** Selligent field types an input column of each type may load into. */
export const COMPATIBLE_FIELD_TYPES: Record<ColumnType, readonly string[]> = {
  string: ['Text', 'LongText', 'Json'],
  long: ['Long', 'Numeric', 'Float', 'Text', 'LongText'],
  double: ['Float', 'Numeric', 'Text', 'LongText'],
  boolean: ['Boolean', 'Text', 'LongText'],
  timestamp: ['DateTime', 'Date', 'Text', 'LongText'],
  date: ['Date', 'DateTime', 'Text', 'LongText'],
  numeric: ['Numeric', 'Long', 'Float', 'Text', 'LongText'],
};

/**
 * Maps a type name from a query result schema (TD, Presto/Trino, Hive) to a column type, or undefined
 * for a name this exporter does not know.
 */
export function columnTypeFromName(name: string): ColumnType | undefined {
  const base = name
    .trim()
    .toLowerCase()
    .replace(/\s*\(.*$/, '')
    .replace(/\s+with(out)?\s+time\s+zone$/, '');
  if (/^(array|map|row|struct|json|uuid|ipaddress|varbinary|binary)\b/.test(base)) return 'string';
  switch (base) {
    case 'string':
    case 'varchar':
    case 'char':
    case 'text':
      return 'string';
    case 'long':
    case 'bigint':
    case 'int':
    case 'integer':
    case 'smallint':
    case 'tinyint':
      return 'long';
    case 'double':
    case 'float':
    case 'real':
    case 'decimal':
    case 'numeric':
      return 'double';
    case 'boolean':
    case 'bool':
      return 'boolean';
    case 'timestamp':
    case 'datetime':
      return 'timestamp';
    case 'date':
      return 'date';
    default:
      return undefined;
  }
}

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

export function isLong(text: string): boolean {
  if (!INTEGER.test(text)) return false;
  const digits = text.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
  if (digits.length < 19) return true;
  if (digits.length > 19) return false;
  const value = BigInt(text);
  return value >= INT64_MIN && value <= INT64_MAX;
}

export function isDouble(text: string): boolean {
  return DECIMAL.test(text) && Number.isFinite(Number(text));
}

const BOOLEAN_TEXT: Record<string, boolean> = { true: true, false: false, t: true, f: false, '1': true, '0': false };

// 2026-05-01, 2026-05-01 10:15, 2026-05-01T10:15:00.123, optionally followed by Z, UTC, or an offset.
const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Parses the timestamp forms TD and Presto produce into ISO-8601 UTC, or undefined. Times without a zone are UTC. */
export function parseTimestamp(text: string): string | undefined {
  const fast = fastTimestamp(text);
  if (fast !== undefined) return fast === false ? undefined : fast;
  const match = TIMESTAMP.exec(text);
  if (!match) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', fraction = '', zone = ''] = match;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    return undefined;
  }
  let offsetMinutes = 0;
  const upperZone = zone.toUpperCase();
  if (upperZone && upperZone !== 'Z' && upperZone !== 'UTC' && upperZone !== 'GMT') {
    const sign = upperZone.startsWith('-') ? -1 : 1;
    const digits = upperZone.slice(1).replace(':', '');
    const zoneHours = Number(digits.slice(0, 2));
    const zoneMinutes = Number(digits.slice(2) || '0');
    if (zoneHours > 23 || zoneMinutes > 59) return undefined;
    offsetMinutes = sign * (zoneHours * 60 + zoneMinutes);
  }
  const millis = Number(fraction.padEnd(3, '0').slice(0, 3));
  // Date.UTC reads years 0-99 as 1900-1999; setUTCFullYear does not.
  const date = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, millis));
  date.setUTCFullYear(year);
  const epoch = date.getTime() - offsetMinutes * 60_000;
  return Number.isNaN(epoch) ? undefined : new Date(epoch).toISOString();
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1]!;
}

/**
 * The form Treasure Data writes (`2026-05-01 10:15:00`, or a bare date) without a regular expression
 * or a Date: it is most of the timestamps a run sees. `undefined` = not this form, `false` = this form
 * but not a real date or time.
 */
function fastTimestamp(text: string): string | false | undefined {
  const length = text.length;
  if (length !== 19 && length !== 10) return undefined;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return undefined;
  if (
    length === 19 &&
    ((text.charCodeAt(10) !== 32 && text.charCodeAt(10) !== 84) ||
      text.charCodeAt(13) !== 58 ||
      text.charCodeAt(16) !== 58)
  )
    return undefined;
  const digits = length === 19 ? [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18] : [0, 1, 2, 3, 5, 6, 8, 9];
  for (const position of digits) {
    const code = text.charCodeAt(position);
    if (code < 48 || code > 57) return undefined;
  }
  const number = (from: number) => (text.charCodeAt(from) - 48) * 10 + (text.charCodeAt(from + 1) - 48);
  const year = number(0) * 100 + number(2);
  const month = number(5);
  const day = number(8);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (length === 10) return `${text}T00:00:00.000Z`;
  if (number(11) > 23 || number(14) > 59 || number(17) > 59) return false;
  return `${text.slice(0, 10)}T${text.slice(11)}.000Z`;
}

/**
 * Numbers already written as JSON writes them (most values of a query result) pass as they are; a long
 * of at most 15 digits cannot leave the 64-bit range, a decimal of at most 15 significant digits is
 * exact as a double.
 */
const PLAIN_INTEGER = /^(?:0|-?[1-9]\d{0,14})$/;
const PLAIN_DECIMAL = /^-?(?:0|[1-9]\d{0,14})(?:\.\d{1,15})?$/;

export type Conversion = { ok: true; json: string } | { ok: false; reason: string };

/**
 * A non-empty text value as the JSON text of the scalar Selligent takes for the column type. Numbers
 * keep their digits as written (a 19-digit long must not pass through a double).
 */
export function convertValue(text: string, type: ColumnType): Conversion {
  switch (type) {
    case 'string':
      return { ok: true, json: JSON.stringify(text) };
    case 'long': {
      if (PLAIN_INTEGER.test(text)) return { ok: true, json: text };
      const trimmed = text.trim();
      if (isLong(trimmed)) return { ok: true, json: canonicalInteger(trimmed) };
      if (INTEGER.test(trimmed)) return { ok: false, reason: `${abbreviate(trimmed)} does not fit a 64-bit long` };
      return { ok: false, reason: `${abbreviate(text)} is not a whole number` };
    }
    case 'double': {
      if (PLAIN_DECIMAL.test(text)) return { ok: true, json: text };
      const trimmed = text.trim();
      if (isDouble(trimmed)) return { ok: true, json: canonicalDecimal(trimmed) };
      if (/^[+-]?(nan|inf(inity)?)$/i.test(trimmed)) return { ok: false, reason: `${trimmed} is not a finite number` };
      return { ok: false, reason: `${abbreviate(text)} is not a number` };
    }
    case 'boolean': {
      const value = BOOLEAN_TEXT[text.trim().toLowerCase()];
      return value === undefined
        ? { ok: false, reason: `${abbreviate(text)} is not true or false` }
        : { ok: true, json: value ? 'true' : 'false' };
    }
    case 'timestamp': {
      const iso = parseTimestamp(text.trim());
      if (!iso)
        return {
          ok: false,
          reason: `${abbreviate(text)} is not a timestamp (expected e.g. 2026-05-01 10:15:00 or ISO-8601)`,
        };
      // Selligent's DateTime is SQL Server's DATETIME: nothing before 1753 or after 9999.
      if (iso < DATETIME_MIN || !/^\d/.test(iso))
        return { ok: false, reason: `${abbreviate(text)} is outside the DateTime range ${DATETIME_MIN}..9999-12-31` };
      return { ok: true, json: `"${iso}"` };
    }
    case 'date': {
      const iso = parseTimestamp(text.trim());
      if (!iso || !/^\d/.test(iso))
        return { ok: false, reason: `${abbreviate(text)} is not a date (expected e.g. 2026-05-01)` };
      // A Date holds the day only: the UTC date of a timestamp.
      return { ok: true, json: `"${iso.slice(0, 10)}"` };
    }
    case 'numeric': {
      // A Numeric field is a 32-bit INT: a fraction or a larger number would be cut or refused there.
      const trimmed = text.trim();
      const value = isDouble(trimmed) ? Number(trimmed) : NaN;
      if (Number.isNaN(value)) return { ok: false, reason: `${abbreviate(text)} is not a whole number` };
      if (!Number.isInteger(value))
        return { ok: false, reason: `${abbreviate(text)} has a fraction; a Numeric field holds whole numbers only` };
      if (value < INT32_MIN || value > INT32_MAX)
        return {
          ok: false,
          reason: `${abbreviate(text)} is outside the 32-bit range of a Numeric field (${INT32_MIN}..${INT32_MAX})`,
        };
      return { ok: true, json: String(value === 0 ? 0 : value) };
    }
  }
}

const DATETIME_MIN = '1753-01-01';
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/**
 * How a key value is compared when rows are deduplicated: the form Selligent stores for the key's type,
 * so that 7, 007 and +7 in a Long key are one record here as they are there. Undefined for text (compared
 * as written). A value that does not convert keeps its text (such a row is invalid anyway).
 */
export function keyForm(type: ColumnType): ((text: string) => string) | undefined {
  switch (type) {
    case 'string':
      return undefined;
    case 'long':
      return (text) => {
        if (PLAIN_INTEGER.test(text)) return text;
        const trimmed = text.trim();
        return isLong(trimmed) ? canonicalInteger(trimmed) : text;
      };
    case 'double':
      return (text) => {
        const trimmed = text.trim();
        return isDouble(trimmed) ? String(Number(trimmed)) : text;
      };
    default:
      return (text) => {
        const conversion = convertValue(text, type);
        return conversion.ok ? conversion.json : text;
      };
  }
}

function canonicalInteger(text: string): string {
  const negative = text.startsWith('-');
  const digits = text.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '');
  return negative && digits !== '0' ? `-${digits}` : digits;
}

function canonicalDecimal(text: string): string {
  // JSON has no leading "+", no leading ".", no trailing "."; anything else passes as written.
  let value = text.startsWith('+') ? text.slice(1) : text;
  value = value.replace(/^(-?)\./, '$10.').replace(/\.(?=[eE]|$)/, '');
  value = value.replace(/^(-?)0+(?=\d)/, '$1');
  return value;
}

function abbreviate(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 37)}...` : text);
}

/**
 * Inference: each column starts as the narrowest type and widens as values arrive (long -> double ->
 * string; boolean and timestamp fall back to string). A column becomes a number only when every value is
 * written the way the number will be stored: a value whose text would change on the way (a leading zero
 * as in 007, a leading "+" as in a phone number +8190..., exponent notation as in a code 12E3, surrounding
 * spaces, "-0", more digits than a Float keeps) keeps the column text. Trailing zeros of a fraction
 * (12.50) are the one accepted change: the number is the same. A schema, when given, decides instead.
 */
export type InferredType = ColumnType | 'unknown';

export function widen(current: InferredType, text: string): InferredType {
  if (current === 'string') return 'string';
  return joinInferred(current, classify(text));
}

/** The narrowest type both values fit: how the types seen in different parts of the input combine. */
export function joinInferred(a: InferredType, b: InferredType): InferredType {
  if (a === 'unknown' || a === b) return b;
  if (b === 'unknown') return a;
  if ((a === 'long' && b === 'double') || (a === 'double' && b === 'long')) return 'double';
  return 'string';
}

/** Numbers exactly as JSON and Selligent write them back. */
const ROUND_TRIP_LONG = /^-?(?:0|[1-9]\d*)$/;
const ROUND_TRIP_DECIMAL = /^-?(?:0|[1-9]\d*)\.\d+$/;
/** A Float keeps 15 significant digits. */
const FLOAT_DIGITS = 15;

function classify(value: string): ColumnType {
  if (value === '') return 'string';
  if (ROUND_TRIP_LONG.test(value)) return value !== '-0' && isLong(value) ? 'long' : 'string';
  if (ROUND_TRIP_DECIMAL.test(value)) return significantDigits(value) <= FLOAT_DIGITS ? 'double' : 'string';
  const lower = value.toLowerCase();
  if (lower === 'true' || lower === 'false') return 'boolean';
  if (/^\d{4}-\d{2}-\d{2}/.test(value) && parseTimestamp(value)) return 'timestamp';
  return 'string';
}

function significantDigits(decimal: string): number {
  return decimal.replace(/[-.]/g, '').replace(/^0+/, '').replace(/0+$/, '').length;
}
