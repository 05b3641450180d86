import { copyBytes } from '../byte-copy.js';
import { daysInMonth, type ColumnType } from './types.js';

/**
 * The forms most typed values of a query result come in, recognised and written on bytes: every List
 * row passes through here, and making a string of each value only to convert it was a large part of
 * the List stage's time. Each form writes exactly the bytes convertValue's JSON would be, so row
 * hashes recorded by earlier runs still match; anything else is left to convertValue.
 */

/** How a value's bytes become the JSON Selligent takes; NOT_PLAIN: through convertValue. */
export type PlainForm =
  typeof NOT_PLAIN | typeof AS_IS | typeof QUOTED_DAY | typeof TIMESTAMP_OF_DAY | typeof TIMESTAMP;

export const NOT_PLAIN = 0;
/** The bytes themselves: a number as JSON writes it, `true`, `false`. */
export const AS_IS = 1;
/** `"YYYY-MM-DD"`: the first 10 bytes, quoted. */
export const QUOTED_DAY = 2;
/** `"YYYY-MM-DDT00:00:00.000Z"`, from a bare date. */
export const TIMESTAMP_OF_DAY = 3;
/** `"YYYY-MM-DDThh:mm:ss.000Z"`, from `YYYY-MM-DD hh:mm:ss` or `YYYY-MM-DDThh:mm:ss`. */
export const TIMESTAMP = 4;

const ZERO = 0x30;
const NINE = 0x39;
const MINUS = 0x2d;
const DOT = 0x2e;
const SPACE = 0x20;
const T = 0x54;
const COLON = 0x3a;
/** Selligent's DateTime starts in 1753 (SQL Server's DATETIME); earlier years go to convertValue, which refuses them. */
const DATETIME_FIRST_YEAR = 1753;
/** At most 15 digits: the same bound as convertValue's plain numbers (exact as a double, within a long). */
const MAX_DIGITS = 15;

/** The plain form of the value `data[start, end)` (its bytes, no quotes) for a column of `type`. */
export function plainForm(data: Uint8Array, start: number, end: number, type: ColumnType): PlainForm {
  switch (type) {
    case 'long':
      return plainInteger(data, start, end) === end ? AS_IS : NOT_PLAIN;
    case 'double': {
      const integerEnd = plainInteger(data, start, end, true);
      if (integerEnd === end) return AS_IS;
      if (integerEnd < 0 || data[integerEnd] !== DOT) return NOT_PLAIN;
      const fraction = digitsUpTo(data, integerEnd + 1, end);
      return fraction === end && fraction - integerEnd - 1 >= 1 && fraction - integerEnd - 1 <= MAX_DIGITS
        ? AS_IS
        : NOT_PLAIN;
    }
    case 'boolean':
      return isWord(data, start, end, TRUE) || isWord(data, start, end, FALSE) ? AS_IS : NOT_PLAIN;
    case 'timestamp': {
      const length = end - start;
      if (length === 10) return dayYear(data, start) >= DATETIME_FIRST_YEAR ? TIMESTAMP_OF_DAY : NOT_PLAIN;
      if (length === 19) return dayTimeYear(data, start) >= DATETIME_FIRST_YEAR ? TIMESTAMP : NOT_PLAIN;
      return NOT_PLAIN;
    }
    case 'date': {
      const length = end - start;
      if (length === 10) return dayYear(data, start) >= 0 ? QUOTED_DAY : NOT_PLAIN;
      if (length === 19) return dayTimeYear(data, start) >= 0 ? QUOTED_DAY : NOT_PLAIN;
      return NOT_PLAIN;
    }
    default:
      return NOT_PLAIN;
  }
}

/** The length of what writePlain writes for a value of `length` bytes in `form`. */
export function plainLength(form: PlainForm, length: number): number {
  switch (form) {
    case QUOTED_DAY:
      return 12;
    case TIMESTAMP_OF_DAY:
    case TIMESTAMP:
      return 26;
    default:
      return length;
  }
}

