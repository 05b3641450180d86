import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type InputError } from '../../src/errors.js';
import { InputReader } from '../../src/source/input-reader.js';
import type { RawRow } from '../../src/source/raw-rows.js';
import type { InputLocation } from '../../src/source/types.js';
import { readAllRows } from '../helpers/read-rows.ts';

const MIB = 1024 * 1024;

/** A location whose one object is the given text, generated lazily in 64 KiB chunks (never held whole). */
function generated(name: string, parts: Array<string | { repeat: string; bytes: number }>): InputLocation {
  return {
    uri: `file:///virtual/${name}`,
    kind: 'file',
    async list() {
      return [{ uri: `file:///virtual/${name}` }];
    },
    async open() {
      return Readable.from(
        (function* () {
          for (const part of parts) {
            if (typeof part === 'string') {
              yield Buffer.from(part);
              continue;
            }
            const unit = Buffer.from(part.repeat.repeat(Math.ceil((64 * 1024) / part.repeat.length)));
            for (let left = part.bytes; left > 0; left -= unit.length)
              yield left >= unit.length ? unit : unit.subarray(0, left);
          }
        })(),
      );
    },
    async close() {},
  };
}

async function rowsOf(
  location: InputLocation,
  maxFieldBytes: number,
  format?: 'csv' | 'tsv' | 'jsonl',
): Promise<RawRow[]> {
  const reader = new InputReader(location, await location.list(), {
    maxDecompressedBytes: 1e10,
    maxFieldBytes,
    format,
  });
  return (await readAllRows(reader, maxFieldBytes)).rows;
}

describe('InputReader: rows larger than max_field_bytes', () => {
  it('a 40 MB unquoted value is one invalid row, measured but never held; the rows around it keep their places', async () => {
    const rows = await rowsOf(
      generated('big.csv', ['id,name\n1,a\n2,', { repeat: 'x', bytes: 40 * MIB }, '\n3,c\n']),
      MIB,
    );
    assert.equal(rows.length, 3);
    assert.deepEqual(rows[0], ['1', 'a']);
    assert.deepEqual(rows[1], {
      problem: `the row is ${40 * MIB + 3} bytes, larger than ${MIB} bytes (max_field_bytes); its values were not read`,
      reason: 'malformed_row',
    });
    assert.deepEqual(rows[2], ['3', 'c']);
  });

  it('a 21 MB quoted value holding newlines, quotes and commas: the row ends where its quote closes', async () => {
    const rows = await rowsOf(
      generated('quoted.csv', ['id,name\n1,a\n2,"', { repeat: 'a,"" b\n', bytes: 7 * 3_000_000 }, '"\n3,c\n4,d']),
      MIB,
    );
    assert.deepEqual(
      rows.map((row) => (Array.isArray(row) ? row[0] : 'invalid')),
      ['1', 'invalid', '3', '4'],
    );
  });

  it('TSV and JSON Lines rows are bounded the same way', async () => {
    const tsv = await rowsOf(
      generated('big.tsv', ['id\tname\n1\ta\n2\t', { repeat: 'y', bytes: 3 * MIB }, '\n3\tc\n']),
      MIB,
    );
    assert.deepEqual(
      tsv.map((row) => (Array.isArray(row) ? row[0] : 'invalid')),
      ['1', 'invalid', '3'],
    );
    const jsonl = await rowsOf(
      generated('big.jsonl', ['{"id":"1"}\n{"id":"', { repeat: 'z', bytes: 3 * MIB }, '"}\n{"id":"3"}\n']),
      MIB,
    );
    assert.deepEqual(
      jsonl.map((row) => (Array.isArray(row) ? row[0] : 'invalid')),
      ['1', 'invalid', '3'],
    );
  });

  it('a row of several values that together pass the limit is invalid, also when it arrives in one piece', async () => {
    const value = 'v'.repeat(400);
    const rows = await rowsOf(generated('wide.csv', [`id,a,b,c\n1,${value},${value},${value}\n2,x,y,z\n`]), 1_000);
    assert.equal((rows[0] as { reason: string }).reason, 'malformed_row');
    assert.deepEqual(rows[1], ['2', 'x', 'y', 'z']);
  });

  it('a quote that never closes: INPUT_MALFORMED once the input ends, after holding no more than the limit', async () => {
    await assert.rejects(
      rowsOf(generated('open.csv', ['id,name\n1,"', { repeat: 'q\n', bytes: 5 * MIB }]), MIB),
      (error: InputError) => {
        assert.equal(error.code, 'INPUT_MALFORMED');
        assert.match(
          error.message,
          /open\.csv: a record runs past 1048576 bytes \(max_field_bytes\) without ending \(an unbalanced quote/,
        );
        return true;
      },
    );
  });

  it('a header larger than the limit: INPUT_MALFORMED', async () => {
    await assert.rejects(rowsOf(generated('header.csv', ['id,', { repeat: 'h', bytes: 2 * MIB }, '\n1,a\n']), MIB), {
      code: 'INPUT_MALFORMED',
    });
  });
});
