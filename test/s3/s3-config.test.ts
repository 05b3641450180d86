import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { AuthError, ConfigError, InputError, TransientError } from '../../src/errors.js';
import { mapS3Error } from '../../src/source/s3-errors.js';
import { parseContentRange } from '../../src/source/s3-read.js';
import { isSkippedS3Object, parseS3Uri, resolveS3ClientConfig, s3Location } from '../../src/source/s3.js';

describe('parseS3Uri', () => {
  it('splits a single-object URI', () => {
    assert.deepEqual(parseS3Uri('s3://my-bucket/path/to/part-0.csv.gz'), {
      uri: 's3://my-bucket/path/to/part-0.csv.gz',
      bucket: 'my-bucket',
      key: 'path/to/part-0.csv.gz',
      isPrefix: false,
    });
  });

  it('treats a trailing slash as a prefix, and s3://bucket/ as the whole bucket', () => {
    assert.equal(parseS3Uri('s3://b.example/exports/2024-01-01/').isPrefix, true);
    assert.equal(parseS3Uri('s3://b.example/exports/2024-01-01/').key, 'exports/2024-01-01/');
    assert.deepEqual(parseS3Uri('s3://bucket/'), { uri: 's3://bucket/', bucket: 'bucket', key: '', isPrefix: true });
  });

  it('keeps the key literally (no percent-decoding)', () => {
    assert.equal(parseS3Uri('s3://bucket/a%20b/c d+e.csv').key, 'a%20b/c d+e.csv');
  });

  for (const [uri, why] of [
    ['', 'empty'],
    ['bucket/key', 'no scheme'],
    ['https://bucket/key', 'other scheme'],
    ['s3://', 'no bucket'],
    ['s3:///key', 'empty bucket'],
    ['s3://bucket', 'no key or trailing slash'],
    ['s3://ab/key', 'bucket too short'],
    [`s3://${'a'.repeat(64)}/key`, 'bucket too long'],
    ['s3://My_Bucket/key', 'uppercase/underscore'],
    ['s3://-bucket/key', 'leading hyphen'],
    ['s3://bucket-/key', 'trailing hyphen'],
    ['s3://my..bucket/key', 'adjacent dots'],
    ['s3://192.168.1.10/key', 'IP address'],
    ['s3://user:secret@bucket/key', 'userinfo'],
    ['s3://xn--bucket/key', 'reserved prefix'],
    ['s3://bucket/key\nx', 'control character'],
    [`s3://bucket/${'k'.repeat(1025)}`, 'key too long'],
  ] as const) {
    it(`rejects ${why}`, () => {
      assert.throws(
        () => parseS3Uri(uri),
        (error: unknown) => error instanceof ConfigError && error.code === 'INPUT_URI_INVALID' && error.exitCode === 2,
      );
    });
  }

  it('s3Location rejects a bad URI before any client is built', () => {
    assert.throws(
      () => s3Location('s3://x/key', {}),
      (error: unknown) => error instanceof ConfigError && error.code === 'INPUT_URI_INVALID',
    );
  });
});

describe('marker and folder objects', () => {
  const skipped = [
    'p/_SUCCESS',
    'p/_success',
    'p/_SUCCESS.crc',
    'p/_SUCCESS.json',
    'p/x.manifest',
    'p/manifest.json',
    'p/manifest',
    'p/_committed_123',
    'p/_started_123',
    'p/.part-00000.csv.crc',
    'p/_metadata',
    'p/_common_metadata',
    'p/sub_$folder$',
    'p/sub/',
  ];
  for (const key of skipped) it(`skips ${key}`, () => assert.equal(isSkippedS3Object(key, 10), true));
  it('skips zero-byte objects', () => assert.equal(isSkippedS3Object('p/part-1.csv', 0), true));
  for (const key of [
    'p/part-00000.csv',
    'p/part-00000.csv.gz',
    'p/manifest_data.csv',
    'p/SUCCESS.csv',
    'p/data.tsv',
    'p/rows.jsonl',
  ]) {
    it(`keeps ${key}`, () => assert.equal(isSkippedS3Object(key, 10), false));
  }
});

