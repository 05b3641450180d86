/**
 * Parse ceiling, run as a child process by the benchmark (scripts/bench/parse-ceiling.ts): the gzip CSV read from local disk,
 * gunzipped and parsed by fast-csv `parse({ headers: false })` (the parser the exporter uses), counting
 * rows and nothing else. No exporter can go faster than this with that parser, so its rows per second
 * are the yardstick for the exporter's end-to-end figure.
 *
 *   node --import tsx scripts/bench/parse-ceiling-child.ts FILE.csv.gz
 *
 * Prints one JSON line: {"rows", "seconds", "rowsPerSecond", "vmHwmKb"} (rows excludes the header).
 */
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'fast-csv';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: parse-ceiling-child.ts FILE.csv.gz\n');
  process.exit(2);
}

let rows = 0;
const started = performance.now();
await pipeline(
  createReadStream(file, { highWaterMark: 1024 * 1024 }),
  createGunzip({ chunkSize: 256 * 1024 }),
  parse({ headers: false }),
  new Writable({
    objectMode: true,
    highWaterMark: 2_000,
    write(_row: string[], _encoding, callback) {
      rows++;
      callback();
    },
  }),
);
const seconds = (performance.now() - started) / 1000;
const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
const vmHwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
const dataRows = Math.max(0, rows - 1);
process.stdout.write(`${JSON.stringify({ rows: dataRows, seconds, rowsPerSecond: dataRows / seconds, vmHwmKb })}\n`);
