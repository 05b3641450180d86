import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jsonCell, parseJsonLine, protectBigIntegers, widenNative } from '../../src/source/jsonl-numbers.js';

describe('protectBigIntegers', () => {
  it('quotes integers of 16 or more digits, with their sign', () => {
    assert.equal(
      protectBigIntegers('{"id":12345678901234567,"n":-1234567890123456}'),
      '{"id":"\\u0000bigint:12345678901234567","n":"\\u0000bigint:-1234567890123456"}',
    );
  });

  it('leaves shorter integers, fractions, exponents and text inside strings alone', () => {
    for (const line of [
      '{"a":123456789012345}',
      '{"a":12345678901234567.5}',
      '{"a":12345678901234567e2}',
      '{"a":"12345678901234567"}',
      '{"a":"x\\"12345678901234567"}',
    ]) {
      assert.equal(protectBigIntegers(line), line);
    }
  });
});

describe('parseJsonLine and jsonCell', () => {
  it('a 64-bit integer keeps every digit', () => {
    const record = parseJsonLine('{"id":9007199254740993,"small":42,"text":"9007199254740993"}') as Record<
      string,
      unknown
    >;
    assert.equal(jsonCell(record.id), '9007199254740993');
    assert.equal(jsonCell(record.small), '42');
    assert.equal(jsonCell(record.text), '9007199254740993');
  });

  it('other values as cell text', () => {
    assert.equal(jsonCell(null), '');
    assert.equal(jsonCell(true), 'true');
    assert.equal(jsonCell(1.5), '1.5');
    assert.equal(jsonCell({ k: [1] }), '{"k":[1]}');
  });

  it('invalid JSON throws as JSON.parse does, the guard on or off', () => {
    assert.throws(() => parseJsonLine('{"a":1'), SyntaxError);
    assert.throws(() => parseJsonLine('{"a":12345678901234567'), SyntaxError);
  });
});

describe('widenNative', () => {
  it('a protected integer is a long when it fits in 64 bits, else text', () => {
    const record = parseJsonLine('{"fits":9223372036854775807,"too_big":9223372036854775808}') as Record<
      string,
      unknown
    >;
    assert.equal(widenNative('unknown', record.fits), 'long');
    assert.equal(widenNative('unknown', record.too_big), 'string');
  });

  it('JSON types, and null changes nothing', () => {
    assert.equal(widenNative('unknown', 3), 'long');
    assert.equal(widenNative('long', 2.5), 'double');
    assert.equal(widenNative('unknown', false), 'boolean');
    assert.equal(widenNative('long', 'x'), 'string');
    assert.equal(widenNative('double', null), 'double');
  });
});
