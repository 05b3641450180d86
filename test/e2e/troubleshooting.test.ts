/**
 * One test per row of docs/troubleshooting.md: each triggers the symptom against the simulator (or a
 * local S3 server) and checks the summary line the exporter prints, its exit code and the report fields
 * the table points to.
 */
import { after, before, describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  members,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import { startTestS3, type TestS3Server } from '../servers/s3rver.ts';
import type { FaultStatus, SimulatorOptions } from '../../src/simulator/index.ts';

const SETTINGS = {
  ...BASE_SETTINGS,
  max_attempts: 2,
  retry_budget_seconds: 20,
};
const HEADER = 'selligent_segment,customer_identifier,email,first_name';
const ROWS = ['seg_a,C1,a@example.com,Ann', 'seg_a,C2,b@example.com,Bo', 'seg_b,C3,c@example.com,Cy'];
const csv = (...rows: string[]) => [HEADER, ...(rows.length ? rows : ROWS)].join('\n') + '\n';

interface Symptom {
  settings?: Record<string, unknown>;
  input?: string;
  /** Input as a URI instead of a local file. */
  inputUri?: string;
  env?: Record<string, string>;
  sim?: SimulatorOptions & { seedList?: Parameters<typeof seededList>[0] | null };
  setup?: (sim: SimulatorHandle) => void;
  onStart?: (sim: SimulatorHandle) => (child: ChildProcess) => void;
  /** Expected status word, exit code, and `error CODE in STAGE: message` (or null when the run does not fail). */
  status: 'failed' | 'partial' | 'succeeded';
  exit: number;
  error: { code: string; stage: string; message: RegExp } | null;
  /** A pattern the summary line must also match. */
  summary?: RegExp;
}

/** Runs the symptom and checks the summary line, the exit code and the report's error. */
async function reproduce(
  t: TestContext,
  symptom: Symptom,
  check?: (result: CliResult, sim: SimulatorHandle) => void,
): Promise<void> {
  const { seedList, ...simOptions } = symptom.sim ?? {};
  const sim = await simulator({ ...(seedList === null ? {} : { seed: seededList(seedList ?? {}) }), ...simOptions });
  try {
    symptom.setup?.(sim);
    const dir = tempDir();
    const input = symptom.inputUri ?? writeInput(dir, 'input.csv', symptom.input ?? csv());
    const result = await runCli({
      settings: { ...SETTINGS, ...symptom.settings },
      input,
      dir,
      env: { ...selligentEnv(sim), ...symptom.env },
      onStart: symptom.onStart?.(sim),
    });
    const summary = result.stdout.trim().split('\n').at(-1)!;
    t.diagnostic(summary.replace(dir, '<dir>').replace(/sx-test-\w+/g, '<dir>'));
    assert.equal(result.code, symptom.exit, `${summary}\n${result.stderr}`);
    assert.match(summary, new RegExp(`^selligent-export: ${symptom.status} - `));
    assert.match(
      summary,
      new RegExp(`, exit ${symptom.exit}, report ${result.reportPath.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}$`),
    );
    const report = result.report!;
    assert.equal(report.status, symptom.status);
    assert.equal(report.exit_code, symptom.exit);
    if (symptom.error) {
      assert.equal(report.error!.code, symptom.error.code);
      assert.equal(report.error!.stage, symptom.error.stage);
      assert.match(report.error!.message, symptom.error.message);
      // The summary line carries `error CODE in STAGE: message`, the message on one line.
      const [, code, stage, printed] = /(?:- |, )error (\S+) in ([\w-]+): (.*), exit \d+, report /.exec(summary) ?? [];
      assert.deepEqual([code, stage], [symptom.error.code, symptom.error.stage], summary);
      assert.match(printed!, symptom.error.message);
    } else {
      assert.doesNotMatch(summary, /, error /);
    }
    if (symptom.summary) assert.match(summary, symptom.summary);
    if (report.accounting) assertBalanced(report);
    check?.(result, sim);
  } finally {
    await sim.close();
  }
}

let s3: TestS3Server;
const prefix = `troubleshooting-${process.pid}`;
before(async () => {
  s3 = await startTestS3();
  const client = s3.client();
  await client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `${prefix}/result.csv`, Body: csv() }));
  client.destroy();
});
after(async () => {
  await s3?.close();
});