describe('client configuration from the environment', () => {
  it('defaults: checksums WHEN_REQUIRED, 3 attempts, region chain ending in us-east-1', async () => {
    const { config, endpointLabel } = resolveS3ClientConfig({});
    assert.equal(config.requestChecksumCalculation, 'WHEN_REQUIRED');
    assert.equal(config.responseChecksumValidation, 'WHEN_REQUIRED');
    assert.equal(config.maxAttempts, 3);
    assert.equal(config.endpoint, undefined);
    assert.equal(config.forcePathStyle, undefined);
    assert.equal(config.credentials, undefined);
    assert.equal(endpointLabel, undefined);
    assert.equal(typeof config.region, 'function');
  });

  it('region: AWS_REGION, then AWS_DEFAULT_REGION', () => {
    assert.equal(
      resolveS3ClientConfig({ AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'us-west-2' }).config.region,
      'eu-west-1',
    );
    assert.equal(resolveS3ClientConfig({ AWS_DEFAULT_REGION: 'us-west-2' }).config.region, 'us-west-2');
  });

  it('endpoint: AWS_ENDPOINT_URL_S3, then AWS_ENDPOINT_URL; ignored when AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true', () => {
    const both = { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9000', AWS_ENDPOINT_URL: 'http://127.0.0.1:9999' };
    assert.equal(resolveS3ClientConfig(both).config.endpoint, 'http://127.0.0.1:9000');
    assert.equal(
      resolveS3ClientConfig({ AWS_ENDPOINT_URL: 'https://minio.example:9000/' }).endpointLabel,
      'https://minio.example:9000',
    );
    assert.equal(
      resolveS3ClientConfig({ ...both, AWS_IGNORE_CONFIGURED_ENDPOINT_URLS: 'true' }).config.endpoint,
      undefined,
    );
  });

  it('a malformed endpoint is a ConfigError that does not echo the value', () => {
    for (const value of ['not a url', 'ftp://host', 'http://user:hunter2@host']) {
      assert.throws(
        () => resolveS3ClientConfig({ AWS_ENDPOINT_URL_S3: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.code === 'STORAGE_ENDPOINT_INVALID' &&
          !error.message.includes('hunter2'),
      );
    }
  });

  it('S3_FORCE_PATH_STYLE', () => {
    assert.equal(resolveS3ClientConfig({ S3_FORCE_PATH_STYLE: 'true' }).config.forcePathStyle, true);
    assert.equal(resolveS3ClientConfig({ S3_FORCE_PATH_STYLE: 'false' }).config.forcePathStyle, undefined);
    assert.throws(() => resolveS3ClientConfig({ S3_FORCE_PATH_STYLE: 'sometimes' }), ConfigError);
  });

  it('keys from an explicit env object; process.env is left to the SDK provider chain', () => {
    const env = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret', AWS_SESSION_TOKEN: 'tok' };
    assert.deepEqual(resolveS3ClientConfig(env).config.credentials, {
      accessKeyId: 'AKIDEXAMPLE',
      secretAccessKey: 'secret',
      sessionToken: 'tok',
    });
    assert.equal(resolveS3ClientConfig(process.env).config.credentials, undefined);
  });

  it('prints no NodeVersionSupportWarning', () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const script = `
      const { s3Location } = await import(${JSON.stringify(new URL('../../src/source/s3.ts', import.meta.url).href)});
      const location = s3Location('s3://bucket/key', { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'a', AWS_SECRET_ACCESS_KEY: 'b' });
      await location.close();
      await new Promise((resolve) => setTimeout(resolve, 50));
      console.log('done');
    `;
    const env = { ...process.env };
    delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: here,
      env,
      encoding: 'utf8',
    });
    assert.equal(child.status, 0, child.stderr);
    assert.match(child.stdout, /done/);
    assert.doesNotMatch(child.stderr, /NodeVersionSupportWarning/);
  });
});

