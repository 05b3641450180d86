import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { FIXTURES, assertBalanced, runCli } from '../helpers/cli.ts';
import { members, records, selligentEnv, simulator, writes, ORG, LIST } from '../helpers/sim.ts';
import { startTestS3, type TestS3Server } from '../servers/s3rver.ts';

let s3: TestS3Server;
const prefix = `e2e-${process.pid}`;

before(async () => {
  s3 = await startTestS3();
  const client = s3.client();
  const [header, ...rows] = readFileSync(join(FIXTURES, 'multi_segment.csv'), 'utf8').trim().split('\n');
  // A Treasure Data style export: gzip parts under one prefix, each with the header, plus a marker file.
  const put = (key: string, body: Buffer | string) =>
    client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }));
  await put(`${prefix}/parts/part-00000.csv.gz`, gzipSync(`${header}\n${rows[0]}\n`));
  await put(`${prefix}/parts/part-00001.csv.gz`, gzipSync(`${header}\n${rows[1]}\n${rows[2]}\n`));
  await put(`${prefix}/parts/_SUCCESS`, '');
  await put(`${prefix}/single.csv`, readFileSync(join(FIXTURES, 'multi_segment.csv')));
  client.destroy();
});

after(async () => {
  await s3?.close();
});

const settings = {
  organization: ORG,
  list_api_name: LIST,
  segment_column: 'selligent_segment',
  key_fields: 'CUSTOMER_IDENTIFIER',
  create_list_if_not_exists: true,
  create_segment_if_not_exists: true,
};

test('exports a multi-part gzip prefix from S3, in key order, skipping markers', async () => {
  const sim = await simulator();
  try {
    const result = await runCli({
      settings,
      input: `s3://${s3.bucket}/${prefix}/parts/`,
      env: { ...selligentEnv(sim), ...(s3.env() as Record<string, string>) },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertBalanced(result.report);
    const report = result.report!;
    assert.deepEqual(
      report.input.objects.map((o) => o.uri),
      [`s3://${s3.bucket}/${prefix}/parts/part-00000.csv.gz`, `s3://${s3.bucket}/${prefix}/parts/part-00001.csv.gz`],
    );
    assert.equal(report.input.compression, 'gzip');
    assert.equal(report.input.rows, 3);
    assert.equal(records(sim).length, 3);
    assert.deepEqual(members(sim, 'vip_customers'), ['C101']);
  } finally {
    await sim.close();
  }
});

test('a single S3 object', async () => {
  const sim = await simulator();
  try {
    const result = await runCli({
      settings,
      input: `s3://${s3.bucket}/${prefix}/single.csv`,
      env: { ...selligentEnv(sim), ...(s3.env() as Record<string, string>) },
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertBalanced(result.report);
    assert.equal(result.report!.input.compression, 'none');
    assert.equal(records(sim).length, 3);
  } finally {
    await sim.close();
  }
});

test('a missing S3 key: exit 3 naming the URI; nothing written', async () => {
  const sim = await simulator();
  try {
    const uri = `s3://${s3.bucket}/${prefix}/absent.csv`;
    const result = await runCli({
      settings,
      input: uri,
      env: { ...selligentEnv(sim), ...(s3.env() as Record<string, string>) },
    });
    assert.equal(result.code, 3, result.stdout);
    assert.ok(result.report!.error!.message.includes(uri), result.report!.error!.message);
    assert.equal(writes(sim).length, 0);
    assert.equal(sim.hasList(ORG, LIST), false);
  } finally {
    await sim.close();
  }
});

test('wrong storage credentials: exit 4 naming the bucket, never the keys', async () => {
  if (s3.kind !== 's3rver') return;
  const sim = await simulator();
  try {
    const env = {
      ...(s3.env() as Record<string, string>),
      AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY0001',
      AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-123',
    };
    const result = await runCli({
      settings,
      input: `s3://${s3.bucket}/${prefix}/single.csv`,
      env: { ...selligentEnv(sim), ...env },
    });
    assert.equal(result.code, 4, result.stdout);
    assert.match(result.report!.error!.message, new RegExp(s3.bucket));
    const everything = result.stdout + result.stderr + readFileSync(result.reportPath, 'utf8');
    assert.ok(!everything.includes('wrong-secret-value-123'));
    assert.ok(!everything.includes('AKIAWRONGKEY0001'));
    assert.equal(writes(sim).length, 0);
  } finally {
    await sim.close();
  }
});
