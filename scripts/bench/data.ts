/**
 * Benchmark input: a gzip CSV shaped like a Treasure Data query result for the exporter, generated as a
 * stream (never held in memory) and cached under `.bench/data/`, keyed by its parameters, so repeated
 * runs reuse it.
 *
 * Columns: selligent_segment, customer_identifier, email, first_name, lifetime_value (double),
 * last_purchase_at (timestamp `YYYY-MM-DD HH:MM:SS`), is_active (boolean).
 *
 * - Segments: `segments` api_names with Zipf-like (1/rank) sizes, so the largest holds several times the
 *   share of the smallest.
 * - Duplicate keys: `DUPLICATE_RATE` of the rows repeat an earlier key, 60 % from the last 1,000 keys and
 *   40 % from anywhere earlier in the file, with a fresh Segment draw (a key may belong to several
 *   Segments) and fresh values (ImportLastMatch takes the last).
 * - Invalid rows (~0.5 %): a blank Segment value or a blank key, half each. Their keys never collide
 *   with valid ones.
 * - Some empty values (null), some first names quoted with a comma and `""`, some non-ASCII names.
 *
 * The generator is deterministic (seeded), and it records what the exporter should find (valid rows,
 * distinct keys, skipped rows by reason) beside the file, so a run's report can be checked against it.
 */
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import { roundTo } from '../../src/rounding.js';

/** Bump when the generated content changes, so stale cached files are not reused. */
const GENERATOR_VERSION = 1;
const DUPLICATE_RATE = 0.03;
const NEAR_DUPLICATE_SHARE = 0.6;
const NEAR_WINDOW = 1_000;
const BLANK_SEGMENT_RATE = 0.0025;
const BLANK_KEY_RATE = 0.0025;
const QUOTED_NAME_RATE = 0.02;
const NON_ASCII_NAME_RATE = 0.01;

export const HEADER = [
  'selligent_segment',
  'customer_identifier',
  'email',
  'first_name',
  'lifetime_value',
  'last_purchase_at',
  'is_active',
];

export interface DataParams {
  rows: number;
  segments: number;
  seed: number;
}

export interface DataMeta extends DataParams {
  version: number;
  file: string;
  /** Size of the gzip file and of the CSV text inside it. */
  gzipBytes: number;
  csvBytes: number;
  /** MD5 of the gzip file (hex): an S3 PutObject of it must answer this ETag. */
  md5: string;
  header: string[];
  validRows: number;
  distinctKeys: number;
  /** Valid rows whose key an earlier valid row already had (the exporter merges them away). */
  duplicateRows: number;
  nearDuplicates: number;
  farDuplicates: number;
  skipped: { segment_blank: number; key_blank: number };
  quotedRows: number;
  segmentNames: string[];
  /** Valid rows routed to each Segment (before deduplication). */
  segmentRows: Record<string, number>;
  generatedSeconds: number;
}

const THEMES = [
  'vip',
  'loyal',
  'new_customers',
  're_engagement',
  'churn_risk',
  'newsletter',
  'winback',
  'high_value',
  'cart_abandoners',
  'birthday_month',
];
const FIRST_NAMES = [
  'Mei',
  'Dan',
  'Lina',
  'Akira',
  'Sofia',
  'Liam',
  'Noah',
  'Emma',
  'Olivia',
  'Ava',
  'Lucas',
  'Mia',
  'Ethan',
  'Yuki',
  'Hana',
  'Ren',
  'Chloe',
  'Leo',
  'Zoe',
  'Max',
  'Nina',
  'Omar',
  'Priya',
  'Ravi',
  'Sara',
  'Tom',
  'Uma',
  'Victor',
  'Wen',
  'Xavier',
  'Yara',
  'Zach',
];
const LAST_NAMES = [
  'Tanaka',
  'Smith',
  'Garcia',
  'Müller',
  'Rossi',
  'Dubois',
  'Kim',
  'Nguyen',
  'Silva',
  'Jansen',
  "O'Brien",
  'Kowalski',
];
const NON_ASCII = ['太郎', '花子', 'Zoë', 'José', 'Łukasz', 'Søren', 'Ağa', 'Дмитрий'];
const DOMAINS = ['example.com', 'example.org', 'mail.example.net', 'example.co.jp'];
const TS_FROM = Date.UTC(2020, 0, 1) / 1000;
const TS_SPAN = (Date.UTC(2026, 10, 1) - Date.UTC(2020, 0, 1)) / 1000;

export function segmentNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `seg_${String(i + 1).padStart(2, '0')}_${THEMES[i % THEMES.length]}`);
}

/** The cache path for these parameters. */
export function dataPath(dir: string, p: DataParams): string {
  return join(dir, `result-v${GENERATOR_VERSION}-${p.rows}r-${p.segments}s-seed${p.seed}.csv.gz`);
}

/** mulberry32: small, fast and good enough for test data. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function timestamp(seconds: number): string {
  const d = new Date(seconds * 1000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}`;
}

/** Returns the cached file's description, generating the file first when it is missing. */
export async function ensureData(
  dir: string,
  p: DataParams,
  log: (line: string) => void,
): Promise<{ meta: DataMeta; generated: boolean }> {
  const file = dataPath(dir, p);
  const metaFile = `${file}.json`;
  if (existsSync(file) && existsSync(metaFile)) {
    const meta = JSON.parse(await readFile(metaFile, 'utf8')) as DataMeta;
    if (
      meta.version === GENERATOR_VERSION &&
      meta.rows === p.rows &&
      meta.segments === p.segments &&
      meta.seed === p.seed
    ) {
      log(
        `input: reusing ${file} (${(meta.gzipBytes / 1e6).toFixed(1)} MB gzip, ${(meta.csvBytes / 1e6).toFixed(1)} MB CSV)`,
      );
      return { meta: { ...meta, file }, generated: false };
    }
  }
  await mkdir(dir, { recursive: true });
  log(`input: generating ${p.rows} rows, ${p.segments} Segments -> ${file}`);
  const started = performance.now();
  const meta = await generate(file, p);
  meta.generatedSeconds = roundTo((performance.now() - started) / 1000, 1);
  await writeFile(metaFile, JSON.stringify(meta, null, 2) + '\n');
  log(
    `input: generated in ${meta.generatedSeconds} s (${(meta.gzipBytes / 1e6).toFixed(1)} MB gzip, ${(meta.csvBytes / 1e6).toFixed(1)} MB CSV)`,
  );
  return { meta, generated: true };
}

