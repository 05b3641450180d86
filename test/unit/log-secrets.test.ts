import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger, printLine } from '../../src/log.js';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { RejectedRowsFile } from '../../src/pipeline/rejected.js';
import { writeReport } from '../../src/report/writer.js';
import type { RunReport } from '../../src/report/types.js';
import { clearSecrets, REDACTED, registerSecret, registerSecretsFromEnv, scrubSecrets } from '../../src/secrets.js';

const KEY = 'slgKey_4f9a2c71';
const SECRET = 'Sec+ret/Value=9x.Z';
const AWS_ID = 'AKIAIOSFODNN7EXAMPLE';
const AWS_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const AWS_TOKEN = 'FwoGZXIvYXdzEJr//////////wEaDOPEXAMPLETOKEN';
const ALL = [KEY, SECRET, AWS_ID, AWS_SECRET, AWS_TOKEN];

const ENV = {
  SELLIGENT_API_KEY: KEY,
  SELLIGENT_API_SECRET: SECRET,
  AWS_ACCESS_KEY_ID: AWS_ID,
  AWS_SECRET_ACCESS_KEY: AWS_SECRET,
  AWS_SESSION_TOKEN: AWS_TOKEN,
};

/** A memory sink and a logger writing JSON lines into it. */
function memoryLogger(options: { format?: string; level?: string } = {}) {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger(
    {
      destination,
      isTty: false,
      level: options.level ?? 'trace',
      ...(options.format ? { format: options.format } : {}),
    },
    {},
  );
  return {
    logger,
    async text(): Promise<string> {
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      return chunks.join('');
    },
  };
}

function assertClean(text: string, values: string[] = ALL): void {
  for (const value of values) assert.ok(!text.includes(value), `${JSON.stringify(value)} leaked into: ${text}`);
  // Not in a JSON-escaped form either.
  for (const value of values)
    assert.ok(!text.includes(JSON.stringify(value).slice(1, -1)), `${value} leaked (escaped)`);
}

beforeEach(() => {
  clearSecrets();
  registerSecretsFromEnv(ENV);
});
afterEach(() => clearSecrets());

describe('scrubSecrets', () => {
  it('replaces every registered value, also several in one text', () => {
    assert.equal(scrubSecrets(`k=${KEY} s=${SECRET} k=${KEY}`), `k=${REDACTED} s=${REDACTED} k=${REDACTED}`);
  });

  it('replaces key:secret as one value', () => {
    assert.equal(scrubSecrets(`X-ApiKey: ${KEY}:${SECRET}`), `X-ApiKey: ${REDACTED}`);
  });

  it('treats regular-expression characters in a secret literally', () => {
    registerSecret('a.b*c+d?(e)');
    assert.equal(scrubSecrets('xa.b*c+d?(e)y axbbbcd'), `x${REDACTED}y axbbbcd`);
  });

  it('prefers the longest match when one secret contains another', () => {
    registerSecret('abcdef');
    registerSecret('abcdefghij');
    assert.equal(scrubSecrets('abcdefghij abcdef'), `${REDACTED} ${REDACTED}`);
  });

  it('ignores values shorter than 6 characters, empty and undefined', () => {
    clearSecrets();
    registerSecret('abc');
    registerSecret('abcde');
    assert.equal(scrubSecrets('abcde is a word'), 'abcde is a word');
    registerSecret('');
    registerSecret(undefined);
    assert.equal(scrubSecrets('abc is a word'), 'abc is a word');
  });

  it('returns text unchanged when nothing is registered or nothing matches', () => {
    assert.equal(scrubSecrets('plain text'), 'plain text');
    clearSecrets();
    assert.equal(scrubSecrets(`${KEY}`), KEY);
  });

  it('is stable across repeated calls (no lastIndex carry-over)', () => {
    for (let i = 0; i < 5; i++) assert.equal(scrubSecrets(`x${KEY}`), `x${REDACTED}`);
  });

  it('registerSecretsFromEnv skips variables that are not set', () => {
    clearSecrets();
    registerSecretsFromEnv({ SELLIGENT_API_KEY: KEY });
    assert.equal(scrubSecrets(`${KEY} ${SECRET}`), `${REDACTED} ${SECRET}`);
  });
});

