import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { parseSettings } from '../../src/config/settings.js';
import { InputError } from '../../src/errors.js';
import { planColumns } from '../../src/pipeline/columns.js';
import { validateRow } from '../../src/pipeline/validate.js';
import { fileLocation } from '../../src/source/local.js';
import { InputReader, type ReaderOptions } from '../../src/source/input-reader.js';
import type { InputLocation, InputObject } from '../../src/source/types.js';
import { readAllRows } from '../helpers/read-rows.ts';
import { chunked } from '../helpers/streams.ts';

const dir = mkdtempSync(join(tmpdir(), 'records-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

function file(name: string, content: string | Buffer): string {
  const path = join(dir, `${++files}-${name}`);
  writeFileSync(path, content);
  return path;
}

const OPTIONS: ReaderOptions = { maxDecompressedBytes: 1e9, maxFieldBytes: 16 * 1024 * 1024 };

async function readLocation(location: InputLocation, options: Partial<ReaderOptions> = {}) {
  const reader = new InputReader(location, await location.list(), { ...OPTIONS, ...options });
  const { rows, firstRows } = await readAllRows(reader, options.maxFieldBytes ?? OPTIONS.maxFieldBytes);
  return { reader, rows, firstRows };
}

const read = (path: string, options: Partial<ReaderOptions> = {}) => readLocation(fileLocation(path), options);

async function readError(
  path: string | InputLocation,
  code: string,
  options: Partial<ReaderOptions> = {},
): Promise<InputError> {
  try {
    await (typeof path === 'string' ? read(path, options) : readLocation(path, options));
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 3);
    return error;
  }
  assert.fail(`expected ${code}`);
}

/**
 * A location over one local file whose bytes arrive `size` bytes at a time, one piece per event-loop
 * turn so that stream buffers do not merge them again.
 */
function trickle(path: string, size: number, transform: (bytes: Buffer) => Buffer = (bytes) => bytes): InputLocation {
  return {
    uri: path,
    kind: 'file',
    async list(): Promise<InputObject[]> {
      return [{ uri: pathToFileURL(path).href }];
    },
    async open(): Promise<Readable> {
      return chunked(transform(readFileSync(path)), size);
    },
    async close(): Promise<void> {},
  };
}

describe('InputReader: CSV', () => {
  it('reads quotes, escaped quotes, embedded newlines and CRLF', async () => {
    const path = file(
      'quotes.csv',
      'id,name,note\r\n1,"a ""q"" b","multi\nline"\r\n2,plain,"with, comma"\r\n3,"",x\r\n',
    );
    const { reader, rows } = await read(path);
    assert.deepEqual(reader.columns, ['id', 'name', 'note']);
    assert.deepEqual(rows, [
      ['1', 'a "q" b', 'multi\nline'],
      ['2', 'plain', 'with, comma'],
      ['3', '', 'x'],
    ]);
    assert.equal(reader.format, 'csv');
    assert.deepEqual(reader.objectsRead, [
      { uri: pathToFileURL(path).href, bytes: readFileSync(path).length, rows: 3, compression: 'none' },
    ]);
  });

  it('an embedded CRLF inside quotes is kept', async () => {
    const { rows } = await read(file('crlf-in-quotes.csv', 'id,note\r\n1,"a\r\nb"\r\n'));
    assert.deepEqual(rows, [['1', 'a\r\nb']]);
  });

  it('drops a BOM before the header', async () => {
    const { reader, rows } = await read(file('bom.csv', '\uFEFFid,name\n1,x\n'));
    assert.deepEqual(reader.columns, ['id', 'name']);
    assert.deepEqual(rows, [['1', 'x']]);
  });

  it('trims spaces around header names', async () => {
    const { reader } = await read(file('spaced.csv', ' id , name \n1,x\n'));
    assert.deepEqual(reader.columns, ['id', 'name']);
  });

  it('keeps spaces in values', async () => {
    const { rows } = await read(file('values.csv', 'id,name\n 1 , x \n'));
    assert.deepEqual(rows, [[' 1 ', ' x ']]);
  });

  it('no final newline', async () => {
    const { rows } = await read(file('no-eol.csv', 'id,name\n1,x\n2,y'));
    assert.deepEqual(rows, [
      ['1', 'x'],
      ['2', 'y'],
    ]);
  });

  it('a blank line inside the input is a row (blank_row), so later rows keep their numbers; blank lines at the end are not rows', async () => {
    const blank = { problem: 'the row is blank (an empty line)', reason: 'blank_row' };
    const { rows, reader } = await read(file('blank-lines.csv', 'id,name\n\n1,x\n  \n\r\n2,y\n,\n\n \n\r\n'));
    assert.deepEqual(rows, [blank, ['1', 'x'], blank, blank, ['2', 'y'], ['', '']]);
    assert.equal(reader.objectsRead[0]!.rows, 6);
    // Blank lines before the header are not rows either.
    assert.deepEqual((await read(file('blank-first.csv', '\n\nid,name\n1,x\n'))).rows, [['1', 'x']]);
  });

  it('blank lines are rows wherever the input is cut into pieces, and the tail of each object is dropped', async () => {
    const blank = { problem: 'the row is blank (an empty line)', reason: 'blank_row' };
    const body = Array.from({ length: 30_000 }, (_, i) => (i % 1000 === 500 ? '' : `${i},name ${i}`));
    const { rows } = await read(file('many-blank.csv', `id,name\n${body.join('\n')}\n\n\n`));
    assert.equal(rows.length, 30_000);
    rows.forEach((row, i) =>
      assert.deepEqual(row, i % 1000 === 500 ? blank : [String(i), `name ${i}`], `row ${i + 1}`),
    );
  });

  it('reads gzip by its magic bytes whatever the name', async () => {
    for (const name of ['part-0.csv', 'part-0', 'data.txt', 'part-0.csv.gz']) {
      const { reader, rows } = await read(file(name, gzipSync('id,name\n1,日本\n')));
      assert.deepEqual(rows, [['1', '日本']], name);
      assert.equal(reader.objectsRead[0]!.compression, 'gzip');
    }
  });

  it('reads plain text under a .gz name', async () => {
    const { reader, rows } = await read(file('plain.csv.gz', 'id,name\n1,x\n'));
    assert.deepEqual(rows, [['1', 'x']]);
    assert.equal(reader.objectsRead[0]!.compression, 'none');
  });

  it('counts compressed bytes read', async () => {
    const gz = gzipSync('id,name\n1,x\n');
    const { reader } = await read(file('count.gz', gz));
    assert.equal(reader.objectsRead[0]!.bytes, gz.length);
  });

  it('a truncated gzip: INPUT_CORRUPT', async () => {
    let seed = 11;
    const body = Array.from(
      { length: 3_000 },
      (_, i) => `${i},${((seed = (seed * 48_271) % 2_147_483_647) % 1e9).toString(36)}`,
    ).join('\n');
    const gz = gzipSync(`id,name\n${body}\n`);
    const error = await readError(
      file('truncated.csv.gz', gz.subarray(0, Math.floor(gz.length * 0.6))),
      'INPUT_CORRUPT',
    );
    assert.match(error.message, /damaged or cut short/);
  });

  it('over max_decompressed_bytes: INPUT_TOO_LARGE', async () => {
    await readError(file('bomb.csv', gzipSync(`id\n${'1\n'.repeat(200_000)}`)), 'INPUT_TOO_LARGE', {
      maxDecompressedBytes: 50_000,
    });
    await readError(file('big.csv', `id\n${'1\n'.repeat(10_000)}`), 'INPUT_TOO_LARGE', { maxDecompressedBytes: 1_000 });
  });

  it('invalid UTF-8: INPUT_ENCODING', async () => {
    await readError(file('latin1.csv', Buffer.from('id,name\n1,caf\xe9\n', 'latin1')), 'INPUT_ENCODING');
  });

  it('a multi-byte character split across 1-byte chunks is not flagged', async () => {
    const path = file('multibyte.csv', 'id,name\n1,日本語é😀\n2,"ü ""x"""\n');
    const { rows } = await readLocation(trickle(path, 1));
    assert.deepEqual(rows, [
      ['1', '日本語é😀'],
      ['2', 'ü "x"'],
    ]);
  });

  it('the same through gzip arriving 2 bytes at a time', async () => {
    const path = file('multibyte-gz.csv', 'id,name\n1,日本語é😀\n');
    const { rows, reader } = await readLocation(trickle(path, 2, (bytes) => gzipSync(bytes)));
    assert.deepEqual(rows, [['1', '日本語é😀']]);
    assert.equal(reader.objectsRead[0]!.compression, 'gzip');
  });

  it('a BOM arriving 1 byte at a time is dropped', async () => {
    const path = file('bom-trickle.csv', '\uFEFFid,name\n1,x\n');
    const { reader } = await readLocation(trickle(path, 1));
    assert.deepEqual(reader.columns, ['id', 'name']);
  });

  it('an empty file: INPUT_EMPTY', async () => {
    const error = await readError(file('empty.csv', ''), 'INPUT_EMPTY');
    assert.match(error.message, /the file is empty \(no header row\)/);
  });

  it('only blank lines: INPUT_EMPTY', async () => {
    await readError(file('blank.csv', '\n\n\r\n'), 'INPUT_EMPTY');
  });

  it('an empty gzip: INPUT_EMPTY', async () => {
    await readError(file('empty.gz', gzipSync('')), 'INPUT_EMPTY');
  });

  it('header only: columns, no rows', async () => {
    for (const content of ['id,name\n', 'id,name', gzipSync('id,name\n')]) {
      const { reader, rows } = await read(file('header-only.csv', content));
      assert.deepEqual(reader.columns, ['id', 'name']);
      assert.deepEqual(rows, []);
      assert.equal(reader.objectsRead[0]!.rows, 0);
    }
  });

  it('ragged rows are passed through; validation flags them', async () => {
    const { reader, rows } = await read(file('ragged.csv', 'id,seg,name\n1,s\n2,s,b,c\n3,s,ok\n'));
    assert.deepEqual(rows, [
      ['1', 's'],
      ['2', 's', 'b', 'c'],
      ['3', 's', 'ok'],
    ]);
    const plan = planColumns(
      reader.columns!,
      parseSettings({ organization: 'o', list_api_name: 'L', segment_column: 'seg', key_fields: 'id' }),
      undefined,
      'inferred',
    );
    assert.deepEqual(
      rows.map((row) => {
        const verdict = validateRow(row, plan);
        return verdict.ok ? 'ok' : verdict.reason;
      }),
      ['field_count', 'field_count', 'ok'],
    );
  });

  for (const [header, pattern] of [
    ['id,name,ID', /column 3 "ID" repeats column 1/],
    ['id,name,name', /column 3 "name" repeats column 2/],
    ['id,,name', /column 2 has an empty name/],
    ['id,name,', /column 3 has an empty name/],
    ['id, ,name', /column 2 has an empty name/],
  ] as const) {
    it(`a bad header (${header}): INPUT_HEADER_INVALID`, async () => {
      const error = await readError(file('bad-header.csv', `${header}\n1,2,3\n`), 'INPUT_HEADER_INVALID');
      assert.match(error.message, pattern);
    });
  }

  it('an unbalanced quote: INPUT_MALFORMED', async () => {
    const error = await readError(file('unbalanced.csv', 'id,name\n1,"abc\n2,d\n'), 'INPUT_MALFORMED');
    assert.match(error.message, /malformed CSV/);
    assert.match(error.message, /unbalanced quote/);
  });

  it('a value over max_field_bytes is a malformed row; the rest still load', async () => {
    const { rows } = await read(file('wide.csv', `id,name\n1,${'x'.repeat(5_000)}\n2,ok\n3,${'é'.repeat(1_500)}\n`), {
      maxFieldBytes: 2_048,
    });
    assert.deepEqual(rows[0], {
      problem: 'value in column name is larger than 2048 bytes (max_field_bytes)',
      reason: 'malformed_row',
    });
    assert.deepEqual(rows[1], ['2', 'ok']);
    assert.equal((rows[2] as { reason: string }).reason, 'malformed_row', '1,500 × é is 3,000 bytes');
  });

  it('reads every row of an object that spans several pieces', async () => {
    const body = Array.from({ length: 30_000 }, (_, i) => `${i + 1},n${i + 1}`).join('\n');
    const { rows, reader } = await read(file('many.csv', `id,name\n${body}\n`));
    assert.equal(rows.length, 30_000);
    assert.deepEqual(rows[29_999], ['30000', 'n30000']);
    assert.deepEqual(rows[2_499], ['2500', 'n2500']);
    assert.equal(reader.objectsRead[0]!.rows, 30_000);
  });

  it('stops with INTERRUPTED (exit 5) when the signal is aborted', async () => {
    const body = Array.from({ length: 2_500 }, (_, i) => `${i},x`).join('\n');
    const controller = new AbortController();
    controller.abort('SIGTERM');
    await assert.rejects(
      read(file('abort.csv', `id,name\n${body}\n`), { signal: controller.signal }),
      (error: InputError) => {
        assert.equal(error.code, 'INTERRUPTED');
        assert.equal(error.exitCode, 5);
        assert.match(error.message, /stopped by SIGTERM/);
        return true;
      },
    );
  });

  it('a field over max_field_bytes is refused as a malformed row even in one chunk', async () => {
    const path = file('wide-one-chunk.csv', `id,name\n1,${'x'.repeat(100_000)}\n2,b\n`);
    const { rows } = await readLocation(trickle(path, 1_000_000), { maxFieldBytes: 50_000 });
    assert.equal((rows[0] as { reason: string }).reason, 'malformed_row');
    assert.deepEqual(rows[1], ['2', 'b']);
  });

  it('a stray quote inside an unquoted value is data, and the rest of a large file still reads', async () => {
    // 200,000 short rows: more than the 1 MiB + 4 x 16 bytes the aligner holds at most.
    const body = Array.from({ length: 200_000 }, (_, i) => `${i},x`).join('\n');
    const { rows } = await read(file('stray-quote.csv', `id,size\n1,5"6\n${body}\n`), { maxFieldBytes: 16 });
    assert.deepEqual(rows[0], ['1', '5"6']);
    assert.equal(rows.length, 200_001);
  });
});

describe('InputReader: TSV', () => {
  it('splits on tabs; quotes are data', async () => {
    const { reader, rows } = await read(file('data.tsv', 'id\tname\tnote\n1\ta "b"\t"quoted"\n2\tx,y\t\n'));
    assert.equal(reader.format, 'tsv');
    assert.deepEqual(reader.columns, ['id', 'name', 'note']);
    assert.deepEqual(rows, [
      ['1', 'a "b"', '"quoted"'],
      ['2', 'x,y', ''],
    ]);
  });

  it('CRLF line ends and gzip', async () => {
    const { rows } = await read(file('data.tsv.gz', gzipSync('id\tname\r\n1\tx\r\n')));
    assert.deepEqual(rows, [['1', 'x']]);
  });

  it('an unpaired quote in TSV is not an error', async () => {
    const { rows } = await read(file('quote.tsv', 'id\tname\n1\t"abc\n2\td\n'));
    assert.deepEqual(rows, [
      ['1', '"abc'],
      ['2', 'd'],
    ]);
  });

  it('the format can be forced', async () => {
    const { rows } = await read(file('tabs.txt', 'id\tname\n1\tx\n'), { format: 'tsv' });
    assert.deepEqual(rows, [['1', 'x']]);
  });
});

describe('InputReader: JSON Lines', () => {
  it('reads records, columns from the first, values as text, nulls as empty', async () => {
    const text = [
      '{"id":1,"name":"a","ok":true,"score":1.5,"tags":["x","y"],"meta":{"k":"v"}}',
      '{"id":2,"name":null,"ok":false,"score":2,"tags":[],"meta":null}',
      '{"name":"only name","id":3}',
      '',
      '{"ID":4,"NAME":"case-insensitive keys"}',
    ].join('\n');
    const { reader, rows } = await read(file('data.jsonl', `\n${text}\n\n`));
    assert.equal(reader.format, 'jsonl');
    assert.deepEqual(reader.columns, ['id', 'name', 'ok', 'score', 'tags', 'meta']);
    assert.deepEqual(rows, [
      ['1', 'a', 'true', '1.5', '["x","y"]', '{"k":"v"}'],
      ['2', '', 'false', '2', '[]', ''],
      ['3', 'only name', '', '', '', ''],
      { problem: 'the row is blank (an empty line)', reason: 'blank_row' },
      ['4', 'case-insensitive keys', '', '', '', ''],
    ]);
  });

  it("nativeTypes: the type each column's JSON values imply", async () => {
    const text = [
      '{"long":1,"double":1,"bool":true,"text":"a","mixed":1,"empty":null,"big":1}',
      '{"long":-2,"double":2.5,"bool":false,"text":"b","mixed":"x","empty":null,"big":1e300}',
    ].join('\n');
    const { reader } = await read(file('types.jsonl', text));
    assert.deepEqual(reader.nativeTypes, ['long', 'double', 'boolean', 'string', 'string', 'unknown', 'double']);
  });

  it('nativeTypes: a number in text stays text', async () => {
    const { reader } = await read(file('text-numbers.jsonl', '{"zip":"01234"}\n{"zip":"5"}\n'));
    assert.deepEqual(reader.nativeTypes, ['string']);
  });

  it('integers beyond 2^53 keep their digits', async () => {
    const { rows, reader } = await read(
      file('bigint.jsonl', '{"id":9007199254740993}\n{"id":12345678901234567890}\n{"id":-9223372036854775808}\n'),
    );
    assert.deepEqual(rows, [['9007199254740993'], ['12345678901234567890'], ['-9223372036854775808']]);
    assert.deepEqual(reader.nativeTypes, ['string'], '12345678901234567890 does not fit a long');
  });

  it('a 16+ digit integer in a later record is a value, not a malformed row', async () => {
    const { rows, reader } = await read(
      file('bigint-later.jsonl', '{"id":1,"n":"a"}\n{"id":1234567890123456789,"n":"b"}\n'),
    );
    assert.deepEqual(rows, [
      ['1', 'a'],
      ['1234567890123456789', 'b'],
    ]);
    assert.deepEqual(reader.nativeTypes, ['long', 'string']);
  });

  it('digits inside strings and decimals are left alone', async () => {
    const { rows } = await read(
      file('digits-in-strings.jsonl', '{"id":"12345678901234567890","x":1.5e3,"y":0.1234567890123456789}\n'),
    );
    assert.deepEqual(rows, [['12345678901234567890', '1500', '0.12345678901234568']]);
  });

  it('a line that is not JSON, or not an object, is a malformed row; the rest still load', async () => {
    const { rows } = await read(file('bad.jsonl', '{"id":1}\nnot json\n[1,2]\n"text"\nnull\n{"id":2}\n'));
    assert.deepEqual(rows[0], ['1']);
    assert.equal((rows[1] as { reason: string }).reason, 'malformed_row');
    assert.match((rows[1] as { problem: string }).problem, /^not valid JSON/);
    for (const i of [2, 3, 4])
      assert.deepEqual(rows[i], { problem: 'a JSON Lines record must be a JSON object', reason: 'malformed_row' });
    assert.deepEqual(rows[5], ['2']);
  });

  it('a field not in the first record is an unknown_field row', async () => {
    const { rows } = await read(file('unknown.jsonl', '{"id":1}\n{"id":2,"extra":3}\n'));
    assert.deepEqual(rows[1], {
      problem: 'field "extra" is not among the columns of the first record',
      reason: 'unknown_field',
    });
  });

  it('CRLF, a BOM, gzip and no final newline', async () => {
    const { rows } = await read(file('crlf.jsonl.gz', gzipSync('\uFEFF{"id":"a"}\r\n{"id":"b"}')));
    assert.deepEqual(rows, [['a'], ['b']]);
  });

  it('a multi-byte character split across 1-byte chunks', async () => {
    const path = file('trickle.jsonl', '{"name":"日本語😀"}\n');
    const { rows } = await readLocation(trickle(path, 1));
    assert.deepEqual(rows, [['日本語😀']]);
  });

  it('duplicate keys differing in case in the first record: INPUT_HEADER_INVALID', async () => {
    await readError(file('dup.jsonl', '{"id":1,"ID":2}\n'), 'INPUT_HEADER_INVALID');
  });

  it('an empty key in the first record: INPUT_HEADER_INVALID', async () => {
    await readError(file('empty-key.jsonl', '{"":1}\n'), 'INPUT_HEADER_INVALID');
  });

  it('empty or blank: INPUT_EMPTY', async () => {
    await readError(file('empty.jsonl', ''), 'INPUT_EMPTY');
    await readError(file('blank.jsonl', '\n\n'), 'INPUT_EMPTY');
  });

  it('a record over max_field_bytes arriving in pieces is an invalid row; the next ones read', async () => {
    const path = file('long-pieces.jsonl', `{"id":"a"}\n{"id":"${'x'.repeat(5_000)}"}\n{"id":"b"}\n`);
    const { rows } = await readLocation(trickle(path, 512), { maxFieldBytes: 1_000 });
    assert.deepEqual(rows[0], ['a']);
    assert.deepEqual(rows[1], {
      problem: 'the row is 5010 bytes, larger than 1000 bytes (max_field_bytes); its values were not read',
      reason: 'malformed_row',
    });
    assert.deepEqual(rows[2], ['b']);
  });

  it('a record over max_field_bytes inside one chunk is an invalid row too', async () => {
    const { rows } = await read(file('long.jsonl', `{"id":"a"}\n{"id":"${'x'.repeat(5_000)}"}\n{"id":"b"}\n`), {
      maxFieldBytes: 1_000,
    });
    assert.equal((rows[1] as { reason: string }).reason, 'malformed_row');
    assert.deepEqual(rows[2], ['b']);
  });
});

describe('InputReader: several parts', () => {
  function prefix(name: string, parts: Record<string, string | Buffer>): string {
    const path = join(dir, `${++files}-${name}`);
    mkdirSync(path);
    for (const [part, content] of Object.entries(parts)) writeFileSync(join(path, part), content);
    return path;
  }

  it('reads a directory like a prefix, in name order, skipping markers and empty files', async () => {
    const path = prefix('prefix', {
      'part-001.csv.gz': gzipSync('ID,NAME\n3,c\n'),
      'part-000.csv': 'id,name\n1,a\n2,b\n',
      _SUCCESS: '',
      '_SUCCESS.json': '{"ok":true}',
      'part-000.csv.crc': 'crc',
      manifest: 'x',
      'job.manifest': 'x',
      '.hidden': 'id,other\n',
      'part-002.csv': '',
      _committed_123: 'x',
    });
    const { reader, rows, firstRows } = await read(path);
    assert.deepEqual(reader.columns, ['id', 'name']);
    assert.deepEqual(rows, [
      ['1', 'a'],
      ['2', 'b'],
      ['3', 'c'],
    ]);
    assert.deepEqual(firstRows, [1, 3], 'row numbers continue across parts');
    assert.deepEqual(
      reader.objectsRead.map((object) => [object.uri.split('/').pop(), object.rows, object.compression]),
      [
        ['part-000.csv', 2, 'none'],
        ['part-001.csv.gz', 1, 'gzip'],
      ],
    );
  });

  it('parts with different headers: INPUT_HEADER_MISMATCH naming the part', async () => {
    const path = prefix('mismatch', { 'part-0.csv': 'id,name\n1,a\n', 'part-1.csv': 'id,email\n2,b\n' });
    const error = await readError(path, 'INPUT_HEADER_MISMATCH');
    assert.match(error.message, /part-1\.csv: its header \(id,email\) differs from the first part's \(id,name\)/);
  });

  it('a part with an extra column or the columns in another order: INPUT_HEADER_MISMATCH', async () => {
    await readError(
      prefix('extra', { 'a.csv': 'id,name\n1,a\n', 'b.csv': 'id,name,x\n2,b,c\n' }),
      'INPUT_HEADER_MISMATCH',
    );
    await readError(prefix('order', { 'a.csv': 'id,name\n1,a\n', 'b.csv': 'name,id\nb,2\n' }), 'INPUT_HEADER_MISMATCH');
  });

  it('a later part with only a header adds no rows', async () => {
    const { rows } = await read(prefix('header-part', { 'a.csv': 'id,name\n1,a\n', 'b.csv': 'id,name\n' }));
    assert.deepEqual(rows, [['1', 'a']]);
  });

  it('JSON Lines parts must start with the same keys', async () => {
    const { rows } = await read(
      prefix('jsonl-parts', { 'a.jsonl': '{"id":1,"n":"a"}\n', 'b.jsonl': '{"id":2,"n":"b"}\n' }),
    );
    assert.deepEqual(rows, [
      ['1', 'a'],
      ['2', 'b'],
    ]);
    await readError(
      prefix('jsonl-mismatch', { 'a.jsonl': '{"id":1}\n', 'b.jsonl': '{"other":2}\n' }),
      'INPUT_HEADER_MISMATCH',
    );
  });
});