describe('error mapping', () => {
  const context = { uri: 's3://bucket/key.csv', bucket: 'bucket', endpoint: 'http://127.0.0.1:1' };
  const sdkError = (name: string, status: number, extra: Record<string, unknown> = {}): Error =>
    Object.assign(new Error(`server said: ${name} for AKIASECRETKEYID`), {
      name,
      $metadata: { httpStatusCode: status, requestId: 'req-1' },
      ...extra,
    });

  it('404s are INPUT_NOT_FOUND with the URI', () => {
    for (const [name, status] of [
      ['NoSuchKey', 404],
      ['NoSuchBucket', 404],
      ['NotFound', 404],
      ['UnknownError', 404],
    ] as const) {
      const mapped = mapS3Error(sdkError(name, status), context);
      assert.ok(mapped instanceof InputError);
      assert.equal(mapped.code, 'INPUT_NOT_FOUND');
      assert.equal(mapped.exitCode, 3);
      assert.match(mapped.message, /s3:\/\/bucket\/key\.csv/);
      assert.deepEqual(mapped.details, { uri: context.uri, bucket: 'bucket' });
    }
  });

  it('access failures are STORAGE_ACCESS_DENIED naming the bucket, never the key id', () => {
    for (const [name, status] of [
      ['AccessDenied', 403],
      ['InvalidAccessKeyId', 403],
      ['SignatureDoesNotMatch', 403],
      ['Forbidden', 403],
      ['ExpiredToken', 400],
    ] as const) {
      const error = sdkError(name, status, { AWSAccessKeyId: 'AKIASECRETKEYID', StringToSign: 'AWS4-HMAC-SHA256...' });
      const mapped = mapS3Error(error, context);
      assert.ok(mapped instanceof AuthError, name);
      assert.equal(mapped.code, 'STORAGE_ACCESS_DENIED');
      assert.equal(mapped.exitCode, 4);
      assert.match(mapped.message, /bucket "bucket"/);
      const everything = JSON.stringify({
        message: mapped.message,
        details: mapped.details,
        cause: String(mapped.cause),
        causeProps: mapped.cause,
      });
      assert.doesNotMatch(everything, /AKIASECRETKEYID|StringToSign|AWS4-HMAC/);
    }
  });

  it('network failures and time-outs are STORAGE_UNREACHABLE; 5xx are STORAGE_UNAVAILABLE', () => {
    for (const error of [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' }),
      Object.assign(new Error('socket timed out'), { name: 'TimeoutError' }),
      Object.assign(new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'connect failed')),
    ]) {
      const mapped = mapS3Error(error, context);
      assert.ok(mapped instanceof TransientError);
      assert.equal(mapped.code, 'STORAGE_UNREACHABLE');
      assert.equal(mapped.exitCode, 5);
    }
    const unavailable = mapS3Error(sdkError('ServiceUnavailable', 503), context);
    assert.ok(unavailable instanceof TransientError);
    assert.equal(unavailable.code, 'STORAGE_UNAVAILABLE');
  });

  it('an unrecognised non-storage error passes through (a bug, not a storage failure)', () => {
    const bug = new TypeError('x is not a function');
    assert.equal(mapS3Error(bug, context), bug);
  });

  it('parses Content-Range', () => {
    assert.deepEqual(parseContentRange('bytes 100-199/200'), { start: 100, end: 199, total: 200 });
    assert.deepEqual(parseContentRange('bytes 0-9/*'), { start: 0, end: 9, total: undefined });
    assert.equal(parseContentRange('items 0-1/2'), undefined);
  });
});