describe('createLogger: no secret reaches a log line', () => {
  it('in the message text', async () => {
    const { logger, text } = memoryLogger();
    logger.info(`key ${KEY} secret ${SECRET} header ${KEY}:${SECRET} aws ${AWS_ID} ${AWS_SECRET} ${AWS_TOKEN}`);
    const out = await text();
    assertClean(out);
    assert.equal((out.match(/\[REDACTED\]/g) ?? []).length, 6);
    assert.equal(JSON.parse(out).level, 'info');
  });

  it('in nested objects, arrays and error messages', async () => {
    const { logger, text } = memoryLogger();
    logger.warn(
      {
        request: {
          url: `https://x/?k=${KEY}`,
          body: [{ note: `secret ${SECRET}` }],
          deep: { deeper: { aws: AWS_SECRET } },
        },
      },
      'nested',
    );
    logger.error({ err: new Error(`S3 said ${AWS_SECRET} and ${AWS_TOKEN}`) }, 'failed');
    logger.debug({ list: [KEY, SECRET, `${KEY}:${SECRET}`] }, 'list');
    const out = await text();
    assertClean(out);
    assert.equal(out.trim().split('\n').length, 3);
    for (const line of out.trim().split('\n')) JSON.parse(line);
  });

  it('in headers["X-ApiKey"], also when the value is not registered', async () => {
    const { logger, text } = memoryLogger();
    logger.info({ headers: { 'X-ApiKey': `${KEY}:${SECRET}` } }, 'registered');
    logger.info({ headers: { 'X-ApiKey': 'not-registered-value-1' } }, 'top');
    logger.info({ headers: { 'x-apikey': 'not-registered-value-2' } }, 'lower');
    logger.info({ request: { headers: { 'X-ApiKey': 'not-registered-value-3' } } }, 'nested');
    logger.info({ headers: { authorization: 'Bearer not-registered-value-4' } }, 'auth');
    const out = await text();
    assertClean(out, [
      ...ALL,
      'not-registered-value-1',
      'not-registered-value-2',
      'not-registered-value-3',
      'not-registered-value-4',
    ]);
    const lines = out
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    assert.equal(lines[0].headers['X-ApiKey'], REDACTED);
    assert.equal(lines[1].headers['X-ApiKey'], REDACTED);
    assert.equal(lines[2].headers['x-apikey'], REDACTED);
    assert.equal(lines[3].request.headers['X-ApiKey'], REDACTED);
  });

  it('in fields named like credentials (apiKey, apiSecret, secretAccessKey, credentials)', async () => {
    const { logger, text } = memoryLogger();
    logger.info(
      {
        apiKey: 'unreg-aaaa',
        apiSecret: 'unreg-bbbb',
        secretAccessKey: 'unreg-cccc',
        sessionToken: 'unreg-dddd',
        credentials: { x: 'unreg-eeee' },
        client: { apiKey: 'unreg-ffff' },
      },
      'fields',
    );
    const out = await text();
    assertClean(out, ['unreg-aaaa', 'unreg-bbbb', 'unreg-cccc', 'unreg-dddd', 'unreg-eeee', 'unreg-ffff']);
  });

  it('in the pretty format too', async () => {
    const { logger, text } = memoryLogger({ format: 'pretty' });
    logger.info({ extra: { s: SECRET } }, `pretty ${KEY} ${AWS_SECRET}`);
    const out = await text();
    assert.match(out, /pretty/);
    assertClean(out);
  });

  it('a secret with characters JSON escapes (", \\) is scrubbed too', async () => {
    clearSecrets();
    const odd = 'odd"Secret\\Value';
    registerSecretsFromEnv({ SELLIGENT_API_SECRET: odd });
    const { logger, text } = memoryLogger();
    logger.info(`secret ${odd}`);
    const out = await text();
    assertClean(out, [odd]);
  });

  it('honours the level', async () => {
    const { logger, text } = memoryLogger({ level: 'warn' });
    logger.info('hidden');
    logger.warn('shown');
    const out = await text();
    assert.doesNotMatch(out, /hidden/);
    assert.match(out, /shown/);
  });

  it('printLine scrubs too', () => {
    const chunks: string[] = [];
    const target = new Writable({
      write(chunk, _e, cb) {
        chunks.push(chunk.toString());
        cb();
      },
    });
    printLine(`summary ${KEY}:${SECRET}`, target);
    assert.equal(chunks.join(''), `summary ${REDACTED}\n`);
  });
});

describe('secrets that look like JSON values', () => {
  it('a set secret shorter than 6 characters is a configuration error naming its variable', () => {
    for (const value of ['5000', 'true', 'null', 'ab']) {
      clearSecrets();
      assert.throws(
        () => registerSecretsFromEnv({ SELLIGENT_API_KEY: KEY, AWS_SESSION_TOKEN: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'SECRET_TOO_SHORT' &&
          error.exitCode === 2 &&
          /AWS_SESSION_TOKEN/.test(error.message) &&
          !error.message.includes(value),
      );
      // The long ones are registered all the same, so the failed run's report is still scrubbed.
      assert.equal(scrubSecrets(`k=${KEY}`), `k=${REDACTED}`);
    }
  });

  it('the report, the rejected-rows file and JSON log lines stay valid JSON when a secret equals a number or a literal in them', async () => {
    clearSecrets();
    registerSecret('123456');
    registerSecret('falsey');
    const dir = mkdtempSync(join(tmpdir(), 'scrub-json-'));
    try {
      const report = {
        batch_rows: 123456,
        ok: true,
        note: 'id 123456 and falsey',
        nested: [123456, { '123456': 'k' }],
      } as unknown as RunReport;
      await writeReport(join(dir, 'report.json'), report);
      const written = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8')) as Record<string, unknown>;
      assert.equal(written.batch_rows, 123456);
      assert.equal(written.note, `id ${REDACTED} and ${REDACTED}`);
      assert.deepEqual(written.nested, [123456, { [REDACTED]: 'k' }]);

      const rejected = new RejectedRowsFile(join(dir, 'rejected.jsonl'));
      await rejected.write({
        row: 123456,
        stage: 'validate',
        key: { ID: '123456' },
        field: null,
        code: 'x',
        message: 'm',
        values: null,
      });
      await rejected.close();
      const entry = JSON.parse(readFileSync(join(dir, 'rejected.jsonl'), 'utf8')) as Record<string, unknown>;
      assert.equal(entry.row, 123456);
      assert.deepEqual(entry.key, { ID: REDACTED });

      const { logger, text } = memoryLogger();
      logger.info({ rows: 123456, list: 'x123456y' }, 'loaded 123456 rows');
      const line = JSON.parse((await text()).trim()) as Record<string, unknown>;
      assert.equal(line.rows, 123456);
      assert.equal(line.list, `x${REDACTED}y`);
      assert.equal(line.msg, `loaded ${REDACTED} rows`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
