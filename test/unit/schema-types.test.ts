import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  columnTypeFromName,
  COMPATIBLE_FIELD_TYPES,
  convertValue,
  FIELD_TYPE_FOR,
  isDouble,
  isLong,
  joinInferred,
  parseTimestamp,
  widen,
  type ColumnType,
  type InferredType,
} from '../../src/schema/types.js';

function converted(text: string, type: ColumnType): string {
  const result = convertValue(text, type);
  assert.ok(result.ok, `${JSON.stringify(text)} as ${type}: ${result.ok ? '' : result.reason}`);
  return result.ok ? result.json : '';
}

function refused(text: string, type: ColumnType): string {
  const result = convertValue(text, type);
  assert.ok(!result.ok, `${JSON.stringify(text)} as ${type} was accepted as ${result.ok ? result.json : ''}`);
  return result.ok ? '' : result.reason;
}

function inferred(values: string[]): InferredType {
  let type: InferredType = 'unknown';
  for (const value of values) type = widen(type, value);
  return type;
}

describe('columnTypeFromName', () => {
  const cases: Array<[string, ColumnType | undefined]> = [
    ['string', 'string'],
    ['long', 'long'],
    ['double', 'double'],
    ['boolean', 'boolean'],
    ['timestamp', 'timestamp'],
    ['varchar', 'string'],
    ['varchar(255)', 'string'],
    ['VARCHAR(255)', 'string'],
    ['char(3)', 'string'],
    ['text', 'string'],
    ['bigint', 'long'],
    ['BIGINT', 'long'],
    ['integer', 'long'],
    ['int', 'long'],
    ['smallint', 'long'],
    ['tinyint', 'long'],
    ['real', 'double'],
    ['float', 'double'],
    ['decimal(10,2)', 'double'],
    ['decimal(38, 0)', 'double'],
    ['numeric', 'double'],
    ['bool', 'boolean'],
    ['timestamp with time zone', 'timestamp'],
    ['timestamp(3) with time zone', 'timestamp'],
    ['timestamp without time zone', 'timestamp'],
    ['timestamp(6)', 'timestamp'],
    ['TIMESTAMP WITH TIME ZONE', 'timestamp'],
    ['datetime', 'timestamp'],
    ['date', 'date'],
    ['array<string>', 'string'],
    ['array(varchar)', 'string'],
    ['map<string,bigint>', 'string'],
    ['map(varchar, bigint)', 'string'],
    ['row(a integer, b varchar)', 'string'],
    ['struct<a:int>', 'string'],
    ['json', 'string'],
    ['uuid', 'string'],
    ['ipaddress', 'string'],
    ['varbinary', 'string'],
    ['binary', 'string'],
    ['  double  ', 'double'],
    ['unknown', undefined],
    ['interval day to second', undefined],
    ['time', undefined],
    ['time with time zone', undefined],
    ['', undefined],
    ['varchar2', undefined],
    ['arrays', undefined],
  ];
  for (const [name, type] of cases) {
    it(`${JSON.stringify(name)} -> ${type}`, () => assert.equal(columnTypeFromName(name), type));
  }
});

describe('field types', () => {
  it('maps each column type to the Selligent field type created for it', () => {
    assert.deepEqual(FIELD_TYPE_FOR, {
      string: 'Text',
      long: 'Long',
      double: 'Float',
      boolean: 'Boolean',
      timestamp: 'DateTime',
      date: 'Date',
      numeric: 'Numeric',
    });
  });
  it('each column type loads at least into its own field type', () => {
    for (const [type, field] of Object.entries(FIELD_TYPE_FOR))
      assert.ok(COMPATIBLE_FIELD_TYPES[type as ColumnType].includes(field));
  });
});

describe('convertValue: string', () => {
  it('is a JSON string, with quotes, newlines and unicode escaped as JSON does', () => {
    assert.equal(converted('plain', 'string'), '"plain"');
    assert.equal(converted('a "b"\nc\\d', 'string'), '"a \\"b\\"\\nc\\\\d"');
    assert.equal(converted('日本語 😀', 'string'), '"日本語 😀"');
    assert.equal(converted('  spaced  ', 'string'), '"  spaced  "');
    assert.equal(converted('007', 'string'), '"007"');
  });
});