export async function removeData(meta: DataMeta): Promise<void> {
  await rm(meta.file, { force: true });
  await rm(`${meta.file}.json`, { force: true });
}

async function generate(file: string, p: DataParams): Promise<DataMeta> {
  const random = rng(p.seed);
  const names = segmentNames(p.segments);
  // Zipf-like weights 1/rank; the cumulative table is searched per row.
  const weights = names.map((_, i) => 1 / (i + 1));
  const total = weights.reduce((a, b) => a + b, 0);
  const cumulative: number[] = [];
  let acc = 0;
  for (const w of weights) cumulative.push((acc += w / total));
  const pickSegment = (): number => {
    const r = random();
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (cumulative[mid]! < r) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };

  const meta: DataMeta = {
    ...p,
    version: GENERATOR_VERSION,
    file,
    gzipBytes: 0,
    csvBytes: 0,
    md5: '',
    header: HEADER,
    validRows: 0,
    distinctKeys: 0,
    duplicateRows: 0,
    nearDuplicates: 0,
    farDuplicates: 0,
    skipped: { segment_blank: 0, key_blank: 0 },
    quotedRows: 0,
    segmentNames: names,
    segmentRows: Object.fromEntries(names.map((n) => [n, 0])),
    generatedSeconds: 0,
  };
  const segmentCounts = new Array<number>(names.length).fill(0);
  let issued = 0; // keys C000000001 .. C{issued} belong to valid rows
  let invalidKeys = 0; // keys of invalid rows: a separate range, never shared with valid rows

  const line = (): string => {
    const r = random();
    let segment: string;
    let key: string;
    let id: number;
    if (r < BLANK_SEGMENT_RATE) {
      segment = random() < 0.5 ? '' : '  ';
      id = 900_000_000 + ++invalidKeys;
      key = `C${id}`;
      meta.skipped.segment_blank++;
    } else if (r < BLANK_SEGMENT_RATE + BLANK_KEY_RATE) {
      segment = names[pickSegment()]!;
      id = 900_000_000 + ++invalidKeys;
      key = '';
      meta.skipped.key_blank++;
    } else {
      const s = pickSegment();
      segment = names[s]!;
      segmentCounts[s]!++;
      meta.validRows++;
      if (issued > 0 && random() < DUPLICATE_RATE) {
        if (random() < NEAR_DUPLICATE_SHARE) {
          id = issued - Math.floor(random() * Math.min(NEAR_WINDOW, issued));
          meta.nearDuplicates++;
        } else {
          id = 1 + Math.floor(random() * issued);
          meta.farDuplicates++;
        }
        meta.duplicateRows++;
      } else {
        id = ++issued;
      }
      key = `C${String(id).padStart(9, '0')}`;
    }
    const first = FIRST_NAMES[Math.floor(random() * FIRST_NAMES.length)]!;
    const q = random();
    let name: string;
    if (q < QUOTED_NAME_RATE) {
      const last = LAST_NAMES[Math.floor(random() * LAST_NAMES.length)]!;
      name = `"${last}, ${first} ""${first.slice(0, 2)}"""`;
      meta.quotedRows++;
    } else if (q < QUOTED_NAME_RATE + NON_ASCII_NAME_RATE) {
      name = NON_ASCII[Math.floor(random() * NON_ASCII.length)]!;
    } else {
      name = first;
    }
    const email = `${first.toLowerCase()}.${id}@${DOMAINS[id % DOMAINS.length]}`;
    const ltv = random() < 0.01 ? '' : (random() * 5000).toFixed(2);
    const ts = random() < 0.02 ? '' : timestamp(TS_FROM + Math.floor(random() * TS_SPAN));
    const active = random() < 0.8 ? 'true' : 'false';
    return `${segment},${key},${email},${name},${ltv},${ts},${active}\n`;
  };

  let produced = 0;
  function* text(): Generator<string> {
    yield HEADER.join(',') + '\n';
    while (produced < p.rows) {
      const n = Math.min(2_000, p.rows - produced);
      let chunk = '';
      for (let i = 0; i < n; i++) chunk += line();
      produced += n;
      meta.csvBytes += Buffer.byteLength(chunk);
      yield chunk;
    }
  }

  const md5 = createHash('md5');
  let gzipBytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      md5.update(chunk);
      gzipBytes += chunk.length;
      callback(null, chunk);
    },
  });
  const partial = `${file}.partial-${process.pid}`;
  try {
    await pipeline(Readable.from(text()), createGzip({ level: 6 }), tap, createWriteStream(partial));
    await rename(partial, file);
  } catch (error) {
    await rm(partial, { force: true });
    throw error;
  }
  meta.csvBytes += Buffer.byteLength(HEADER.join(',') + '\n');
  meta.gzipBytes = gzipBytes;
  meta.md5 = md5.digest('hex');
  meta.distinctKeys = issued;
  names.forEach((n, i) => (meta.segmentRows[n] = segmentCounts[i]!));
  return meta;
}