/** A protocol-level stand-in for S3 (no signature checks) answering with canned XML. */
async function fakeS3(
  handler: (req: IncomingMessage, url: URL, res: ServerResponse) => void,
): Promise<{ env: NodeJS.ProcessEnv; requests: URL[]; close(): Promise<void> }> {
  const requests: URL[] = [];
  const http = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fake');
    requests.push(url);
    handler(req, url, res);
  });
  http.listen(0, '127.0.0.1');
  await once(http, 'listening');
  const { port } = http.address() as AddressInfo;
  return {
    requests,
    env: {
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIAFAKEKEYID0000001',
      AWS_SECRET_ACCESS_KEY: 'fake-secret',
      S3_FORCE_PATH_STYLE: 'true',
    },
    close: async () => {
      http.closeAllConnections();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

const xml = (body: string): string => `<?xml version="1.0" encoding="UTF-8"?>\n${body}`;

describe('against a protocol-level fake S3', () => {
  it('pages ListObjectsV2 with the continuation token, then sorts and filters', async () => {
    const pages: Record<string, { keys: [string, number][]; next?: string }> = {
      '': {
        keys: [
          ['p/c.csv', 3],
          ['p/_SUCCESS', 0],
        ],
        next: 'token/1+=',
      },
      'token/1+=': {
        keys: [
          ['p/a.csv', 5],
          ['p/dir/', 0],
        ],
        next: 'token-2',
      },
      'token-2': { keys: [['p/b.csv', 4]] },
    };
    const fake = await fakeS3((_req, url, res) => {
      const page = pages[url.searchParams.get('continuation-token') ?? ''];
      if (!page || url.searchParams.get('list-type') !== '2') {
        res.writeHead(400).end();
        return;
      }
      const contents = page.keys
        .map(([key, size]) => `<Contents><Key>${key}</Key><Size>${size}</Size></Contents>`)
        .join('');
      res
        .writeHead(200, { 'content-type': 'application/xml' })
        .end(
          xml(
            `<ListBucketResult><Name>bucket</Name><Prefix>p/</Prefix><KeyCount>${page.keys.length}</KeyCount><MaxKeys>2</MaxKeys>` +
              `<IsTruncated>${page.next ? 'true' : 'false'}</IsTruncated>${page.next ? `<NextContinuationToken>${page.next}</NextContinuationToken>` : ''}${contents}</ListBucketResult>`,
          ),
        );
    });
    const location = s3Location('s3://bucket/p/', fake.env, { listPageSize: 2 });
    try {
      const objects = await location.list();
      assert.deepEqual(objects, [
        { uri: 's3://bucket/p/a.csv', size: 5 },
        { uri: 's3://bucket/p/b.csv', size: 4 },
        { uri: 's3://bucket/p/c.csv', size: 3 },
      ]);
      assert.equal(fake.requests.length, 3);
      assert.deepEqual(
        fake.requests.map((url) => [
          url.pathname,
          url.searchParams.get('prefix'),
          url.searchParams.get('max-keys'),
          url.searchParams.get('continuation-token'),
        ]),
        [
          ['/bucket/', 'p/', '2', null],
          ['/bucket/', 'p/', '2', 'token/1+='],
          ['/bucket/', 'p/', '2', 'token-2'],
        ],
      );
    } finally {
      await location.close();
      await fake.close();
    }
  });

  it('a persistent 503 is retried 3 times in all, then STORAGE_UNAVAILABLE (exit 5)', async () => {
    const fake = await fakeS3((_req, _url, res) => {
      res
        .writeHead(503, { 'content-type': 'application/xml' })
        .end(xml('<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>'));
    });
    const location = s3Location('s3://bucket/p/', fake.env);
    try {
      await assert.rejects(location.list(), (error: unknown) => {
        assert.ok(error instanceof TransientError);
        assert.equal(error.code, 'STORAGE_UNAVAILABLE');
        assert.match(error.message, /SlowDown/);
        return true;
      });
      assert.equal(fake.requests.length, 3);
    } finally {
      await location.close();
      await fake.close();
    }
  });

  it('an access-denied body that echoes the key id does not leak it', async () => {
    const fake = await fakeS3((_req, _url, res) => {
      res
        .writeHead(403, { 'content-type': 'application/xml' })
        .end(
          xml(
            '<Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match</Message>' +
              '<AWSAccessKeyId>AKIAFAKEKEYID0000001</AWSAccessKeyId><StringToSign>AWS4-HMAC-SHA256 x</StringToSign></Error>',
          ),
        );
    });
    const location = s3Location('s3://bucket/p/key.csv', fake.env);
    try {
      const error = await location.open({ uri: 's3://bucket/p/key.csv' }).then(
        () => assert.fail('expected a failure'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof AuthError);
      assert.equal(error.code, 'STORAGE_ACCESS_DENIED');
      assert.match(error.message, /bucket "bucket" \(SignatureDoesNotMatch\)/);
      const seen = JSON.stringify({
        m: error.message,
        d: error.details,
        c: String(error.cause),
        s: error.stack,
        props: { ...error },
      });
      assert.doesNotMatch(seen, /AKIAFAKEKEYID|fake-secret|StringToSign/);
    } finally {
      await location.close();
      await fake.close();
    }
  });
});
