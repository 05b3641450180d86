/**
 * Peak memory of reading one S3 object through the exporter's input path, by object size.
 *
 * Generates CSV objects of 20 MB and 200 MB (uncompressed), each plain and gzip, uploads them to an
 * in-process s3rver (or to the server named by S3_TEST_ENDPOINT, as in the tests), then reads each in a
 * fresh child process: `s3Location().open()` -> gunzip (for .gz) -> fast-csv `parse({ headers: true })` ->
 * a sink that counts rows. The child's peak RSS is taken from the OS (`/usr/bin/time -v`, "Maximum
 * resident set size"; the child's own VmHWM from /proc is printed beside it). Streaming is working when
 * the 200 MB peak is within 1.3x the 20 MB peak.
 *
 *   npm run bench:s3-memory            # sizes from S3_MEMORY_SIZES_MB, default "20,200"
 */
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { createGzip, createGunzip } from 'node:zlib';

const MB = 1_000_000;
const TIME = '/usr/bin/time';

if (process.argv[2] === '--child') {
  await child(process.argv[3]!);
} else {
  await main();
}

/** Reads one object the way the exporter does and prints what it saw as JSON. */
async function child(uri: string): Promise<void> {
  const { parse } = await import('fast-csv');
  const { s3Location } = await import('../src/source/s3.js');
  const location = s3Location(uri);
  const started = Date.now();
  let rows = 0;
  let bytes: number;
  try {
    const [object] = await location.list();
    const raw = await location.open(object!);
    const sink = new Writable({
      objectMode: true,
      write(_row, _encoding, callback) {
        rows += 1;
        callback();
      },
    });
    const stages: NodeJS.ReadWriteStream[] = uri.endsWith('.gz') ? [createGunzip()] : [];
    await pipeline([raw, ...stages, parse({ headers: true }), sink]);
    bytes = (raw as { bytesDelivered?: number }).bytesDelivered ?? NaN;
  } finally {
    await location.close();
  }
  const status = await readFile('/proc/self/status', 'utf8').catch(() => '');
  const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  process.stdout.write(`${JSON.stringify({ rows, bytes, ms: Date.now() - started, vmHwmKb: hwmKb })}\n`);
}

interface Measurement {
  name: string;
  objectBytes: number;
  csvBytes: number;
  rows: number;
  ms: number;
  peakRssKb: number;
  vmHwmKb: number;
}