describe('convertValue: long', () => {
  const ok: Array<[string, string]> = [
    ['0', '0'],
    ['42', '42'],
    ['-42', '-42'],
    ['+5', '5'],
    ['007', '7'],
    ['-007', '-7'],
    ['-0', '0'],
    ['+0', '0'],
    ['000', '0'],
    [' 12 ', '12'],
    ['9223372036854775807', '9223372036854775807'],
    ['-9223372036854775808', '-9223372036854775808'],
    ['0009223372036854775807', '9223372036854775807'],
    ['9007199254740993', '9007199254740993'],
    ['1234567890123456789', '1234567890123456789'],
  ];
  for (const [text, json] of ok) {
    it(`${JSON.stringify(text)} -> ${json} (digits kept exactly)`, () => assert.equal(converted(text, 'long'), json));
  }

  for (const text of ['9223372036854775808', '-9223372036854775809', '99999999999999999999', '18446744073709551615']) {
    it(`${text} does not fit 64 bits`, () => assert.match(refused(text, 'long'), /does not fit a 64-bit long/));
  }

  for (const text of [
    '1.0',
    '1.5',
    '1e3',
    'abc',
    '12abc',
    '0x10',
    '1_000',
    '1,000',
    '--1',
    '+-1',
    'NaN',
    'Infinity',
    ' ',
    '',
  ]) {
    it(`${JSON.stringify(text)} is not a whole number`, () =>
      assert.match(refused(text, 'long'), /is not a whole number/));
  }

  it('isLong agrees at the boundaries', () => {
    assert.equal(isLong('9223372036854775807'), true);
    assert.equal(isLong('9223372036854775808'), false);
    assert.equal(isLong('-9223372036854775808'), true);
    assert.equal(isLong('-9223372036854775809'), false);
    assert.equal(isLong('12345678901234567890'), false);
    assert.equal(isLong('1.0'), false);
  });

  it('abbreviates a long value in the reason', () => {
    assert.ok(refused('x'.repeat(500), 'long').length < 100);
  });
});

describe('convertValue: double', () => {
  const ok: Array<[string, string]> = [
    ['1.5', '1.5'],
    ['-1.5', '-1.5'],
    ['+1.5', '1.5'],
    ['.5', '0.5'],
    ['-.5', '-0.5'],
    ['5.', '5'],
    ['5.e3', '5e3'],
    ['12', '12'],
    ['0', '0'],
    ['007.5', '7.5'],
    ['-007.5', '-7.5'],
    ['00.5', '0.5'],
    ['1e3', '1e3'],
    ['1E-5', '1E-5'],
    ['-2.5e+10', '-2.5e+10'],
    [' 2.5 ', '2.5'],
    ['1.7976931348623157e308', '1.7976931348623157e308'],
    ['0.1000000000000000055511151231257827', '0.1000000000000000055511151231257827'],
  ];
  for (const [text, json] of ok) {
    it(`${JSON.stringify(text)} -> ${json}`, () => {
      const out = converted(text, 'double');
      assert.equal(out, json);
      assert.equal(typeof JSON.parse(out), 'number', 'valid JSON number');
      assert.equal(JSON.parse(out), Number(text.trim()));
    });
  }

  for (const text of ['NaN', 'nan', 'Infinity', '-Infinity', 'inf', '-inf', '+INF']) {
    it(`${text} is not a finite number`, () => assert.match(refused(text, 'double'), /is not a finite number/));
  }

  for (const text of ['1e400', '-1e400', '1e309']) {
    it(`${text} overflows a double and is refused`, () => assert.ok(refused(text, 'double')));
  }

  for (const text of ['abc', '1,5', '0x10', '1.2.3', 'e5', '.', '-', '+', '1e', '', ' ']) {
    it(`${JSON.stringify(text)} is not a number`, () => assert.match(refused(text, 'double'), /is not a number/));
  }

  it('isDouble refuses non-finite values', () => {
    assert.equal(isDouble('1e400'), false);
    assert.equal(isDouble('1e308'), true);
  });
});

describe('convertValue: boolean', () => {
  for (const [text, json] of [
    ['true', 'true'],
    ['TRUE', 'true'],
    ['True', 'true'],
    ['t', 'true'],
    ['T', 'true'],
    ['1', 'true'],
    [' true ', 'true'],
    ['false', 'false'],
    ['FALSE', 'false'],
    ['f', 'false'],
    ['0', 'false'],
  ]) {
    it(`${JSON.stringify(text)} -> ${json}`, () => assert.equal(converted(text!, 'boolean'), json));
  }
  for (const text of ['yes', 'no', 'y', 'n', '2', '-1', 'truee', 'on', '']) {
    it(`${JSON.stringify(text)} is refused`, () => assert.match(refused(text, 'boolean'), /is not true or false/));
  }
});

