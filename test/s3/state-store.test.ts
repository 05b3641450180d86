/**
 * The S3 state store against a real S3 server: an in-process s3rver by default, or the server named by
 * S3_TEST_ENDPOINT (`npm run test:s3-rgw` runs this file against Ceph RGW).
 */
import {
  DeleteObjectCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  type PutObjectCommandInput,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { resolveS3ClientConfig } from '../../src/source/s3.js';
import { commitState } from '../../src/state/commit.js';
import { StateConflictError } from '../../src/state/errors.js';
import { s3StateStore } from '../../src/state/s3-store.js';
import type { StateEncryption } from '../../src/state/encryption.js';
import { readState } from '../../src/state/reader.js';
import type { StateStore } from '../../src/state/store.js';
import { sampleEntries, stateStoreContract, write, writeAndCommit } from '../helpers/state-store-contract.js';
import { startTestS3, type TestS3Server } from '../servers/s3rver.js';

let server: TestS3Server;
let client: S3Client;
const run = `state-${randomUUID().slice(0, 8)}`;
let counter = 0;
const clients: S3Client[] = [];

before(async () => {
  server = await startTestS3();
  client = server.client();
});

after(async () => {
  for (const one of clients) one.destroy();
  client?.destroy();
  await server?.close();
});

const freshUri = () => `s3://${server.bucket}/${run}/${++counter}/`;

function prefixOf(store: StateStore): string {
  return store.location.slice(`s3://${server.bucket}/`.length);
}

async function overwrite(store: StateStore, name: string, body: Buffer | undefined): Promise<void> {
  const key = prefixOf(store) + name;
  if (body)
    await client.send(
      new PutObjectCommand({ Bucket: server.bucket, Key: key, Body: body, ContentLength: body.length }),
    );
  else await client.send(new DeleteObjectCommand({ Bucket: server.bucket, Key: key }));
}

let guarantee: Promise<string> | undefined;
/** The guarantee this server gives a commit: conditional writes (AWS S3, recent Ceph) or read-compare. */
function serverGuarantee(): Promise<string> {
  guarantee ??= (async () => {
    const store = s3StateStore(freshUri(), { env: server.env() });
    const result = await writeAndCommit(store, sampleEntries(1), undefined);
    await store.close();
    return result.guarantee;
  })();
  return guarantee;
}

describe('S3 state store', () => {
  stateStoreContract({
    fresh: async () => s3StateStore(freshUri(), { env: server.env() }),
    overwrite,
    exactlyOneWinner: async () => (await serverGuarantee()) === 'conditional-write',
  });

  it('detects whether the server honours conditional writes, and reports the guarantee that held', async () => {
    const found = await serverGuarantee();
    // s3rver ignores If-None-Match / If-Match on PUT: the store must notice, not trust them.
    if (server.kind === 's3rver') assert.equal(found, 'read-compare');
    else assert.ok(found === 'conditional-write' || found === 'read-compare');
  });

  it('leaves no probe object behind', async () => {
    const uri = freshUri();
    const store = s3StateStore(uri, { env: server.env() });
    await writeAndCommit(store, sampleEntries(3), undefined);
    assert.deepEqual(
      (await store.listDirectories()).filter((name) => !name.startsWith('gen-')),
      [],
    );
    const keys = await listKeys(prefixOf(store));
    assert.ok(
      keys.every((key) => key === 'CURRENT.json' || key.startsWith('gen-')),
      keys.join(', '),
    );
    await store.close();
  });

  it('a missing bucket is an error, not an empty state', async () => {
    const store = s3StateStore(`s3://no-such-bucket-${randomUUID().slice(0, 8)}/state/`, { env: server.env() });
    await assert.rejects(
      readState(store),
      (error: unknown) => error instanceof Error && /bucket/.test(error.message) && !/^input /.test(error.message),
    );
    await store.close();
  });
});

describe('S3 state store on a server that honours conditional writes', () => {
  /**
   * A client that itself refuses a PUT whose If-None-Match / If-Match does not hold, comparing If-Match with
   * the ETag as read (`quoted`, as AWS S3 does) or without its quotes (`bare`, as Ceph RGW Pacific does).
   */
  function conditionalClient(etagForm: 'quoted' | 'bare'): S3Client {
    const conditional = new S3Client(resolveS3ClientConfig(server.env()).config);
    clients.push(conditional);
    conditional.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { Bucket?: string; Key?: string; IfNoneMatch?: string; IfMatch?: string };
        if (context.commandName === 'PutObjectCommand' && (input.IfNoneMatch || input.IfMatch)) {
          const etag = await client.send(new HeadObjectCommand({ Bucket: input.Bucket, Key: input.Key })).then(
            (head) => head.ETag,
            () => undefined,
          );
          if (
            (input.IfNoneMatch === '*' && etag !== undefined) ||
            (input.IfMatch !== undefined &&
              (etag === undefined || (etagForm === 'bare' ? etag.replace(/"/g, '') : etag) !== input.IfMatch))
          ) {
            throw Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
              name: 'PreconditionFailed',
              $metadata: { httpStatusCode: 412 },
            });
          }
          // The conditions are enforced here, so the server under test (which may check them with its own
          // ETag form) must not see them a second time.
          return next({
            ...args,
            input: { ...(args.input as PutObjectCommandInput), IfNoneMatch: undefined, IfMatch: undefined },
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'emulateConditionalWrites' },
    );
    return conditional;
  }

  async function commitsAndRefusesStale(etagForm: 'quoted' | 'bare'): Promise<void> {
    const store = s3StateStore(freshUri(), { client: conditionalClient(etagForm) });
    const first = await writeAndCommit(store, sampleEntries(5), undefined);
    assert.equal(first.guarantee, 'conditional-write');
    const read = (await readState(store))!;
    const a = await write(store, sampleEntries(5, ',a'), read);
    const b = await write(store, sampleEntries(5, ',b'), read);
    assert.equal((await commitState(store, a, read)).guarantee, 'conditional-write');
    await assert.rejects(commitState(store, b, read), StateConflictError);
    assert.equal((await readState(store))!.manifest.directory, a.manifest.directory);
    const c = await write(store, sampleEntries(5, ',c'), undefined);
    await assert.rejects(
      commitState(store, c, undefined),
      StateConflictError,
      'If-None-Match refuses a second first state',
    );
    await store.close();
  }

  it("commits with If-None-Match, then If-Match, and refuses a stale commit by the server's answer", () =>
    commitsAndRefusesStale('quoted'));

  it('takes If-Match without quotes where the server compares the bare ETag', () => commitsAndRefusesStale('bare'));
});

describe('S3 state store: server-side encryption', () => {
  function recordingClient(seen: Array<Record<string, string>>): S3Client {
    const recording = new S3Client(resolveS3ClientConfig(server.env()).config);
    clients.push(recording);
    recording.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'PutObjectCommand')
          seen.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: 'finalizeRequest', name: 'recordHeaders' },
    );
    return recording;
  }

  const cases: Array<[string, StateEncryption | undefined, Record<string, string | undefined>]> = [
    ['no setting: no header (the bucket default applies)', undefined, { 'x-amz-server-side-encryption': undefined }],
    ['SSE-S3', { algorithm: 'AES256' }, { 'x-amz-server-side-encryption': 'AES256' }],
    [
      'SSE-KMS with a key id',
      { algorithm: 'aws:kms', kmsKeyId: 'arn:aws:kms:eu-west-1:111122223333:key/k1' },
      {
        'x-amz-server-side-encryption': 'aws:kms',
        'x-amz-server-side-encryption-aws-kms-key-id': 'arn:aws:kms:eu-west-1:111122223333:key/k1',
      },
    ],
  ];
  for (const [name, encryption, expected] of cases) {
    // An S3-compatible server without a KMS refuses SSE-KMS writes: the headers are checked on s3rver.
    it(
      `every state write carries the encryption asked for: ${name}`,
      { skip: Boolean(process.env.S3_TEST_ENDPOINT?.trim()) && encryption !== undefined },
      async () => {
        const seen: Array<Record<string, string>> = [];
        const store = s3StateStore(freshUri(), {
          client: recordingClient(seen),
          ...(encryption ? { encryption } : {}),
        });
        await writeAndCommit(store, sampleEntries(20), undefined, 4);
        const stateWrites = seen.filter((headers) => !('if-none-match' in headers) && !('if-match' in headers));
        assert.ok(stateWrites.length >= 6, 'pieces, manifest and pointer');
        for (const headers of seen) {
          for (const [header, value] of Object.entries(expected)) assert.equal(headers[header], value, header);
        }
        assert.equal((await readState(store))!.manifest.rows, 20);
        await store.close();
      },
    );
  }
});

async function listKeys(prefix: string): Promise<string[]> {
  const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
  const page = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((item) => item.Key!.slice(prefix.length));
}
