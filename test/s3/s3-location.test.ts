/**
 * The S3 input location against a real S3 server: an in-process s3rver by default, or the server named
 * by S3_TEST_ENDPOINT (see test/servers/s3rver.ts; `npm run test:s3-rgw` runs this file against Ceph RGW).
 */
import { DeleteObjectsCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createCipheriv, createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gzipSync } from 'node:zlib';
import { AuthError, InputError, TransientError, type ExporterError } from '../../src/errors.js';
import { s3Location } from '../../src/source/s3.js';
import type { InputLocation } from '../../src/source/types.js';
import { startTestS3, type TestS3Server } from '../servers/s3rver.js';

let server: TestS3Server;
let client: S3Client;
const run = `run-${randomUUID().slice(0, 8)}`;
const opened: InputLocation[] = [];

interface LogLine {
  level: 'warn' | 'info';
  obj: Record<string, unknown>;
  msg: string;
}

function capture(): {
  lines: LogLine[];
  logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
} {
  const lines: LogLine[] = [];
  return {
    lines,
    logger: {
      warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    },
  };
}

function location(
  uri: string,
  env: NodeJS.ProcessEnv = server.env(),
  options: Parameters<typeof s3Location>[2] = {},
): InputLocation {
  const loc = s3Location(uri, env, { resumeBackoffMs: () => 20, ...options });
  opened.push(loc);
  return loc;
}

/** The V8 garbage collector, without needing --expose-gc on the command line. */
function exposeGc(): () => void {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

function desAvailable(): boolean {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

const uriOf = (key: string): string => `s3://${server.bucket}/${key}`;

async function put(
  key: string,
  body: Buffer | string,
  extra: { ContentEncoding?: string; ContentType?: string } = {},
): Promise<void> {
  const bytes = typeof body === 'string' ? Buffer.from(body) : body;
  await client.send(
    new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: bytes, ContentLength: bytes.length, ...extra }),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function rejectsWith(
  promise: Promise<unknown>,
  type: abstract new (...args: never[]) => ExporterError,
  code: string,
): Promise<ExporterError> {
  let caught: unknown;
  await promise.then(
    () => assert.fail(`expected ${code}`),
    (error: unknown) => {
      caught = error;
    },
  );
  assert.ok(caught instanceof type, `expected ${type.name}, got ${String(caught)} ${(caught as Error)?.stack ?? ''}`);
  assert.equal(caught.code, code);
  return caught;
}

/**
 * Deterministic pseudo-random bytes, generated in 1 MiB chunks (never held whole): one xorshift block per
 * seed, each chunk stamped with its index so that no two chunks are alike.
 */
function* pattern(size: number, seed: number): Generator<Buffer> {
  const chunkSize = 1 << 20;
  const block = Buffer.allocUnsafe(chunkSize);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < chunkSize; i += 4) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    block.writeUInt32LE(state >>> 0, i);
  }
  for (let offset = 0, index = 0; offset < size; offset += chunkSize, index += 1) {
    const chunk = Buffer.from(block.subarray(0, Math.min(chunkSize, size - offset)));
    if (chunk.length >= 8) chunk.writeUInt32LE(index, 0);
    yield chunk;
  }
}

function bytesOf(size: number, seed: number): Buffer {
  return Buffer.concat([...pattern(size, seed)]);
}

/**
 * A TCP proxy in front of the S3 server that cuts the first `cuts` connections once `cutAfter` bytes of
 * their response have gone through. `beforeCut` runs (with the response paused) before a cut.
 */
