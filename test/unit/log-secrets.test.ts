import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { createLogger, printLine } from '../../src/log.js';
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
  const logger = createLogger({ destination, isTty: false, level: options.level ?? 'trace', ...(options.format ? { format: options.format } : {}) }, {});
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
  for (const value of values) assert.ok(!text.includes(JSON.stringify(value).slice(1, -1)), `${value} leaked (escaped)`);
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
    registerSecret('abcd');
    registerSecret('abcdefgh');
    assert.equal(scrubSecrets('abcdefgh abcd'), `${REDACTED} ${REDACTED}`);
  });

  it('ignores values shorter than 4 characters, empty and undefined', () => {
    clearSecrets();
    registerSecret('abc');
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
    logger.warn({ request: { url: `https://x/?k=${KEY}`, body: [{ note: `secret ${SECRET}` }], deep: { deeper: { aws: AWS_SECRET } } } }, 'nested');
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
    assertClean(out, [...ALL, 'not-registered-value-1', 'not-registered-value-2', 'not-registered-value-3', 'not-registered-value-4']);
    const lines = out.trim().split('\n').map((line) => JSON.parse(line));
    assert.equal(lines[0].headers['X-ApiKey'], REDACTED);
    assert.equal(lines[1].headers['X-ApiKey'], REDACTED);
    assert.equal(lines[2].headers['x-apikey'], REDACTED);
    assert.equal(lines[3].request.headers['X-ApiKey'], REDACTED);
  });

  it('in fields named like credentials (apiKey, apiSecret, secretAccessKey, credentials)', async () => {
    const { logger, text } = memoryLogger();
    logger.info({ apiKey: 'unreg-aaaa', apiSecret: 'unreg-bbbb', secretAccessKey: 'unreg-cccc', sessionToken: 'unreg-dddd', credentials: { x: 'unreg-eeee' }, client: { apiKey: 'unreg-ffff' } }, 'fields');
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
    const target = new Writable({ write(chunk, _e, cb) { chunks.push(chunk.toString()); cb(); } });
    printLine(`summary ${KEY}:${SECRET}`, target);
    assert.equal(chunks.join(''), `summary ${REDACTED}\n`);
  });
});