/** Writes the value `data[start, end)` in `form` into `out` at `at`; returns the bytes written. */
export function writePlain(
  form: PlainForm,
  data: Uint8Array,
  start: number,
  end: number,
  out: Uint8Array,
  at: number,
): number {
  switch (form) {
    case AS_IS:
      return copyBytes(data, start, end, out, at);
    case QUOTED_DAY:
      out[at] = QUOTE;
      copyBytes(data, start, start + 10, out, at + 1);
      out[at + 11] = QUOTE;
      return 12;
    case TIMESTAMP_OF_DAY:
      out[at] = QUOTE;
      copyBytes(data, start, start + 10, out, at + 1);
      copyBytes(MIDNIGHT_SUFFIX, 0, MIDNIGHT_SUFFIX.length, out, at + 11);
      return 26;
    case TIMESTAMP:
      out[at] = QUOTE;
      copyBytes(data, start, start + 10, out, at + 1);
      out[at + 11] = T;
      copyBytes(data, start + 11, start + 19, out, at + 12);
      copyBytes(MILLIS_SUFFIX, 0, MILLIS_SUFFIX.length, out, at + 20);
      return 26;
    default:
      throw new Error(`writePlain: form ${form} has no plain bytes`);
  }
}

const QUOTE = 0x22;
const TRUE = Buffer.from('true');
const FALSE = Buffer.from('false');
const MIDNIGHT_SUFFIX = Buffer.from('T00:00:00.000Z"');
const MILLIS_SUFFIX = Buffer.from('.000Z"');

/**
 * Where an integer as JSON writes it ends (`0` or `-?[1-9]` then at most 14 digits), or -1. A long
 * refuses `-0`, which a double takes (`allowNegativeZero`).
 */
function plainInteger(data: Uint8Array, start: number, end: number, allowNegativeZero = false): number {
  let at = start;
  const negative = data[at] === MINUS;
  if (negative) at++;
  if (at >= end) return -1;
  if (data[at] === ZERO) return negative && !allowNegativeZero ? -1 : at + 1;
  const digitsEnd = digitsUpTo(data, at, end);
  return digitsEnd > at && digitsEnd - at <= MAX_DIGITS ? digitsEnd : -1;
}

/** The end of the run of digits starting at `from`. */
function digitsUpTo(data: Uint8Array, from: number, end: number): number {
  let at = from;
  while (at < end && data[at]! >= ZERO && data[at]! <= NINE) at++;
  return at;
}

function isWord(data: Uint8Array, start: number, end: number, word: Buffer): boolean {
  if (end - start !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (data[start + i] !== word[i]) return false;
  return true;
}

function digit(data: Uint8Array, at: number): number {
  const code = data[at]!;
  return code >= ZERO && code <= NINE ? code - ZERO : -1;
}

function twoDigits(data: Uint8Array, at: number): number {
  const high = digit(data, at);
  const low = digit(data, at + 1);
  return high < 0 || low < 0 ? -1 : high * 10 + low;
}

/** The year of `YYYY-MM-DD` when it is a real day, else -1. */
function dayYear(data: Uint8Array, start: number): number {
  if (data[start + 4] !== MINUS || data[start + 7] !== MINUS) return -1;
  const century = twoDigits(data, start);
  const yearInCentury = twoDigits(data, start + 2);
  const month = twoDigits(data, start + 5);
  const day = twoDigits(data, start + 8);
  if (century < 0 || yearInCentury < 0 || month < 1 || month > 12 || day < 1) return -1;
  const year = century * 100 + yearInCentury;
  return day <= daysInMonth(year, month) ? year : -1;
}

/** The year of `YYYY-MM-DD hh:mm:ss` (or with a `T`) when it is a real day and time, else -1. */
function dayTimeYear(data: Uint8Array, start: number): number {
  const year = dayYear(data, start);
  if (year < 0) return -1;
  if (
    (data[start + 10] !== SPACE && data[start + 10] !== T) ||
    data[start + 13] !== COLON ||
    data[start + 16] !== COLON
  )
    return -1;
  const hour = twoDigits(data, start + 11);
  const minute = twoDigits(data, start + 14);
  const second = twoDigits(data, start + 17);
  return hour >= 0 && hour <= 23 && minute >= 0 && minute <= 59 && second >= 0 && second <= 59 ? year : -1;
}