async function cuttingProxy(options: {
  cutAfter: number;
  cuts: number;
  beforeCut?: () => Promise<void>;
}): Promise<{ endpoint: string; connections: () => number; close(): Promise<void> }> {
  const upstream = new URL(server.endpoint);
  const sockets = new Set<Socket>();
  let connections = 0;
  const proxy: Server = createServer((downstream) => {
    connections += 1;
    const cutThis = connections <= options.cuts;
    const up = connect(Number(upstream.port || 80), upstream.hostname);
    sockets.add(downstream).add(up);
    const drop = (): void => {
      up.destroy();
      downstream.destroy();
    };
    downstream.on('error', drop).on('close', drop);
    up.on('error', drop).on('close', drop);
    downstream.pipe(up);
    let passed = 0;
    let cutting = false;
    up.on('data', (chunk: Buffer) => {
      if (cutting) return;
      if (cutThis && passed + chunk.length >= options.cutAfter) {
        cutting = true;
        downstream.write(chunk.subarray(0, Math.max(0, options.cutAfter - passed)));
        up.pause();
        void (options.beforeCut ?? (async () => {}))().finally(drop);
        return;
      }
      passed += chunk.length;
      if (!downstream.write(chunk)) {
        up.pause();
        downstream.once('drain', () => up.resume());
      }
    });
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const { port } = proxy.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    connections: () => connections,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => proxy.close(() => resolve()));
    },
  };
}

before(async () => {
  server = await startTestS3();
  client = server.client();
});