describe('convertValue: timestamp', () => {
  const ok: Array<[string, string]> = [
    ['2026-05-01', '2026-05-01T00:00:00.000Z'],
    ['2026-05-01 10:15', '2026-05-01T10:15:00.000Z'],
    ['2026-05-01 10:15:30', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01T10:15:30', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01T10:15:30Z', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01t10:15:30z', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01 10:15:30 UTC', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01 10:15:30UTC', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01 10:15:30 GMT', '2026-05-01T10:15:30.000Z'],
    ['2026-05-01 10:15:30.123', '2026-05-01T10:15:30.123Z'],
    ['2026-05-01 10:15:30.5', '2026-05-01T10:15:30.500Z'],
    ['2026-05-01 10:15:30,25', '2026-05-01T10:15:30.250Z'],
    ['2026-05-01 10:15:30.123456789', '2026-05-01T10:15:30.123Z'],
    ['2026-05-01 10:15:30.999999', '2026-05-01T10:15:30.999Z'],
    ['2026-05-01T10:15:30+02:00', '2026-05-01T08:15:30.000Z'],
    ['2026-05-01T10:15:30+0200', '2026-05-01T08:15:30.000Z'],
    ['2026-05-01 10:15:30 +09', '2026-05-01T01:15:30.000Z'],
    ['2026-05-01T10:15:30-05:30', '2026-05-01T15:45:30.000Z'],
    ['2026-05-01T01:00:00+02:00', '2026-04-30T23:00:00.000Z'],
    ['2026-12-31T23:30:00-01:00', '2027-01-01T00:30:00.000Z'],
    ['2026-05-01 10:15:30.123 +00:00', '2026-05-01T10:15:30.123Z'],
    ['2024-02-29', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29 12:00', '2000-02-29T12:00:00.000Z'],
    ['1970-01-01 00:00:00', '1970-01-01T00:00:00.000Z'],
    ['1900-01-01', '1900-01-01T00:00:00.000Z'],
    ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
    [' 2026-05-01 ', '2026-05-01T00:00:00.000Z'],
  ];
  for (const [text, iso] of ok) {
    it(`${JSON.stringify(text)} -> ${iso}`, () => {
      assert.equal(converted(text, 'timestamp'), JSON.stringify(iso));
      assert.equal(parseTimestamp(text.trim()), iso);
    });
  }

  it('years below 100 stay themselves in the plain forms (0001-01-01 is a common "no date" value)', () => {
    assert.equal(parseTimestamp('0001-01-01'), '0001-01-01T00:00:00.000Z');
    assert.equal(parseTimestamp('0001-01-01 00:00:00'), '0001-01-01T00:00:00.000Z');
  });

  it('years below 100 stay themselves with a zone or fractional seconds too', () => {
    assert.equal(parseTimestamp('0001-01-01T00:00:00Z'), '0001-01-01T00:00:00.000Z');
    assert.equal(parseTimestamp('0099-12-31 23:59:59.5'), '0099-12-31T23:59:59.500Z');
    assert.equal(parseTimestamp('0050-06-01 10:00:00+01:00'), '0050-06-01T09:00:00.000Z');
  });

  const invalid = [
    '2026-02-30',
    '2026-02-29',
    '2025-02-29',
    '1900-02-29',
    '2026-04-31',
    '2026-13-01',
    '2026-00-10',
    '2026-05-00',
    '2026-05-32',
    '2026-05-01 24:00:00',
    '2026-05-01 10:60',
    '2026-05-01 10:15:60',
    '2026-05-01T10:15:30+24:00',
    '2026-05-01T10:15:30+02:60',
    '2026-05-01 10:15:30 Asia/Tokyo',
    '2026-05-01 10:15:30 PST',
    '2026/05/01',
    '01/05/2026',
    '20260501',
    '26-05-01',
    '2026-5-1',
    '1700000000',
    'yesterday',
    '2026-05-01T',
    '2026-05-01 10',
    '2026-05-01 10:15:30.',
    '2026-05-01 10:15:30.1234567890',
    '2026-05-01X10:15:30',
    '2026-05-01 10-15-30',
    '2026-05-0a',
    '2026-05-01 1a:15:30',
    '2026+05-01',
    '',
  ];
  for (const text of invalid) {
    it(`${JSON.stringify(text)} is not a timestamp`, () => {
      assert.match(refused(text, 'timestamp'), /is not a timestamp/);
      assert.equal(parseTimestamp(text), undefined);
    });
  }
});

describe('joinInferred (types found in different parts of the input)', () => {
  const types = ['unknown', 'long', 'double', 'boolean', 'timestamp', 'string'] as const;

  it('is the narrowest type both fit', () => {
    assert.equal(joinInferred('unknown', 'long'), 'long');
    assert.equal(joinInferred('long', 'unknown'), 'long');
    assert.equal(joinInferred('long', 'double'), 'double');
    assert.equal(joinInferred('double', 'long'), 'double');
    assert.equal(joinInferred('long', 'boolean'), 'string');
    assert.equal(joinInferred('timestamp', 'long'), 'string');
    assert.equal(joinInferred('string', 'unknown'), 'string');
  });

  it('is commutative, associative and idempotent, so the order parts are combined in does not matter', () => {
    for (const a of types) {
      assert.equal(joinInferred(a, a), a);
      for (const b of types) {
        assert.equal(joinInferred(a, b), joinInferred(b, a), `${a} ${b}`);
        for (const c of types)
          assert.equal(joinInferred(joinInferred(a, b), c), joinInferred(a, joinInferred(b, c)), `${a} ${b} ${c}`);
      }
    }
  });

  it('widening value by value equals joining the types of two halves', () => {
    const values = ['1', '2.5', '', '-3', '2026-05-01', 'true', 'x', '10'];
    for (let cut = 0; cut <= values.length; cut++) {
      const infer = (part: string[]) =>
        part.reduce<InferredType>((type, value) => (value === '' ? type : widen(type, value)), 'unknown');
      const whole = infer(values);
      const left = infer(values.slice(0, cut));
      const right = infer(values.slice(cut));
      assert.equal(joinInferred(left, right), whole, `cut at ${cut}`);
    }
  });
});

describe('widen (type inference)', () => {
  const cases: Array<[string[], InferredType]> = [
    [[], 'unknown'],
    [['1', '2', '-3', '4'], 'long'],
    [['0'], 'long'],
    [['-0'], 'string'],
    [['9223372036854775807'], 'long'],
    [['9223372036854775808'], 'string'],
    [['1', '2.5'], 'double'],
    [['2.5', '1'], 'double'],
    [['0.5', '5.25', '-1.5'], 'double'],
    [['12.50'], 'double'],
    [['1e400'], 'string'],
    [['NaN'], 'string'],
    [['Infinity'], 'string'],
    [['007'], 'string'],
    [['1', '007'], 'string'],
    [['007', '1'], 'string'],
    [['0', '00'], 'string'],
    [['01.5'], 'string'],
    [['-01'], 'string'],
    [['0.5', '0.25'], 'double'],
    [['true', 'false', 'TRUE', 'False'], 'boolean'],
    [['true', '1'], 'string'],
    [['1', 'true'], 'string'],
    [['t', 'f'], 'string'],
    [['2026-05-01', '2026-05-02 10:00:00', '2026-05-03T10:00:00Z'], 'timestamp'],
    [['2026-05-01', 'x'], 'string'],
    [['2026-02-30'], 'string'],
    [['2026-05-01', '1'], 'string'],
    [['1.5', 'true'], 'string'],
    [['a', '1'], 'string'],
    [['1', 'abc'], 'string'],
    [[' 12 ', '13'], 'string'],
    [['12', ' '], 'string'],
  ];
  for (const [values, type] of cases) {
    it(`${JSON.stringify(values)} -> ${type}`, () => assert.equal(inferred(values), type));
  }

  it('a value whose text would change on the way keeps the column text', () => {
    for (const value of [
      '+819012345678',
      '+4',
      '12E3',
      '7E1',
      '1e3',
      '.5',
      '5.',
      '+1.5',
      '-0',
      ' 12',
      '12 ',
      '1.2345678901234567',
      '12345678901234567.5',
    ]) {
      assert.equal(inferred([value]), 'string', value);
      assert.equal(inferred(['1', value]), 'string', `1 then ${value}`);
      assert.equal(inferred(['1.5', value]), 'string', `1.5 then ${value}`);
    }
    assert.equal(inferred(['819012345678']), 'long');
    assert.equal(inferred(['123456789012345.5']), 'string');
    assert.equal(inferred(['12345678901234.5']), 'double');
  });

  it('string is final', () => {
    assert.equal(widen('string', '1'), 'string');
    assert.equal(widen('string', 'true'), 'string');
  });

  it('every inferred value converts under its inferred type', () => {
    const samples = [
      ['1', '-2', '3'],
      ['1.5', '2', '0.5', '5.0'],
      ['true', 'FALSE'],
      ['2026-05-01', '2026-05-01 10:15:00.123+02:00'],
    ];
    for (const values of samples) {
      const type = inferred(values);
      assert.notEqual(type, 'string');
      assert.notEqual(type, 'unknown');
      for (const value of values) converted(value, type as ColumnType);
    }
  });
});

describe('keyForm (deduplication key text)', async () => {
  const { keyForm } = await import('../../src/schema/types.js');
  it('a Long key compares as the integer Selligent stores', () => {
    const form = keyForm('long')!;
    for (const text of ['7', '007', '+7', '+007', ' 7 ']) assert.equal(form(text), '7', text);
    assert.equal(form('-0'), '0');
    assert.equal(form('-007'), '-7');
    assert.equal(form('9223372036854775807'), '9223372036854775807');
    assert.equal(form('abc'), 'abc');
  });
  it('a Float key compares as the number; text compares as written', () => {
    assert.equal(keyForm('double')!('1.50'), keyForm('double')!('1.5'));
    assert.equal(keyForm('double')!('+1e0'), '1');
    assert.equal(keyForm('string'), undefined);
    assert.equal(keyForm('boolean')!('TRUE'), keyForm('boolean')!('true'));
    assert.equal(keyForm('timestamp')!('2026-05-01 10:00:00'), keyForm('timestamp')!('2026-05-01T10:00:00Z'));
  });
});

describe('convertValue: the vendor field-type table', () => {
  it('Numeric: a 32-bit whole number; a fraction or a value outside 32 bits is refused with the reason', () => {
    assert.equal(converted('42', 'numeric'), '42');
    assert.equal(converted('-2147483648', 'numeric'), '-2147483648');
    assert.equal(converted('2147483647', 'numeric'), '2147483647');
    assert.equal(converted('+7', 'numeric'), '7');
    assert.equal(converted('5.0', 'numeric'), '5');
    assert.equal(converted('-0', 'numeric'), '0');
    assert.match(refused('1.5', 'numeric'), /"1\.5" has a fraction; a Numeric field holds whole numbers only/);
    assert.match(refused('2147483648', 'numeric'), /outside the 32-bit range of a Numeric field/);
    assert.match(refused('-2147483649', 'numeric'), /outside the 32-bit range/);
    assert.match(refused('abc', 'numeric'), /is not a whole number/);
  });

  it('Date: the day as YYYY-MM-DD (the UTC date of a timestamp)', () => {
    assert.equal(converted('2026-05-01', 'date'), '"2026-05-01"');
    assert.equal(converted('2026-05-01 23:30:00', 'date'), '"2026-05-01"');
    assert.equal(converted('2026-05-02T01:00:00+02:00', 'date'), '"2026-05-01"');
    assert.match(refused('2026-02-30', 'date'), /is not a date/);
  });

  it('DateTime: 1753-01-01 .. 9999-12-31, anything outside is refused with the range', () => {
    assert.equal(converted('1753-01-01 00:00:00', 'timestamp'), '"1753-01-01T00:00:00.000Z"');
    assert.equal(converted('9999-12-31 23:59:59', 'timestamp'), '"9999-12-31T23:59:59.000Z"');
    assert.match(refused('1752-12-31 23:59:59', 'timestamp'), /outside the DateTime range 1753-01-01\.\.9999-12-31/);
    assert.match(refused('0001-01-01', 'timestamp'), /outside the DateTime range/);
    assert.match(refused('9999-12-31T23:00:00-02:00', 'timestamp'), /outside the DateTime range/);
  });
});

describe('textFieldFor (created Text fields)', async () => {
  const { textFieldFor } = await import('../../src/schema/types.js');
  it('sizes from the longest value, rounded up to a step, LongText beyond 4000', () => {
    assert.deepEqual(textFieldFor(0), { data_type: 'Text', length: 255 });
    assert.deepEqual(textFieldFor(40), { data_type: 'Text', length: 255 });
    assert.deepEqual(textFieldFor(255), { data_type: 'Text', length: 255 });
    assert.deepEqual(textFieldFor(256), { data_type: 'Text', length: 500 });
    assert.deepEqual(textFieldFor(1500), { data_type: 'Text', length: 2000 });
    assert.deepEqual(textFieldFor(4000), { data_type: 'Text', length: 4000 });
    assert.deepEqual(textFieldFor(4001), { data_type: 'LongText' });
  });
});
