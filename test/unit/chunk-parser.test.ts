import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { ChunkParser, readError } from '../../src/source/chunk-parser.js';
import type { RawRow } from '../../src/source/raw-rows.js';

async function rowsOf(parser: ChunkParser, text: string): Promise<RawRow[]> {
  const rows: RawRow[] = [];
  await parser.parseEach(Buffer.from(text), (row) => rows.push(row));
  return rows;
}

describe('ChunkParser', () => {
  it('parses a piece of CSV whose columns are known, without a header', async () => {
    const parser = new ChunkParser({ format: 'csv', uri: 'u', maxFieldBytes: 1_000, columns: ['id', 'name'] });
    assert.deepEqual(await rowsOf(parser, '1,"a, ""b"""\n\n2,c\n'), [
      ['1', 'a, "b"'],
      { problem: 'the row is blank (an empty line)', reason: 'blank_row' },
      ['2', 'c'],
    ]);
  });

  it('TSV has no quoting: a quote is data', async () => {
    const parser = new ChunkParser({ format: 'tsv', uri: 'u', maxFieldBytes: 1_000, columns: ['id', 'name'] });
    assert.deepEqual(await rowsOf(parser, '1\t"a\n2\tb"\n'), [
      ['1', '"a'],
      ['2', 'b"'],
    ]);
  });

  it('a value over max_field_bytes names its column', async () => {
    const parser = new ChunkParser({ format: 'csv', uri: 'u', maxFieldBytes: 10, columns: ['id', 'name'] });
    assert.deepEqual(await rowsOf(parser, `1,${'x'.repeat(11)}\n`), [
      { problem: 'value in column name is larger than 10 bytes (max_field_bytes)', reason: 'malformed_row' },
    ]);
  });

  it('JSON Lines with known columns: keys in any case and order, unknown fields and non-objects are problems', async () => {
    const parser = new ChunkParser({ format: 'jsonl', uri: 'u', maxFieldBytes: 1_000, columns: ['id', 'name'] });
    const rows = await rowsOf(parser, '{"NAME":"a","id":1}\r\n{"id":2,"extra":true}\n[1]\n{"id":\n');
    assert.deepEqual(rows.slice(0, 3), [
      ['1', 'a'],
      { problem: 'field "extra" is not among the columns of the first record', reason: 'unknown_field' },
      { problem: 'a JSON Lines record must be a JSON object', reason: 'malformed_row' },
    ]);
    assert.match((rows[3] as { problem: string }).problem, /^not valid JSON: /);
    assert.deepEqual(parser.nativeTypes, ['long', 'string']);
  });

  it('JSON Lines without known columns: the first record is offered as the header', () => {
    const offered: string[][] = [];
    const parser = new ChunkParser({ format: 'jsonl', uri: 'u', maxFieldBytes: 1_000 }, (names) => {
      offered.push(names);
      return names;
    });
    assert.deepEqual(parser.jsonLines(Buffer.from('\n{"a":1,"b":"x"}\n{"b":"y"}\n')), [
      ['1', 'x'],
      ['', 'y'],
    ]);
    assert.deepEqual(offered, [['a', 'b']]);
  });

  it('a JSON line at or over max_field_bytes is measured, not parsed', () => {
    const parser = new ChunkParser({ format: 'jsonl', uri: 'u', maxFieldBytes: 10, columns: ['a'] });
    assert.deepEqual(parser.jsonLines(Buffer.from('{"a":"123456"}\n{"a":1}\n')), [
      {
        problem: 'the row is 15 bytes, larger than 10 bytes (max_field_bytes); its values were not read',
        reason: 'malformed_row',
      },
      ['1'],
    ]);
  });

  it('an unbalanced quote in a piece: INPUT_MALFORMED naming the object', async () => {
    const parser = new ChunkParser({ format: 'csv', uri: 's3://b/part-0.csv', maxFieldBytes: 1_000, columns: ['id'] });
    await assert.rejects(rowsOf(parser, '1,"open\n'), (error: InputError) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.code, 'INPUT_MALFORMED');
      assert.match(error.message, /^input s3:\/\/b\/part-0\.csv: malformed CSV: /);
      return true;
    });
  });
});

describe('readError', () => {
  it('keeps InputErrors and errors that are not parse failures as they are', () => {
    const input = new InputError('INPUT_EMPTY', 'x', { stage: 'read' });
    assert.equal(readError(input, 'u'), input);
    const other = new Error('socket hang up');
    assert.equal(readError(other, 'u'), other);
  });
});