after(async () => {
  for (const loc of opened) await loc.close();
  try {
    // Leave an external server's bucket as it was.
    let token: string | undefined;
    do {
      const page = await client.send(
        new ListObjectsV2Command({ Bucket: server.bucket, Prefix: `${run}/`, ContinuationToken: token }),
      );
      const keys = (page.Contents ?? []).map((item) => ({ Key: item.Key! }));
      if (keys.length > 0)
        await client.send(new DeleteObjectsCommand({ Bucket: server.bucket, Delete: { Objects: keys, Quiet: true } }));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  } catch {
    // best effort
  }
  client.destroy();
  await server.close();
});

describe(`s3 location against ${process.env.S3_TEST_ENDPOINT ? 'an external S3 server' : 's3rver'}`, () => {
  it('lists and reads a single object', async () => {
    const body = 'customer_identifier,email,segment\n1,a@example.com,vip\n2,b@example.com,new\n';
    await put(`${run}/single/result.csv`, body);
    const loc = location(uriOf(`${run}/single/result.csv`));
    assert.equal(loc.kind, 's3');
    assert.equal(loc.uri, uriOf(`${run}/single/result.csv`));
    const objects = await loc.list();
    assert.deepEqual(objects, [{ uri: uriOf(`${run}/single/result.csv`), size: Buffer.byteLength(body) }]);
    assert.equal((await readAll(await loc.open(objects[0]!))).toString(), body);
  });

  it('reads a gzip object as its raw bytes', async () => {
    const csv = Array.from({ length: 5000 }, (_, i) => `${i},user${i}@example.com,seg${i % 7}`).join('\n');
    const gz = gzipSync(csv);
    await put(`${run}/gzip/result.csv.gz`, gz, { ContentEncoding: 'gzip', ContentType: 'text/csv' });
    const loc = location(uriOf(`${run}/gzip/result.csv.gz`));
    const [object] = await loc.list();
    assert.equal(object!.size, gz.length);
    const raw = await readAll(await loc.open(object!));
    assert.ok(raw.equals(gz), `got ${raw.length} bytes, expected ${gz.length} gzip bytes`);
  });

  it('lists a prefix in key order across pages, skipping markers, folders and empty objects', async () => {
    const base = `${run}/prefix/`;
    const data = [
      'part-00002.csv',
      'part-00000.csv',
      'B-upper.csv',
      'part-00001.csv',
      'nested/part-00000.csv',
      'part-00010.csv',
    ];
    const markers = [
      '_SUCCESS',
      '_SUCCESS.crc',
      '.part-00000.csv.crc',
      'manifest.json',
      'export.manifest',
      '_committed_42',
      '_started_42',
      'nested_$folder$',
    ];
    for (const [i, name] of data.entries()) await put(base + name, `h\n${i}\n`);
    for (const name of markers) await put(base + name, 'not data');
    await put(`${base}folder/`, '');
    await put(`${base}empty-part.csv`, '');
    await put(`${run}/prefix-sibling.csv`, 'outside the prefix');

    // s3rver's continuation tokens use DES, which Node's OpenSSL 3 only has with --openssl-legacy-provider:
    // page through small pages where the server can (pagination is also covered by s3-config.test.ts).
    const loc = location(uriOf(base), server.env(), {
      listPageSize: server.kind === 's3rver' && !desAvailable() ? 1000 : 3,
    });
    const objects = await loc.list();
    assert.deepEqual(
      objects.map((o) => o.uri),
      [
        'B-upper.csv',
        'nested/part-00000.csv',
        'part-00000.csv',
        'part-00001.csv',
        'part-00002.csv',
        'part-00010.csv',
      ].map((n) => uriOf(base + n)),
    );
    for (const object of objects) assert.equal(object.size, 4);
    const second = await readAll(await loc.open(objects[2]!));
    assert.equal(second.toString(), 'h\n1\n');
  });

  it('a missing key is INPUT_NOT_FOUND (exit 3) with the URI, from list() and open()', async () => {
    const uri = uriOf(`${run}/missing/nothing-here.csv`);
    const loc = location(uri);
    const error = await rejectsWith(loc.list(), InputError, 'INPUT_NOT_FOUND');
    assert.equal(error.exitCode, 3);
    assert.ok(error.message.includes(uri), error.message);
    assert.deepEqual(error.details, { uri, bucket: server.bucket });
    const fromOpen = await rejectsWith(loc.open({ uri }), InputError, 'INPUT_NOT_FOUND');
    assert.ok(fromOpen.message.includes(uri));
  });

  it('a key that is really a prefix says to add the slash', async () => {
    await put(`${run}/dir/part-0.csv`, 'a\n1\n');
    const error = await rejectsWith(location(uriOf(`${run}/dir`)).list(), InputError, 'INPUT_NOT_FOUND');
    assert.match(error.message, /end the URI with "\/"/);
  });

  it('a missing bucket is INPUT_NOT_FOUND for an object, a prefix and a read', async () => {
    const bucket = `no-such-bucket-${randomUUID().slice(0, 8)}`;
    for (const uri of [`s3://${bucket}/result.csv`, `s3://${bucket}/exports/`]) {
      const error = await rejectsWith(location(uri).list(), InputError, 'INPUT_NOT_FOUND');
      assert.ok(error.message.includes(uri), error.message);
      assert.deepEqual(error.details, { uri, bucket });
    }
    const prefixError = await rejectsWith(location(`s3://${bucket}/exports/`).list(), InputError, 'INPUT_NOT_FOUND');
    assert.match(prefixError.message, /bucket .* does not exist/);
    await rejectsWith(
      location(`s3://${bucket}/result.csv`).open({ uri: `s3://${bucket}/result.csv` }),
      InputError,
      'INPUT_NOT_FOUND',
    );
  });

  it('wrong credentials are STORAGE_ACCESS_DENIED (exit 4) naming the bucket, never the keys', async () => {
    await put(`${run}/auth/result.csv`, 'a\n1\n');
    const unknownKey = {
      ...server.env(),
      AWS_ACCESS_KEY_ID: 'AKIAUNKNOWNKEY000001',
      AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-1',
    };
    const wrongSecret = { ...server.env(), AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-2' };
    // s3rver checks the access key id but not SigV4 signatures; a real server (Ceph) checks both.
    const cases = [[unknownKey, /InvalidAccessKeyId/]] as [NodeJS.ProcessEnv, RegExp][];
    if (server.kind !== 's3rver') cases.push([wrongSecret, /SignatureDoesNotMatch/]);
    for (const [env, expected] of cases) {
      for (const uri of [uriOf(`${run}/auth/result.csv`), uriOf(`${run}/auth/`)]) {
        const loc = location(uri, env);
        const error = await rejectsWith(loc.list(), AuthError, 'STORAGE_ACCESS_DENIED');
        assert.equal(error.exitCode, 4);
        assert.match(error.message, new RegExp(`bucket "${server.bucket}"`));
        if (uri.endsWith('/')) assert.match(error.message, expected);
        const seen = JSON.stringify({
          message: error.message,
          details: error.details,
          cause: String(error.cause),
          stack: error.stack,
        });
        for (const secret of [env.AWS_ACCESS_KEY_ID!, env.AWS_SECRET_ACCESS_KEY!])
          assert.ok(!seen.includes(secret), `leaked ${secret}: ${seen}`);
        assert.deepEqual(error.details, { uri, bucket: server.bucket });
      }
      const read = await rejectsWith(
        location(uriOf(`${run}/auth/result.csv`), env).open({ uri: uriOf(`${run}/auth/result.csv`) }),
        AuthError,
        'STORAGE_ACCESS_DENIED',
      );
      assert.match(read.message, expected);
    }
  });

  it('an unreachable endpoint is STORAGE_UNREACHABLE (exit 5)', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const env = { ...server.env(), AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}` };
    const started = Date.now();
    for (const uri of [uriOf(`${run}/x.csv`), uriOf(`${run}/x/`)]) {
      const error = await rejectsWith(location(uri, env).list(), TransientError, 'STORAGE_UNREACHABLE');
      assert.equal(error.exitCode, 5);
      assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${port}`));
      assert.deepEqual(error.details, { uri, bucket: server.bucket });
    }
    await rejectsWith(
      location(uriOf(`${run}/x.csv`), env).open({ uri: uriOf(`${run}/x.csv`) }),
      TransientError,
      'STORAGE_UNREACHABLE',
    );
    assert.ok(Date.now() - started < 15_000);
  });

  it('an empty prefix, or one holding only markers, is INPUT_EMPTY_PREFIX (exit 3)', async () => {
    const nothing = await rejectsWith(location(uriOf(`${run}/nothing/`)).list(), InputError, 'INPUT_EMPTY_PREFIX');
    assert.equal(nothing.exitCode, 3);
    assert.ok(nothing.message.includes(uriOf(`${run}/nothing/`)));
    await put(`${run}/only-markers/_SUCCESS`, '');
    await put(`${run}/only-markers/manifest.json`, '{}');
    const markers = await rejectsWith(location(uriOf(`${run}/only-markers/`)).list(), InputError, 'INPUT_EMPTY_PREFIX');
    assert.match(markers.message, /2 marker, folder or empty objects skipped/);
  });

  it('streams a large object with back-pressure and bounded memory', async (t) => {
    const size = 40 * 1024 * 1024;
    const key = `${run}/large/big.bin`;
    const expected = createHash('sha256');
    const source = Readable.from(
      (function* () {
        for (const chunk of pattern(size, 7)) {
          expected.update(chunk);
          yield chunk;
        }
      })(),
      { objectMode: false },
    );
    await client.send(new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: source, ContentLength: size }));
    const expectedDigest = expected.digest('hex');

    const loc = location(uriOf(key));
    const [object] = await loc.list();
    assert.equal(object!.size, size);
    const stream = await loc.open(object!);
    // Nobody reads for a while: the reader must not pull the object into memory.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const buffered = (stream as Readable & { bytesDelivered: number }).bytesDelivered;
    assert.ok(buffered <= 2 * 1024 * 1024, `read ${buffered} bytes ahead of a consumer that reads nothing`);

    // Memory still referenced (after a forced GC) must stay far below the object's size (an in-process
    // s3rver's own buffers count too); RSS is only checked loosely, as the allocator keeps freed pages.
    const gc = exposeGc();
    const inUse = (): number => {
      const usage = process.memoryUsage();
      return usage.heapUsed + usage.arrayBuffers;
    };
    gc();
    const baseline = inUse();
    const baselineRss = process.memoryUsage().rss;
    let peakRetained = 0;
    let peakRss = baselineRss;
    const hash = createHash('sha256');
    let total = 0;
    let nextCheck = 5 * 1024 * 1024;
    for await (const chunk of stream) {
      hash.update(chunk as Buffer);
      total += (chunk as Buffer).length;
      if (total >= nextCheck) {
        nextCheck += 5 * 1024 * 1024;
        peakRss = Math.max(peakRss, process.memoryUsage().rss);
        gc();
        peakRetained = Math.max(peakRetained, inUse() - baseline);
        // A slow consumer now and then.
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    }
    assert.equal(total, size);
    assert.equal(hash.digest('hex'), expectedDigest);
    const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
    t.diagnostic(
      `read ahead while idle ${mib(buffered)} MiB; peak retained ${mib(peakRetained)} MiB; RSS growth ${mib(peakRss - baselineRss)} MiB`,
    );
    assert.ok(peakRetained < size / 2, `${mib(peakRetained)} MiB retained while streaming a ${mib(size)} MiB object`);
    assert.ok(
      peakRss - baselineRss < size,
      `RSS grew ${mib(peakRss - baselineRss)} MiB while streaming a ${mib(size)} MiB object`,
    );
  });

  it('resumes a connection dropped mid-object with ranged GETs and returns exactly the object', async () => {
    const size = 3 * 1024 * 1024 + 17;
    const body = bytesOf(size, 11);
    const key = `${run}/resume/part-0.bin`;
    await put(key, body);
    const proxy = await cuttingProxy({ cutAfter: 300_000, cuts: 2 });
    try {
      const log = capture();
      const loc = location(
        uriOf(key),
        { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { logger: log.logger },
      );
      const stream = await loc.open({ uri: uriOf(key) });
      const got = await readAll(stream);
      assert.equal(got.length, size);
      assert.ok(got.equals(body), 'bytes differ from the object');
      assert.equal(proxy.connections(), 3);
      const warnings = log.lines.filter((line) => line.level === 'warn');
      assert.equal(warnings.length, 2);
      assert.equal(warnings[0]!.obj.attempt, 1);
      assert.equal(warnings[1]!.obj.attempt, 2);
      assert.equal(warnings[0]!.obj.uri, uriOf(key));
      assert.equal(warnings[0]!.obj.size, size);
      const offset = warnings[0]!.obj.offset as number;
      assert.ok(offset > 0 && offset < 300_000, `resumed at ${offset}`);
      assert.ok((warnings[1]!.obj.offset as number) > offset);
      const logged = JSON.stringify(log.lines);
      assert.ok(!logged.includes(server.secretAccessKey === server.accessKeyId ? '\u0000' : server.secretAccessKey));
      assert.ok(log.lines.some((line) => line.level === 'info' && line.obj.resumes === 2));
    } finally {
      await proxy.close();
    }
  });

  it('gives up after maxResumeAttempts with STORAGE_READ_INTERRUPTED', async () => {
    const size = 1024 * 1024;
    const key = `${run}/resume/flaky.bin`;
    await put(key, bytesOf(size, 3));
    const proxy = await cuttingProxy({ cutAfter: 100_000, cuts: 1000 });
    try {
      const log = capture();
      const loc = location(
        uriOf(key),
        { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { logger: log.logger, maxResumeAttempts: 2 },
      );
      const stream = await loc.open({ uri: uriOf(key) });
      const error = await rejectsWith(readAll(stream), TransientError, 'STORAGE_READ_INTERRUPTED');
      assert.equal(error.exitCode, 5);
      assert.deepEqual(error.details, { uri: uriOf(key), bucket: server.bucket });
      assert.equal(log.lines.filter((line) => line.level === 'warn').length, 2);
    } finally {
      await proxy.close();
    }
  });

  it('does not splice a replaced object: STORAGE_OBJECT_CHANGED', async () => {
    const size = 1024 * 1024;
    const key = `${run}/resume/replaced.bin`;
    await put(key, bytesOf(size, 5));
    const proxy = await cuttingProxy({ cutAfter: 200_000, cuts: 1, beforeCut: () => put(key, bytesOf(size, 6)) });
    try {
      const loc = location(
        uriOf(key),
        { ...server.env(), AWS_ENDPOINT_URL_S3: proxy.endpoint },
        { logger: capture().logger },
      );
      const stream = await loc.open({ uri: uriOf(key) });
      const error = await rejectsWith(readAll(stream), TransientError, 'STORAGE_OBJECT_CHANGED');
      assert.ok(error.message.includes(uriOf(key)));
    } finally {
      await proxy.close();
    }
  });

  it('close() releases the client; a closed location refuses to work', async () => {
    const loc = location(uriOf(`${run}/single/result.csv`));
    await loc.close();
    await loc.close();
    await assert.rejects(loc.list());
  });
});
