import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, describe, it } from 'node:test';
import { pathToFileURL } from 'node:url';
import { InputError } from '../../src/errors.js';
import { fileLocation } from '../../src/source/local.js';
import { isMarkerObject } from '../../src/source/markers.js';

const root = mkdtempSync(join(tmpdir(), 'local-location-'));
after(() => rmSync(root, { recursive: true, force: true }));
let count = 0;

function directory(files: Record<string, string>): string {
  const path = join(root, `dir-${++count}`);
  mkdirSync(path);
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(path, name, '..'), { recursive: true });
    writeFileSync(join(path, name), content);
  }
  return path;
}

async function listError(uri: string, code: string): Promise<InputError> {
  try {
    await fileLocation(uri).list();
  } catch (error) {
    assert.ok(error instanceof InputError, `expected an InputError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    assert.equal(error.exitCode, 3);
    return error;
  }
  assert.fail(`expected ${code}`);
}

async function text(uri: string): Promise<string[]> {
  const location = fileLocation(uri);
  const out: string[] = [];
  for (const object of await location.list()) {
    const chunks: Buffer[] = [];
    for await (const chunk of await location.open(object)) chunks.push(chunk as Buffer);
    out.push(Buffer.concat(chunks).toString());
  }
  await location.close();
  return out;
}

describe('fileLocation', () => {
  it('a single file: one object with its file URL and size', async () => {
    const dir = directory({ 'result.csv': 'id\n1\n' });
    const path = join(dir, 'result.csv');
    const location = fileLocation(path);
    assert.equal(location.kind, 'file');
    assert.equal(location.uri, path);
    assert.deepEqual(await location.list(), [{ uri: pathToFileURL(path).href, size: 5 }]);
    assert.deepEqual(await text(path), ['id\n1\n']);
  });

  it('a file:// URI and a relative path', async () => {
    const dir = directory({ 'a.csv': 'x\n' });
    const path = join(dir, 'a.csv');
    assert.deepEqual(await text(pathToFileURL(path).href), ['x\n']);
    assert.deepEqual(await text(relative(process.cwd(), path)), ['x\n']);
  });

  it('names with spaces, # and % survive the file URL', async () => {
    const dir = directory({ 'my result #1 100%.csv': 'ok\n' });
    const path = join(dir, 'my result #1 100%.csv');
    const [object] = await fileLocation(path).list();
    assert.match(object!.uri, /^file:\/\//);
    assert.deepEqual(await text(path), ['ok\n']);
  });

  it('an empty single file is listed (the reader reports INPUT_EMPTY)', async () => {
    const dir = directory({ 'empty.csv': '' });
    assert.deepEqual(await fileLocation(join(dir, 'empty.csv')).list(), [
      { uri: pathToFileURL(join(dir, 'empty.csv')).href, size: 0 },
    ]);
  });

  it('a directory is read like a prefix: its files in name order', async () => {
    const dir = directory({ 'part-2.csv': 'c', 'part-10.csv': 'b', 'part-1.csv': 'a', 'Z.csv': 'z' });
    const objects = await fileLocation(dir).list();
    assert.deepEqual(
      objects.map((object) => object.uri.split('/').pop()),
      ['Z.csv', 'part-1.csv', 'part-10.csv', 'part-2.csv'],
    );
    assert.deepEqual(
      objects.map((object) => object.size),
      [1, 1, 1, 1],
    );
    assert.deepEqual(await text(dir), ['z', 'a', 'b', 'c']);
  });

  it('skips markers, manifests, checksums, hidden files, empty files and subdirectories', async () => {
    const dir = directory({
      'part-0.csv': 'data',
      _SUCCESS: 'x',
      '_SUCCESS.json': 'x',
      _success: 'x',
      _committed_1234: 'x',
      _started_1234: 'x',
      _metadata: 'x',
      _common_metadata: 'x',
      'export.manifest': 'x',
      manifest: 'x',
      'manifest.json': 'x',
      '.part-0.csv.crc': 'x',
      'part-0.csv.crc': 'x',
      dir_$folder$: 'x',
      '.hidden': 'x',
      'empty.csv': '',
      'sub/part-9.csv': 'nested',
    });
    const objects = await fileLocation(dir).list();
    assert.deepEqual(
      objects.map((object) => object.uri.split('/').pop()),
      ['part-0.csv'],
    );
  });

  it('a directory holding only markers: INPUT_EMPTY_PREFIX', async () => {
    const error = await listError(directory({ _SUCCESS: '', 'empty.csv': '' }), 'INPUT_EMPTY_PREFIX');
    assert.match(error.message, /the directory holds no data files/);
  });

  it('an empty directory: INPUT_EMPTY_PREFIX', async () => {
    await listError(directory({}), 'INPUT_EMPTY_PREFIX');
  });

  it('a missing path: INPUT_NOT_FOUND', async () => {
    const path = join(root, 'does-not-exist.csv');
    const error = await listError(path, 'INPUT_NOT_FOUND');
    assert.equal(error.message, `input ${path}: no such file or directory`);
    assert.deepEqual(error.details, { uri: path });
  });

  it('a path through a file: INPUT_NOT_FOUND naming the cause', async () => {
    const dir = directory({ 'a.csv': 'x' });
    const error = await listError(join(dir, 'a.csv', 'b.csv'), 'INPUT_NOT_FOUND');
    assert.match(error.message, /ENOTDIR/);
  });

  it('a device or other non-regular file: INPUT_NOT_FOUND', async () => {
    const error = await listError('/dev/null', 'INPUT_NOT_FOUND');
    assert.match(error.message, /not a regular file or directory/);
  });

  it('a dangling symbolic link in a directory is skipped or reported as an input error', async () => {
    const dir = directory({ 'part-0.csv': 'data' });
    symlinkSync(join(dir, 'gone.csv'), join(dir, 'part-1.csv'));
    try {
      const objects = await fileLocation(dir).list();
      assert.deepEqual(
        objects.map((object) => object.uri.split('/').pop()),
        ['part-0.csv'],
      );
    } catch (error) {
      assert.ok(error instanceof InputError, `raw error: ${String(error)}`);
    }
  });

  it('a symbolic link to a file is followed', async () => {
    const dir = directory({ 'real.csv': 'linked' });
    symlinkSync(join(dir, 'real.csv'), join(dir, 'link.csv'));
    assert.deepEqual(await text(dir), ['linked', 'linked']);
  });
});

describe('isMarkerObject', () => {
  for (const key of [
    '_SUCCESS',
    'prefix/_SUCCESS',
    'a/b/_success',
    'x/_SUCCESS.crc',
    'x/_committed_1',
    'x/_started_1',
    'x/_metadata',
    'x/_common_metadata',
    'x/job.manifest',
    'x/manifest',
    'x/MANIFEST.json',
    'x/.part-0.crc',
    'x/dir_$folder$',
    'prefix/',
    '',
  ]) {
    it(`${JSON.stringify(key)} is a marker`, () => assert.equal(isMarkerObject(key), true));
  }
  for (const key of [
    'part-0.csv',
    'x/part-00000.csv.gz',
    'x/SUCCESS',
    'x/_SUCCESSFUL.csv',
    'x/manifest.csv',
    'x/metadata',
    'x/data_committed_.csv',
    '_SUCCESS/part-0.csv',
  ]) {
    it(`${JSON.stringify(key)} is data`, () => assert.equal(isMarkerObject(key), false));
  }
});
