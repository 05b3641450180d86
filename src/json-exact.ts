/**
 * JSON with exact integers. A Long (64-bit) value past 2^53 cannot go through a double without changing, so
 * a body whose native parse holds an integer at or past 2^53 is parsed again by a small parser that keeps
 * such integers as bigint with their exact digits. Serialization writes bigints as plain digits.
 */

/**
 * Whether a parsed value holds an integer a double cannot hold exactly. An integer literal below 2^53
 * parses exactly, so only these can have lost digits (a huge double such as 1e300 also counts; it only
 * costs the slower parse).
 */
function hasUnsafeInteger(v: unknown): boolean {
  if (typeof v === 'number') return Number.isInteger(v) && !Number.isSafeInteger(v);
  if (v === null || typeof v !== 'object') return false;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const x: unknown = v[i];
      if (
        typeof x === 'number'
          ? Number.isInteger(x) && !Number.isSafeInteger(x)
          : x !== null && typeof x === 'object' && hasUnsafeInteger(x)
      )
        return true;
    }
    return false;
  }
  for (const x of Object.values(v)) if (hasUnsafeInteger(x)) return true;
  return false;
}

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;

class ExactParser {
  i = 0;
  constructor(private readonly s: string) {}

  fail(what: string): never {
    throw new SyntaxError(`${what} at position ${this.i}`);
  }

  ws(): void {
    const s = this.s;
    while (this.i < s.length) {
      const c = s.charCodeAt(this.i);
      if (c === 32 || c === 10 || c === 13 || c === 9) this.i++;
      else break;
    }
  }

  value(): unknown {
    this.ws();
    const s = this.s;
    const c = s[this.i];
    switch (c) {
      case '[': {
        this.i++;
        const out: unknown[] = [];
        this.ws();
        if (s[this.i] === ']') {
          this.i++;
          return out;
        }
        for (;;) {
          out.push(this.value());
          this.ws();
          const d = s[this.i++];
          if (d === ']') return out;
          if (d !== ',') this.fail(d === undefined ? 'Unexpected end of JSON input' : `Unexpected token ${d}`);
        }
      }
      case '{': {
        this.i++;
        const out: Record<string, unknown> = {};
        this.ws();
        if (s[this.i] === '}') {
          this.i++;
          return out;
        }
        for (;;) {
          this.ws();
          if (s[this.i] !== '"') this.fail('Expected a property name');
          const key = this.string();
          this.ws();
          if (s[this.i++] !== ':') this.fail("Expected ':'");
          out[key] = this.value();
          this.ws();
          const d = s[this.i++];
          if (d === '}') return out;
          if (d !== ',') this.fail(d === undefined ? 'Unexpected end of JSON input' : `Unexpected token ${d}`);
        }
      }
      case '"':
        return this.string();
      case 't':
        return this.literal('true', true);
      case 'f':
        return this.literal('false', false);
      case 'n':
        return this.literal('null', null);
      default:
        return this.number();
    }
  }

  literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail(`Unexpected token ${this.s[this.i]}`);
    this.i += word.length;
    return v;
  }

  string(): string {
    const s = this.s;
    const start = this.i;
    let j = start + 1;
    let plain = true;
    for (;;) {
      if (j >= s.length) {
        this.i = j;
        this.fail('Unterminated string in JSON');
      }
      const c = s.charCodeAt(j);
      if (c === 34) break;
      if (c === 92) {
        plain = false;
        j += 2;
        continue;
      }
      if (c < 32) plain = false;
      j++;
    }
    this.i = j + 1;
    return plain ? s.slice(start + 1, j) : (JSON.parse(s.slice(start, j + 1)) as string);
  }

  number(): number | bigint {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.s);
    if (!m) this.fail(this.i >= this.s.length ? 'Unexpected end of JSON input' : `Unexpected token ${this.s[this.i]}`);
    this.i += m[0].length;
    const n = Number(m[0]);
    if (m[1] === undefined && m[2] === undefined && !Number.isSafeInteger(n)) return BigInt(m[0]);
    return n;
  }
}

/** JSON.parse, except that integers beyond 2^53 come back as bigint with their exact digits. */
export function parseJsonExact(text: string): unknown {
  const fast: unknown = JSON.parse(text);
  if (!hasUnsafeInteger(fast)) return fast;
  const p = new ExactParser(text);
  const v = p.value();
  p.ws();
  if (p.i !== text.length) p.fail(`Unexpected non-whitespace character after JSON`);
  return v;
}

const MARK = '\u0000bigint:';
const MARKED = /"\\u0000bigint:(-?\d+)"/g;

/** JSON.stringify that writes bigints as plain JSON integers. */
export function stringifyExact(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (e) {
    if (!(e instanceof TypeError) || !/BigInt/i.test(e.message)) throw e;
  }
  return JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? MARK + v.toString() : v)).replace(
    MARKED,
    '$1',
  );
}