async function main(): Promise<void> {
  const { startTestS3 } = await import('../test/servers/s3rver.js');
  const sizes = (process.env.S3_MEMORY_SIZES_MB ?? '20,200').split(',').map((s) => Number(s.trim()));
  if (sizes.length !== 2 || sizes.some((s) => !Number.isFinite(s) || s <= 0))
    throw new Error('S3_MEMORY_SIZES_MB must be two sizes in MB, e.g. 20,200');
  const useTime = existsSync(TIME);
  const server = await startTestS3();
  const client = server.client();
  const work = await mkdtemp(join(tmpdir(), 's3-memory-'));
  const prefix = `bench-${Date.now().toString(36)}`;
  const results: Measurement[] = [];
  try {
    console.error(`server: ${server.kind} ${server.endpoint}; peak RSS from ${useTime ? `${TIME} -v` : '/proc VmHWM'}`);
    const baseline = await measure(server, `s3://${server.bucket}/${prefix}/none.csv`, useTime, true);
    for (const gzip of [false, true]) {
      for (const sizeMb of sizes) {
        const name = `${sizeMb}MB.csv${gzip ? '.gz' : ''}`;
        const file = join(work, name);
        const csvBytes = await writeCsv(file, sizeMb * MB, gzip);
        const objectBytes = (await stat(file)).size;
        const key = `${prefix}/${name}`;
        await client.send(
          new PutObjectCommand({
            Bucket: server.bucket,
            Key: key,
            Body: createReadStream(file),
            ContentLength: objectBytes,
            ...(gzip ? { ContentEncoding: 'gzip' } : {}),
          }),
        );
        await rm(file);
        const run = await measure(server, `s3://${server.bucket}/${key}`, useTime, false);
        results.push({ name, objectBytes, csvBytes, ...run });
        console.error(`${name}: ${run.rows} rows in ${run.ms} ms, peak RSS ${mb(run.peakRssKb * 1024)} MB`);
      }
    }
    print(baseline.peakRssKb, results, sizes);
  } finally {
    client.destroy();
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** Runs the child for one object; `probe` runs it against a missing object (start-up cost only). */
async function measure(
  server: { env(): NodeJS.ProcessEnv },
  uri: string,
  useTime: boolean,
  probe: boolean,
): Promise<{ rows: number; ms: number; peakRssKb: number; vmHwmKb: number }> {
  const script = fileURLToPath(import.meta.url);
  const timeFile = join(tmpdir(), `s3-memory-time-${process.pid}-${Date.now()}.txt`);
  const node = [process.execPath, '--import', 'tsx', script, '--child', uri];
  const argv = useTime ? [TIME, '-v', '-o', timeFile, ...node] : node;
  const env = { ...process.env, ...server.env(), AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const proc = spawn(argv[0]!, argv.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d: Buffer) => (out += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code: number = await new Promise((resolve) => proc.on('close', (c) => resolve(c ?? 1)));
  let peakRssKb = NaN;
  if (useTime) {
    const report = await readFile(timeFile, 'utf8').catch(() => '');
    await rm(timeFile, { force: true });
    peakRssKb = Number(/Maximum resident set size \(kbytes\):\s*(\d+)/.exec(report)?.[1] ?? NaN);
  }
  if (probe) return { rows: 0, ms: 0, peakRssKb, vmHwmKb: NaN };
  if (code !== 0) throw new Error(`child failed for ${uri} (exit ${code}): ${err.slice(-2000)}`);
  const seen = JSON.parse(out.trim().split('\n').pop()!) as { rows: number; ms: number; vmHwmKb: number };
  return {
    rows: seen.rows,
    ms: seen.ms,
    peakRssKb: Number.isFinite(peakRssKb) ? peakRssKb : seen.vmHwmKb,
    vmHwmKb: seen.vmHwmKb,
  };
}

/** Writes CSV rows up to `bytes` of text (gzip-compressed when asked); returns the CSV text size. */
async function writeCsv(file: string, bytes: number, gzip: boolean): Promise<number> {
  let written = 0;
  let state = 0x9e3779b9;
  const next = (): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return state >>> 0;
  };
  const segments = ['vip', 'new_customers', 'churn_risk', 'newsletter', 'winback'];
  function* rows(): Generator<string> {
    const header = 'customer_identifier,email,first_name,segment,score,note,updated_at\n';
    written += header.length;
    yield header;
    let id = 0;
    while (written < bytes) {
      let batch = '';
      for (let i = 0; i < 1000 && written + batch.length < bytes; i += 1) {
        id += 1;
        const r = next();
        const note = r % 50 === 0 ? '"said ""hi"", then left"' : `n${r % 100000}`;
        batch += `${id},user${id}@example.com,Name${r % 9973},${segments[r % segments.length]},${(r % 10000) / 100},${note},2024-0${(r % 9) + 1}-1${r % 10}T10:00:00Z\n`;
      }
      written += batch.length;
      yield batch;
    }
  }
  const source = Readable.from(rows());
  if (gzip) await pipeline(source, createGzip({ level: 6 }), createWriteStream(file));
  else await pipeline(source, createWriteStream(file));
  return written;
}

function mb(n: number): string {
  return (n / MB).toFixed(1);
}

function print(baselineKb: number, results: Measurement[], sizes: number[]): void {
  console.log('');
  console.log(`child start-up alone (modules loaded, one failed HEAD): ${mb(baselineKb * 1024)} MB peak RSS`);
  console.log('object            object MB   CSV MB      rows   read s   peak RSS MB   VmHWM MB');
  for (const r of results) {
    console.log(
      `${r.name.padEnd(16)} ${mb(r.objectBytes).padStart(10)} ${mb(r.csvBytes).padStart(8)} ${String(r.rows).padStart(9)} ${(r.ms / 1000).toFixed(1).padStart(8)} ${mb(r.peakRssKb * 1024).padStart(13)} ${mb(r.vmHwmKb * 1024).padStart(10)}`,
    );
  }
  let ok = true;
  for (const suffix of ['.csv', '.csv.gz']) {
    const small = results.find((r) => r.name === `${sizes[0]}MB${suffix}`)!;
    const large = results.find((r) => r.name === `${sizes[1]}MB${suffix}`)!;
    const ratio = large.peakRssKb / small.peakRssKb;
    ok &&= ratio <= 1.3;
    console.log(
      `${suffix.slice(1).padEnd(7)} ${sizes[1]} MB peak / ${sizes[0]} MB peak = ${mb(large.peakRssKb * 1024)} / ${mb(small.peakRssKb * 1024)} = ${ratio.toFixed(3)} (target <= 1.3: ${ratio <= 1.3 ? 'met' : 'NOT met'})`,
    );
  }
  if (!ok) process.exitCode = 1;
}
