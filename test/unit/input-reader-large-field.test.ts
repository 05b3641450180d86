import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { fileLocation } from '../../src/source/local.js';
import { InputReader } from '../../src/source/input-reader.js';
import type { RawRow } from '../../src/source/raw-rows.js';
import type { InputLocation } from '../../src/source/types.js';
import { readAllRows } from '../helpers/read-rows.ts';

const dir = mkdtempSync(join(tmpdir(), 'records-large-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TEN_MB = 10 * 1024 * 1024;
/**
 * Reading 10 MB through fast-csv takes a few seconds however it is laid out (about 0.35 s per MB of
 * ordinary rows on a busy 2-core machine); parsing an unfinished field again for every chunk (the old
 * behaviour) took about a minute. The read gives up here instead of waiting that long.
 */
const DEADLINE_MS = 20_000;

/** Reads a local file, failing the source stream once `deadlineMs` has passed. */
async function readWithDeadline(path: string, deadlineMs: number) {
  const base = fileLocation(path);
  const opened: Readable[] = [];
  const location: InputLocation = {
    ...base,
    open: async (object) => {
      const stream = await base.open(object);
      opened.push(stream);
      return stream;
    },
  };
  const reader = new InputReader(location, await base.list(), {
    maxDecompressedBytes: 1e9,
    maxFieldBytes: 16 * 1024 * 1024,
  });
  const started = performance.now();
  const timer = setTimeout(() => {
    for (const stream of opened) stream.destroy(new Error(`gave up after ${deadlineMs} ms`));
  }, deadlineMs);
  let rows: RawRow[];
  try {
    ({ rows } = await readAllRows(reader, 16 * 1024 * 1024));
  } finally {
    clearTimeout(timer);
  }
  return { rows, elapsedMs: performance.now() - started };
}

describe('InputReader: a very large field', () => {
  it('reads a 10 MB single field (quoted, with a newline) in time linear in its size', async () => {
    const field = `${'x'.repeat(TEN_MB / 2)}\n${'y'.repeat(TEN_MB / 2)}`;
    const path = join(dir, 'ten-mb.csv');
    writeFileSync(path, `id,name\n1,"${field}"\n2,b\n`);
    const { rows, elapsedMs } = await readWithDeadline(path, DEADLINE_MS);
    assert.equal((rows[0] as string[])[1]!.length, field.length);
    assert.equal((rows[0] as string[])[1], field);
    assert.deepEqual(rows[1], ['2', 'b']);
    assert.ok(elapsedMs < DEADLINE_MS);
  });
});