describe('troubleshooting table', { concurrency: 3 }, () => {
  // ------------------------------------------------------------------ symptoms of Treasure Data's Selligent export

  test('authentication fails: wrong key or secret (401)', (t) =>
    reproduce(
      t,
      {
        sim: { credentials: [{ key: 'another-key', secret: 'another-secret' }] },
        status: 'failed',
        exit: 4,
        error: {
          code: 'SELLIGENT_UNAUTHORIZED',
          stage: 'preflight',
          message: /^GET \/Portal\/Api\/organizations\/my_org answered 401: Selligent refused the credentials/,
        },
      },
      (result, sim) => {
        // The organization GET, then the List GET that tells a missing organization right from wrong credentials.
        assert.equal(result.report!.http.by_status['401'], 2);
        assert.equal(writes(sim).length, 0);
      },
    ));

  test('authentication fails on one endpoint mid-run: the service account may not call it (401)', (t) =>
    reproduce(
      t,
      {
        sim: {
          credentials: [
            {
              key: 'simulator-key',
              secret: 'simulator-secret',
              permissions: ['getOrganization', 'getList', 'getFields', 'listSegments', 'loadList'],
            },
          ],
        },
        status: 'failed',
        exit: 4,
        error: {
          code: 'SELLIGENT_UNAUTHORIZED',
          stage: 'segment-setup',
          message:
            /^POST \/Portal\/Api\/organizations\/my_org\/lists\/master_contacts\/segments\/static answered 401: .*may not call this endpoint/,
        },
      },
      (result, sim) => {
        assert.equal(result.report!.list!.rows_sent, 3);
        assert.equal(records(sim).length, 3);
      },
    ));

  test('authentication fails: 403 from a proxy or firewall in front of the tenant', (t) =>
    reproduce(t, {
      setup: (sim) => sim.faults.add({ route: 'getOrganization', status: 403 as unknown as FaultStatus }),
      status: 'failed',
      exit: 4,
      error: {
        code: 'SELLIGENT_UNAUTHORIZED',
        stage: 'preflight',
        message: /answered 403: Selligent refused the credentials/,
      },
    }));

  test('organization not found', (t) =>
    reproduce(t, {
      settings: { organization: 'other_org' },
      status: 'failed',
      exit: 2,
      error: {
        code: 'ORGANIZATION_NOT_FOUND',
        stage: 'preflight',
        message:
          /^organization "other_org" was not found at http:\/\/127\.0\.0\.1:\d+ \(check the organization setting and SELLIGENT_BASE_URL\)$/,
      },
    }));

  test('List not found', (t) =>
    reproduce(
      t,
      {
        sim: { seedList: null },
        status: 'failed',
        exit: 2,
        error: {
          code: 'LIST_NOT_FOUND',
          stage: 'preflight',
          message:
            /^List master_contacts was not found in organization my_org; create it in Selligent or set create_list_if_not_exists: true$/,
        },
      },
      (_, sim) => assert.equal(writes(sim).length, 0),
    ));

  test('Segment not found', (t) =>
    reproduce(
      t,
      {
        settings: { create_segment_if_not_exists: false },
        sim: { seedList: { segments: [{ api_name: 'seg_a' }] } },
        status: 'failed',
        exit: 2,
        error: {
          code: 'SEGMENT_NOT_FOUND',
          stage: 'preflight',
          message:
            /^Segment seg_b does not exist in List master_contacts; create it or set create_segment_if_not_exists: true$/,
        },
      },
      (_, sim) => assert.equal(writes(sim).length, 0),
    ));

  test('Segment is not static (dynamic Segments cannot be loaded)', (t) =>
    reproduce(t, {
      sim: { seedList: { segments: [{ api_name: 'seg_a', type: 'Dynamic' }] } },
      status: 'failed',
      exit: 2,
      error: {
        code: 'SEGMENT_NOT_STATIC',
        stage: 'preflight',
        message: /^Segment seg_a \(Dynamic\) of List master_contacts is not static/,
      },
    }));

  test('an input field not found in the List', (t) =>
    reproduce(
      t,
      {
        input: 'selligent_segment,customer_identifier,email,loyalty_tier\nseg_a,C1,a@example.com,gold\n',
        status: 'failed',
        exit: 2,
        error: {
          code: 'FIELDS_MISSING',
          stage: 'preflight',
          message:
            /^List master_contacts has no field LOYALTY_TIER for input column of the same name; add it to the List \(or drop the column from the query\)$/,
        },
      },
      (_, sim) => assert.equal(writes(sim).length, 0),
    ));

  test('the business key endpoint is refused (404/405/501): the run goes on with a warning', (t) =>
    reproduce(
      t,
      {
        settings: { create_list_if_not_exists: true },
        sim: { seedList: null, variants: { businessKey: 405 } },
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /, 1 warning \(see report\), exit 0, /,
      },
      (result) => {
        assert.deepEqual(
          result.report!.warnings.map((w) => w.code),
          ['BUSINESS_KEY_UNSUPPORTED'],
        );
        assert.equal(result.report!.list!.business_key_set, false);
        assert.equal(result.report!.list!.created, true);
      },
    ));

  test('the organization GET is refused (401) but the List is reachable: the run goes on with a warning', (t) =>
    reproduce(
      t,
      {
        sim: { variants: { organizationGet: 401 } },
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /, 1 warning \(see report\), exit 0, /,
      },
      (result) => {
        assert.deepEqual(
          result.report!.warnings.map((w) => w.code),
          ['ORGANIZATION_GET_REFUSED'],
        );
        assert.equal(result.report!.http.by_status['401'], 1);
      },
    ));

  test('a Segment reports type External or Unknown: a warning, and the load decides', (t) =>
    reproduce(
      t,
      {
        sim: { variants: { staticSegmentType: 'External' }, seedList: { segments: [{ api_name: 'seg_a' }] } },
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /2\/2 Segments loaded \(3 members\), 1 warning \(see report\), exit 0, /,
      },
      (result) =>
        assert.match(
          result.report!.warnings[0]!.message,
          /^Segment seg_a \(External\) of List master_contacts reports a type other than Static/,
        ),
    ));

  test('the List is busy: another process holds its bulk lock past list_busy_retry_seconds', (t) =>
    reproduce(
      t,
      {
        settings: { list_busy_retry_seconds: 2 },
        setup: (sim) =>
          sim.faults.add({
            route: 'loadList',
            status: 429,
            headers: {
              'Content-Type': 'application/json',
              'X-RateLimit-Limit': '2500, 2500;w=60',
              'X-RateLimit-Remaining': '2417',
              'X-RateLimit-Reset': '41',
            },
            body: JSON.stringify({
              result_code: 'Failed',
              message: 'Another bulk operation is in progress on this list.',
            }),
          }),
        status: 'failed',
        exit: 5,
        error: {
          code: 'SELLIGENT_LIST_BUSY',
          stage: 'list-load',
          message:
            /^POST \/Portal\/Api\/organizations\/my_org\/lists\/master_contacts\/data\/load answered 429 \d+ time\(s\) over [\d.]+ s: another process holds this List's bulk lock \(Selligent allows one bulk operation per List at a time\); run again when it is done, or raise list_busy_retry_seconds \(Failed: Another bulk operation is in progress on this list\.\)$/,
        },
      },
      (result) => assert.ok(result.report!.http.list_busy_waits >= 1),
    ));

  test('the List has no unique key index over the key fields', (t) =>
    reproduce(t, {
      sim: {
        requireBusinessKey: true,
        seed: { lists: [{ ...seededList().lists[0]!, business_key: null }] },
        seedList: null,
      },
      status: 'failed',
      exit: 2,
      error: {
        code: 'KEY_INDEX_MISSING',
        stage: 'list-load',
        message: /the List has no unique key index over the key fields.*Fix: define it once with PUT/,
      },
    }));

  test('rows skipped: blank or invalid Segment values and keys are reported, the rest load', (t) =>
    reproduce(
      t,
      {
        input: csv(
          'seg_a,C1,a@example.com,Ann',
          ',C2,b@example.com,Bo',
          'seg-b,C3,c@example.com,Cy',
          'seg_a,,d@example.com,Di',
        ),
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /1 loaded into List master_contacts .*, 3 skipped, /,
      },
      (result) => {
        assert.deepEqual(result.report!.validation.by_reason, { segment_blank: 1, segment_invalid: 1, key_blank: 1 });
        assert.deepEqual(
          result.rejected.map((r) => [r.row, r.stage, r.code]),
          [
            [2, 'validate', 'segment_blank'],
            [3, 'validate', 'segment_invalid'],
            [4, 'validate', 'key_blank'],
          ],
        );
      },
    ));

  test('rows skipped with skip_invalid_records false: the export stops before writing', (t) =>
    reproduce(
      t,
      {
        settings: { skip_invalid_records: false },
        input: csv('seg_a,C1,a@example.com,Ann', ',C2,b@example.com,Bo'),
        status: 'failed',
        exit: 3,
        error: {
          code: 'INVALID_ROW',
          stage: 'read',
          message: /^input row 2, column selligent_segment: the Segment value is blank \(skip_invalid_records is false/,
        },
      },
      (_, sim) => assert.equal(writes(sim).length, 0),
    ));

  test('duplicate keys give unexpected values: one row per key wins, by deduplication', (t) =>
    reproduce(
      t,
      {
        settings: { deduplication: 'ImportFirstMatch' },
        input: csv('seg_a,C1,first@example.com,Ann', 'seg_b,C1,second@example.com,Ann', 'seg_a,C2,b@example.com,Bo'),
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /, 1 duplicates merged, /,
      },
      (result, sim) => {
        assert.equal(result.report!.deduplication.merged_duplicates, 1);
        assert.equal(result.report!.deduplication.strategy, 'ImportFirstMatch');
        assert.equal(records(sim).find((r) => r.CUSTOMER_IDENTIFIER === 'C1')!.EMAIL, 'first@example.com');
        // The key stays a member of every Segment its rows named.
        assert.deepEqual(members(sim, 'seg_b'), ['C1']);
      },
    ));

  test('Selligent returns partial success: rejected rows are reported, status partial, exit 0', (t) =>
    reproduce(
      t,
      {
        input: csv(
          'seg_a,C1,a@example.com,Ann',
          `seg_a,C2,b@example.com,${'B'.repeat(150)}`,
          'seg_b,C3,c@example.com,Cy',
        ),
        status: 'partial',
        exit: 0,
        error: null,
        summary: /, 1 rejected, /,
      },
      (result, sim) => {
        assert.equal(result.report!.list!.failed, 1);
        assert.deepEqual(
          result.rejected.map((r) => [r.row, r.stage, r.code, r.field]),
          [[2, 'list-load', 'MaxStringLengthExceeded', 'FIRST_NAME']],
        );
        assert.deepEqual(members(sim, 'seg_a'), ['C1']);
      },
    ));

  test('partial success over max_rejected_rows: exit 6', (t) =>
    reproduce(t, {
      settings: { max_rejected_rows: 0 },
      input: csv('seg_a,C1,a@example.com,Ann', `seg_a,C2,b@example.com,${'B'.repeat(150)}`),
      status: 'partial',
      exit: 6,
      error: {
        code: 'REJECTIONS_OVER_TOLERANCE',
        stage: 'report',
        message: /^Selligent rejected 1 row\(s\), more than the tolerance \(max_rejected_rows 0/,
      },
    }));

  test('partial success with error_handling StopOnError: the export stops at the refused batch, exit 6', (t) =>
    reproduce(t, {
      settings: { error_handling: 'StopOnError' },
      input: csv('seg_a,C1,a@example.com,Ann', `seg_a,C2,b@example.com,${'B'.repeat(150)}`),
      status: 'failed',
      exit: 6,
      error: {
        code: 'STOPPED_ON_ERROR',
        stage: 'list-load',
        message: /^Selligent refused a List batch with invalid rows and error_handling is StopOnError/,
      },
    }));

  test('fewer records than rows: OnlyUpdate skips keys the List does not have', (t) =>
    reproduce(
      t,
      {
        settings: { list_data_import_option: 'OnlyUpdate' },
        sim: { seedList: { records: [{ CUSTOMER_IDENTIFIER: 'C1' }] } },
        // The skipped keys are not found by their Segment loads either: those Segments are partial.
        status: 'partial',
        exit: 0,
        error: null,
        summary: /, 2 not applied, /,
      },
      (result) => {
        assert.deepEqual(result.report!.accounting!.not_applied_by_reason, { not_found: 2 });
        assert.deepEqual(
          result.report!.segments.map((s) => [s.api_name, s.not_found, s.status]),
          [
            ['seg_a', 1, 'partial'],
            ['seg_b', 1, 'partial'],
          ],
        );
      },
    ));

  test('Selligent answers 200 with a failure code: the call is refused like its 400 form', (t) =>
    reproduce(
      t,
      {
        settings: { segment_data_import_option: 'replace' },
        sim: { seedList: { segments: [{ api_name: 'seg_a' }] } },
        setup: (sim) =>
          sim.faults.add({
            route: 'clearSegment',
            status: 200 as unknown as FaultStatus,
            headers: { 'Content-Type': 'application/json' },
            body: '{"result_code":"Failed","message":"The segment could not be cleared"}',
          }),
        status: 'failed',
        exit: 6,
        error: {
          code: 'SELLIGENT_REQUEST_REFUSED',
          stage: 'segment-load',
          message:
            /^DELETE \/Portal\/Api\/organizations\/my_org\/lists\/master_contacts\/segments\/seg_a\/data\/clear answered 200 \(Failed: The segment could not be cleared\)$/,
        },
      },
      (result) => assert.equal(result.report!.segments[0]!.cleared, false),
    ));

  test('Selligent answers 200 without a valid result_code after every retry', (t) =>
    reproduce(t, {
      setup: (sim) =>
        sim.faults.add({
          route: 'loadList',
          status: 200 as unknown as FaultStatus,
          headers: { 'Content-Type': 'application/json' },
          body: '{}',
        }),
      status: 'failed',
      exit: 5,
      error: {
        code: 'SELLIGENT_BAD_RESPONSE',
        stage: 'list-load',
        message:
          /data\/load answered 200 with a body that is not a Selligent answer \(no valid result_code\) after 2 attempts: "\{\}"$/,
      },
    }));

  test('Selligent counts failed rows without identifying them', (t) =>
    reproduce(
      t,
      {
        setup: (sim) =>
          sim.faults.add({
            route: 'loadList',
            status: 200 as unknown as FaultStatus,
            times: 1,
            headers: { 'Content-Type': 'application/json' },
            body: '{"result_code":"PartiallySucceeded","number_of_inserted_records":2,"number_of_failed_records":1,"invalid_records":null}',
          }),
        status: 'partial',
        exit: 0,
        error: null,
        summary:
          /, 2 loaded into List master_contacts \(2 inserted, 0 updated\), 0 skipped, 0 duplicates merged, 0 rejected, 1 not applied, 1 of them failed without detail, /,
      },
      (result) => {
        const report = result.report!;
        assert.deepEqual(report.accounting!.not_applied_by_reason, { failed_without_detail: 1 });
        assert.equal(report.list!.failed_without_detail, 1);
        assert.deepEqual(
          report.failed_without_detail.map((b) => [b.stage, b.target, b.batch_rows, b.first_row, b.last_row, b.failed]),
          [['list-load', LIST, 3, 1, 3, 1]],
        );
      },
    ));

  // ------------------------------------------------------------------ the exporter's own

  test('storage: the input object does not exist', (t) =>
    reproduce(t, {
      inputUri: `s3://${s3.bucket}/${prefix}/missing.csv`,
      env: s3.env() as Record<string, string>,
      status: 'failed',
      exit: 3,
      error: { code: 'INPUT_NOT_FOUND', stage: 'read', message: /s3:\/\/.*\/missing\.csv: (no such object|not found)/ },
    }));

  test('storage: access denied (wrong or missing storage credentials)', (t) =>
    reproduce(t, {
      inputUri: `s3://${s3.bucket}/${prefix}/result.csv`,
      env: {
        ...(s3.env() as Record<string, string>),
        AWS_ACCESS_KEY_ID: 'AKIAWRONGKEY00000001',
        AWS_SECRET_ACCESS_KEY: 'wrong-secret-value-123456',
      },
      status: 'failed',
      exit: 4,
      error: { code: 'STORAGE_ACCESS_DENIED', stage: 'read', message: /^object storage denied access to bucket "/ },
    }));

  test('storage: the endpoint cannot be reached', (t) =>
    reproduce(t, {
      inputUri: 's3://exports/result.csv',
      env: {
        AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
        S3_FORCE_PATH_STYLE: 'true',
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: 'AKIAEXAMPLE000000001',
        AWS_SECRET_ACCESS_KEY: 'example-secret-0001',
      },
      status: 'failed',
      exit: 5,
      error: {
        code: 'STORAGE_UNREACHABLE',
        stage: 'read',
        message: /^object storage endpoint http:\/\/127\.0\.0\.1:9 unreachable \(ECONNREFUSED\)/,
      },
    }));

  test('time-outs: Selligent answers slower than request_timeout_seconds', (t) =>
    reproduce(t, {
      settings: { request_timeout_seconds: 1 },
      setup: (sim) => sim.faults.add({ route: 'getOrganization', delayMs: 3_000 }),
      status: 'failed',
      exit: 5,
      error: {
        code: 'SELLIGENT_TIMEOUT',
        stage: 'preflight',
        message: /^GET \/Portal\/Api\/organizations\/my_org timed out after 2 attempts$/,
      },
    }));

  test('rate limits exhausted: 429 after every retry', (t) =>
    reproduce(
      t,
      {
        setup: (sim) => sim.faults.add({ route: 'loadList', status: 429 }),
        status: 'failed',
        exit: 5,
        error: {
          code: 'SELLIGENT_RATE_LIMITED',
          stage: 'list-load',
          message:
            /answered 429 \(rate limit\) after 2 attempts; lower requests_per_minute if other jobs share this API key/,
        },
      },
      (result) => assert.equal(result.report!.http.rate_limited, 2),
    ));

  test('Selligent unavailable: 5xx after every retry', (t) =>
    reproduce(t, {
      setup: (sim) => sim.faults.add({ route: 'loadSegment', status: 503 }),
      status: 'failed',
      exit: 5,
      error: {
        code: 'SELLIGENT_UNAVAILABLE',
        stage: 'segment-load',
        message: /\/segments\/seg_a\/data\/load answered 503 after 2 attempts \(ServiceUnavailable: /,
      },
    }));

  test('the run was stopped (SIGTERM from the workflow engine or docker stop)', (t) =>
    reproduce(t, {
      sim: { latencyMs: 300 },
      settings: { batch_rows: 1 },
      // Ten List requests of 300 ms: the signal lands in the List load even on a busy machine.
      input: csv(...Array.from({ length: 10 }, (_, i) => `seg_a,T${i},t${i}@example.com,T${i}`)),
      onStart: (sim) => (child) =>
        void (async () => {
          while (child.exitCode === null && !sim.requestLog().some((entry) => entry.route === 'loadList'))
            await sleep(20);
          child.kill('SIGTERM');
        })(),
      status: 'failed',
      exit: 5,
      error: {
        code: 'INTERRUPTED',
        stage: 'list-load',
        message: /^stopped by SIGTERM after the (request|work) in flight; running the same export again is safe$/,
      },
    }));

  test('settings invalid', (t) =>
    reproduce(t, {
      settings: { segment_data_import_option: 'Replace' },
      status: 'failed',
      exit: 2,
      error: {
        code: 'SETTINGS_INVALID',
        stage: 'settings',
        message:
          /segment_data_import_option: expected one of append, replace, got "Replace" \(values are case-sensitive: write replace\)/,
      },
    }));

  test('the input lacks the segment or key column', (t) =>
    reproduce(t, {
      input: 'segment,customer_identifier\nseg_a,C1\n',
      status: 'failed',
      exit: 3,
      error: {
        code: 'INPUT_COLUMNS_MISSING',
        stage: 'read',
        message:
          /^the input has no column for segment_column "selligent_segment" \(columns: segment, customer_identifier\)$/,
      },
    }));

  test('a column name is not a field name', (t) =>
    reproduce(
      t,
      {
        input: 'selligent_segment,customer_identifier,e-mail,First Name\nseg_a,C1,a@example.com,Ann\n',
        settings: { create_list_if_not_exists: true },
        sim: { seedList: null },
        status: 'failed',
        exit: 3,
        error: {
          code: 'FIELD_NAME_INVALID',
          stage: 'read',
          message:
            /^input columns "e-mail", "First Name" cannot be Selligent field names: a field name is 1 to 100 letters, digits and underscores/,
        },
      },
      (_result, sim) => assert.equal(writes(sim).length, 0),
    ));

  test('a secret variable is too short', (t) =>
    reproduce(t, {
      env: { AWS_SESSION_TOKEN: '5000' },
      status: 'failed',
      exit: 2,
      error: {
        code: 'SECRET_TOO_SHORT',
        stage: 'settings',
        message: /^AWS_SESSION_TOKEN is shorter than 6 characters/,
      },
    }));

  test('rows skipped as blank_row', (t) =>
    reproduce(
      t,
      {
        input: csv('seg_a,C1,a@example.com,Ann', ',,,', '', 'seg_a,C4,d@example.com,Di') + '\n',
        status: 'succeeded',
        exit: 0,
        error: null,
        summary: /, 2 skipped, /,
      },
      (result) => {
        assert.equal(result.report!.validation.by_reason.blank_row, 2);
        assert.deepEqual(
          result.rejected.map((entry) => entry.row),
          [2, 3],
        );
      },
    ));

  test('rows rejected by the field type (Numeric, DateTime)', (t) =>
    reproduce(
      t,
      {
        input: 'selligent_segment,customer_identifier,score\nseg_a,C1,1\nseg_a,C2,1.5\n',
        sim: { seedList: { fields: [{ name: 'SCORE', data_type: 'Numeric' }] } },
        status: 'partial',
        exit: 0,
        error: null,
        summary: /, 1 rejected, /,
      },
      (result) => {
        assert.equal(result.rejected[0]!.code, 'InvalidType');
        assert.match(
          String(result.rejected[0]!.message),
          /^SCORE: "1\.5" has a fraction; a Numeric field holds whole numbers only \(not sent: /,
        );
      },
    ));
});
