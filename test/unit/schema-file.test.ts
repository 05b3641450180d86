import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { InputError } from '../../src/errors.js';
import { parseSchema, readSchemaFile } from '../../src/schema/schema-file.js';

const dir = mkdtempSync(join(tmpdir(), 'schema-file-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function schemaError(fn: () => unknown, pattern: RegExp): InputError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, 'SCHEMA_INVALID');
    assert.equal(error.exitCode, 3);
    assert.match(error.message, pattern);
    return error;
  }
  assert.fail('the schema was accepted');
}

describe('parseSchema', () => {
  it('reads Treasure Data\'s [["name","type"], ...] form, names upper-cased', () => {
    const types = parseSchema(
      [
        ['customer_identifier', 'string'],
        ['age', 'long'],
        ['Score', 'double'],
        ['opted_in', 'boolean'],
        ['updated_at', 'timestamp'],
      ],
      'test',
    );
    assert.deepEqual(
      [...types],
      [
        ['CUSTOMER_IDENTIFIER', 'string'],
        ['AGE', 'long'],
        ['SCORE', 'double'],
        ['OPTED_IN', 'boolean'],
        ['UPDATED_AT', 'timestamp'],
      ],
    );
  });

  it('reads the {"columns": [{"name","type"}]} form with Presto/Hive names', () => {
    const types = parseSchema(
      {
        columns: [
          { name: 'id', type: 'bigint' },
          { name: 'email', type: 'varchar(255)' },
          { name: 'ts', type: 'timestamp(3) with time zone' },
          { name: 'tags', type: 'array(varchar)' },
        ],
      },
      'test',
    );
    assert.deepEqual(Object.fromEntries(types), { ID: 'long', EMAIL: 'string', TS: 'timestamp', TAGS: 'string' });
  });

  it('ignores extra items in an entry and extra properties', () => {
    assert.deepEqual([...parseSchema([['id', 'bigint', 'comment']], 't')], [['ID', 'long']]);
    assert.deepEqual(
      [...parseSchema({ columns: [{ name: 'id', type: 'int', nullable: true }], other: 1 }, 't')],
      [['ID', 'long']],
    );
  });

  it('trims column names', () => {
    assert.deepEqual([...parseSchema([[' id ', 'long']], 't')], [['ID', 'long']]);
  });

  it('an empty schema is an empty map', () => {
    assert.equal(parseSchema([], 't').size, 0);
    assert.equal(parseSchema({ columns: [] }, 't').size, 0);
  });

  it('refuses an unknown type, naming the column and the type', () => {
    schemaError(
      () =>
        parseSchema(
          [
            ['id', 'long'],
            ['t', 'time'],
          ],
          'src',
        ),
      /^src: column t: unknown type "time"/,
    );
    schemaError(
      () => parseSchema({ columns: [{ name: 'x', type: 'unknown' }] }, 'src'),
      /column x: unknown type "unknown"/,
    );
    schemaError(() => parseSchema([['x', 'interval day to second']], 'src'), /unknown type/);
  });

  for (const [value, pattern] of [
    [[['id']], /entry 1 must be \["name", "type"\]/],
    [[['id', 'long'], 'name'], /entry 2 must be \["name", "type"\]/],
    [[[]], /entry 1 must be/],
    [[['id', 5]], /column id: the type must be text, got 5/],
    [[['id', null]], /the type must be text, got null/],
    [[['', 'long']], /a column name must be non-empty text, got ""/],
    [[['  ', 'long']], /a column name must be non-empty text/],
    [[[5, 'long']], /a column name must be non-empty text, got 5/],
    [{ columns: [null] }, /columns\[0\] must be \{"name", "type"\}/],
    [{ columns: ['id'] }, /columns\[0\] must be/],
    [{ columns: [{ name: 'id' }] }, /column id: the type must be text/],
    [{ columns: [{ type: 'long' }] }, /a column name must be non-empty text, got undefined/],
    [{ columns: 'id' }, /expected \[\["name","type"\], \.\.\.\] or \{"columns"/],
    [{ fields: [] }, /expected \[\["name","type"\]/],
    ['[["id","long"]]', /expected \[\["name","type"\]/],
    [null, /expected/],
    [42, /expected/],
  ] as const) {
    it(`refuses ${JSON.stringify(value)}`, () => {
      schemaError(() => parseSchema(value, 'src'), pattern);
    });
  }
});

describe('readSchemaFile', () => {
  it('reads a JSON file', async () => {
    const path = join(dir, 'schema.json');
    writeFileSync(
      path,
      JSON.stringify([
        ['id', 'bigint'],
        ['name', 'varchar'],
      ]),
    );
    assert.deepEqual(Object.fromEntries(await readSchemaFile(path)), { ID: 'long', NAME: 'string' });
  });

  it('reads a JSON string inside JSON (as the TD API returns hive_result_schema)', async () => {
    const path = join(dir, 'nested.json');
    writeFileSync(
      path,
      JSON.stringify(
        JSON.stringify([
          ['id', 'long'],
          ['at', 'timestamp'],
        ]),
      ),
    );
    assert.deepEqual(Object.fromEntries(await readSchemaFile(path)), { ID: 'long', AT: 'timestamp' });
  });

  it('reads the columns form from a file', async () => {
    const path = join(dir, 'columns.json');
    writeFileSync(path, JSON.stringify({ columns: [{ name: 'flag', type: 'boolean' }] }));
    assert.deepEqual(Object.fromEntries(await readSchemaFile(path)), { FLAG: 'boolean' });
  });

  it('a file that is not JSON: SCHEMA_INVALID naming the path', async () => {
    const path = join(dir, 'broken.json');
    writeFileSync(path, '{not json');
    await assert.rejects(readSchemaFile(path), (error: InputError) => {
      assert.equal(error.code, 'SCHEMA_INVALID');
      assert.ok(error.message.startsWith(`--schema ${path}: not JSON`), error.message);
      return true;
    });
  });

  it('a JSON string that is not JSON inside: SCHEMA_INVALID', async () => {
    const path = join(dir, 'string.json');
    writeFileSync(path, JSON.stringify('not json'));
    await assert.rejects(readSchemaFile(path), { code: 'SCHEMA_INVALID' });
  });

  it('a malformed entry in a file names the file', async () => {
    const path = join(dir, 'bad-entry.json');
    writeFileSync(path, JSON.stringify([['id', 'time']]));
    await assert.rejects(readSchemaFile(path), (error: InputError) => {
      assert.ok(error.message.startsWith(`--schema ${path}: column id: unknown type`), error.message);
      return true;
    });
  });

  it('a missing file: SCHEMA_UNREADABLE', async () => {
    const path = join(dir, 'missing.json');
    await assert.rejects(readSchemaFile(path), (error: InputError) => {
      assert.ok(error instanceof InputError);
      assert.equal(error.code, 'SCHEMA_UNREADABLE');
      assert.equal(error.message, `--schema ${path}: cannot read the file (ENOENT)`);
      return true;
    });
  });
});
