import { isLong, joinInferred, type InferredType } from '../schema/types.js';

/** A number with this many digits may not survive a double: it is read as text instead. */
const LONG_DIGITS = /\d{16}/;
const BIG_INTEGER_MARK = '\u0000bigint:';

/** A JSON Lines record's value, with every integer of 16 or more digits kept as text; throws as JSON.parse does. */
export function parseJsonLine(line: string): unknown {
  return JSON.parse(LONG_DIGITS.test(line) ? protectBigIntegers(line) : line);
}

/**
 * Wraps integer literals of 16 or more digits in quotes (with a mark) before JSON.parse, which would
 * round them to a double: a 64-bit customer id must keep its digits. Text inside strings is untouched.
 */
export function protectBigIntegers(line: string): string {
  let out = '';
  let start = 0;
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (inString) {
      if (c === 92) i++;
      else if (c === 34) inString = false;
      continue;
    }
    if (c === 34) {
      inString = true;
      continue;
    }
    if (c !== 45 && !isDigit(c)) continue;
    // A whole number token: sign, digits, then any fraction or exponent.
    let end = c === 45 ? i + 1 : i;
    while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    const digits = end - (c === 45 ? i + 1 : i);
    let integer = true;
    if (line.charCodeAt(end) === 46) {
      integer = false;
      end++;
      while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    }
    if (line.charCodeAt(end) === 101 || line.charCodeAt(end) === 69) {
      integer = false;
      end++;
      if (line.charCodeAt(end) === 43 || line.charCodeAt(end) === 45) end++;
      while (end < line.length && isDigit(line.charCodeAt(end))) end++;
    }
    if (integer && digits >= 16) {
      // The mark is written as the JSON escape \u0000, which JSON.parse turns into the character.
      out += `${line.slice(start, i)}"\\u0000bigint:${line.slice(i, end)}"`;
      start = end;
    }
    i = end - 1;
  }
  return out + line.slice(start);
}

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

/** A parsed JSON value as cell text: a protected integer as its digits, an object or array as its JSON. */
export function jsonCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string')
    return value.startsWith(BIG_INTEGER_MARK) ? value.slice(BIG_INTEGER_MARK.length) : value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** `current` widened by the type a parsed JSON value implies; a protected integer is a long if it fits in 64 bits. */
export function widenNative(current: InferredType, value: unknown): InferredType {
  if (value === null || value === undefined || current === 'string') return current;
  const kind: InferredType =
    typeof value === 'boolean'
      ? 'boolean'
      : typeof value === 'number'
        ? Number.isSafeInteger(value)
          ? 'long'
          : 'double'
        : typeof value === 'string' && value.startsWith(BIG_INTEGER_MARK)
          ? isLong(value.slice(BIG_INTEGER_MARK.length))
            ? 'long'
            : 'string'
          : 'string';
  return joinInferred(current, kind);
}
