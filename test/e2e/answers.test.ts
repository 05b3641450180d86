/**
 * How the exporter reads Selligent's answers, end to end against the simulator: an answer's envelope
 * decides, not its status; failed rows the answer does not identify and rows its counters leave
 * unexplained are never counted as loaded; every input row is accounted exactly once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  members,
  records,
  seededList,
  selligentEnv,
  simulator,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import type { FaultRule, FaultStatus, SimulatorOptions } from '../../src/simulator/index.ts';

const SETTINGS = { ...BASE_SETTINGS, max_attempts: 3, retry_budget_seconds: 20 };
const HEADER = 'selligent_segment,customer_identifier,email,first_name';
const ROWS = ['seg_a,C1,a@example.com,Ann', 'seg_a,C2,b@example.com,Bo', 'seg_b,C3,c@example.com,Cy'];
const csv = (rows: string[] = ROWS) => [HEADER, ...rows].join('\n') + '\n';
const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8' };

/** A fault rule answering `status` (200 by default) with `body` as JSON. */
function answer(route: string, body: unknown, extra: Partial<FaultRule> = {}, status = 200): FaultRule {
  return {
    route,
    status: status as FaultStatus,
    headers: JSON_HEADERS,
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...extra,
  };
}

interface Run {
  settings?: Record<string, unknown>;
  input?: string;
  sim?: SimulatorOptions;
  seed?: Parameters<typeof seededList>[0] | null;
  faults?: FaultRule[];
}

async function run(
  options: Run,
  check: (result: CliResult, sim: SimulatorHandle) => void | Promise<void>,
): Promise<void> {
  const sim = await simulator({
    ...(options.seed === null ? {} : { seed: seededList(options.seed ?? {}) }),
    ...options.sim,
  });
  try {
    for (const rule of options.faults ?? []) sim.faults.add(rule);
    const dir = tempDir();
    const input = writeInput(dir, 'input.csv', options.input ?? csv());
    const result = await runCli({ settings: { ...SETTINGS, ...options.settings }, input, dir, env: selligentEnv(sim) });
    if (result.report?.accounting) assertBalanced(result.report);
    await check(result, sim);
  } finally {
    await sim.close();
  }
}

const keys = (sim: SimulatorHandle) =>
  records(sim)
    .map((r) => String(r.CUSTOMER_IDENTIFIER))
    .sort();
const why = (result: CliResult) => `${result.stdout.trim().split('\n').at(-1)}\n${result.stderr.slice(-2000)}`;

describe('every mutating call checks its result_code', { concurrency: 3 }, () => {
  test('replace: a clear answered 200 Failed stops the run; the old members stay and the report says not cleared', () =>
    run(
      {
        settings: { segment_data_import_option: 'replace' },
        seed: {
          records: [{ CUSTOMER_IDENTIFIER: 'OLD1' }],
          segments: [{ api_name: 'seg_a', members: [{ CUSTOMER_IDENTIFIER: 'OLD1' }] }],
        },
        faults: [answer('clearSegment', { result_code: 'Failed', message: 'The segment could not be cleared' })],
      },
      (result, sim) => {
        assert.equal(result.code, 6, why(result));
        const report = result.report!;
        assert.equal(report.status, 'failed');
        assert.equal(report.error!.code, 'SELLIGENT_REQUEST_REFUSED');
        assert.equal(report.error!.stage, 'segment-load');
        assert.match(
          report.error!.message,
          /DELETE \S+\/segments\/seg_a\/data\/clear answered 200 \(Failed: The segment could not be cleared\)/,
        );
        assert.equal(report.segments.find((s) => s.api_name === 'seg_a')!.cleared, false);
        assert.deepEqual(members(sim, 'seg_a'), ['OLD1']);
      },
    ));

  for (const route of ['createList', 'createFields', 'setBusinessKey', 'createStaticSegment']) {
    test(`${route} answered 200 Failed is a refusal, not a success`, () =>
      run(
        {
          settings: { create_list_if_not_exists: true },
          seed: null,
          faults: [
            answer(
              route,
              { result_code: 'Failed', errors: [{ error_code: 'ERR_X', description: 'the request was refused' }] },
              { times: 1 },
            ),
          ],
        },
        (result) => {
          const report = result.report!;
          assert.equal(report.status, 'failed', why(result));
          assert.equal(report.error!.code, 'SELLIGENT_REQUEST_REFUSED', why(result));
          assert.match(report.error!.message, /answered 200 \(Failed: ERR_X the request was refused\)/);
          assert.ok(result.code === 2 || result.code === 6, why(result));
        },
      ));
  }

  test('InternalServerError in a 200 on a create is retried like a 500', () =>
    run(
      { faults: [answer('createStaticSegment', { result_code: 'InternalServerError' }, { times: 1 })] },
      (result, sim) => {
        assert.equal(result.code, 0, why(result));
        assert.equal(result.report!.http.by_route.createStaticSegment, 3);
        assert.deepEqual(members(sim, 'seg_b'), ['C3']);
      },
    ));
});

describe('load answers', { concurrency: 3 }, () => {
  for (const body of ['null', '{}', '[]', '"Succeeded"', '{"result_code":"Done","number_of_inserted_records":3}']) {
    test(`a load answered 200 ${body} is a bad response: retried, never trusted`, () =>
      run({ faults: [answer('loadList', body, { times: 1 })] }, (result, sim) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.status, 'succeeded');
        assert.equal(report.http.by_route.loadList, 2);
        assert.equal(report.accounting!.loaded, 3);
        assert.deepEqual(keys(sim), ['C1', 'C2', 'C3']);
      }));
  }

  test('a load that keeps answering without a result_code fails the run as a bad response (exit 5), nothing counted as loaded', () =>
    run({ faults: [answer('loadList', '{}')] }, (result, sim) => {
      assert.equal(result.code, 5, why(result));
      const report = result.report!;
      assert.equal(report.error!.code, 'SELLIGENT_BAD_RESPONSE');
      assert.match(
        report.error!.message,
        /answered 200 with a body that is not a Selligent answer \(no valid result_code\) after 3 attempts/,
      );
      assert.equal(report.accounting!.loaded, 0);
      assert.deepEqual(report.accounting!.not_applied_by_reason, { not_sent: 3 });
      assert.equal(report.list!.requests, 1);
      assert.deepEqual(keys(sim), []);
    }));

  test('ServiceUnavailable in a 200 is retried like a 503', () =>
    run(
      { faults: [answer('loadList', { result_code: 'ServiceUnavailable', message: 'busy' }, { times: 2 })] },
      (result, sim) => {
        assert.equal(result.code, 0, why(result));
        assert.equal(result.report!.http.by_route.loadList, 3);
        assert.equal(result.report!.accounting!.loaded, 3);
        assert.deepEqual(keys(sim), ['C1', 'C2', 'C3']);
      },
    ));

  for (const code of ['ValidationFailed', 'NotFound']) {
    test(`a load answered 200 ${code} is refused exactly like its 400 form`, async () => {
      const body = {
        result_code: code,
        errors: [{ error_code: 'ERR_VALIDATION', description: 'Unknown field(s) in fields: EMAIL' }],
      };
      const codes: Array<[string, number | null, string]> = [];
      for (const status of [200, 400]) {
        await run({ faults: [answer('loadList', body, { times: 1 }, status)] }, (result) => {
          const report = result.report!;
          codes.push([report.error!.code, result.code, report.error!.message.replace(/answered \d+/, 'answered N')]);
          assert.equal(report.list!.requests, 1, 'the refused request is counted');
          assert.equal(report.accounting!.loaded, 0);
        });
      }
      assert.equal(codes[0]![0], 'SELLIGENT_REQUEST_REFUSED');
      assert.deepEqual(codes[0], codes[1]);
    });
  }

  test('ContinueOnError: a Failed answer because nothing could be applied (OnlyInsert rerun, one invalid row) rejects that row and goes on to the Segments', () =>
    run(
      {
        settings: { list_data_import_option: 'OnlyInsert' },
        seed: {
          records: [{ CUSTOMER_IDENTIFIER: 'C1' }, { CUSTOMER_IDENTIFIER: 'C2' }, { CUSTOMER_IDENTIFIER: 'C3' }],
        },
        faults: [
          answer(
            'loadList',
            {
              result_code: 'Failed',
              errors: [{ error_code: 'ERR_VALIDATION', description: '1 of 3 records are invalid' }],
              number_of_inserted_records: 0,
              number_of_updated_records: 0,
              number_of_failed_records: 1,
              number_of_duplicate_records: 2,
              number_of_records_not_found: 0,
              invalid_records: [
                {
                  record_index: 1,
                  field_name: 'FIRST_NAME',
                  message: 'Length of string (120) exceeds maximum field length (100)',
                  validation_code: 'MaxStringLengthExceeded',
                },
              ],
            },
            { times: 1 },
          ),
        ],
      },
      (result, sim) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.status, 'partial');
        assert.equal(report.error, null);
        assert.equal(report.accounting!.rejected, 1);
        assert.deepEqual(report.accounting!.not_applied_by_reason, { already_exists: 2 });
        // The rows file lists the rejected row and the two not applied (nothing in the request was applied).
        assert.deepEqual(result.rejected.map((line) => line.code).sort(), [
          'MaxStringLengthExceeded',
          'already_exists',
          'already_exists',
        ]);
        // The Segments are loaded, without the rejected row's key.
        const loaded = members(sim, 'seg_a').concat(members(sim, 'seg_b'));
        assert.equal(loaded.length, 2);
        assert.ok(!loaded.includes(String((result.rejected[0]!.key as Record<string, string>).CUSTOMER_IDENTIFIER)));
      },
    ));

  test('failed rows the answer does not identify: reported per batch with their row range, not loaded, the run partial', () =>
    run(
      {
        settings: { batch_rows: 2 },
        faults: [
          answer(
            'loadList',
            {
              result_code: 'PartiallySucceeded',
              number_of_inserted_records: 1,
              number_of_failed_records: 1,
              invalid_records: null,
            },
            { afterCalls: 1, times: 1 },
          ),
        ],
      },
      (result) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.status, 'partial');
        assert.equal(report.list!.failed_without_detail, 1);
        assert.deepEqual(report.accounting!.not_applied_by_reason, { failed_without_detail: 1 });
        assert.equal(report.accounting!.loaded, 2);
        assert.equal(report.failed_without_detail.length, 1);
        const batch = report.failed_without_detail[0]!;
        assert.deepEqual(
          [batch.stage, batch.target, batch.batch_rows, batch.failed],
          ['list-load', 'master_contacts', 1, 1],
        );
        assert.ok(
          batch.first_row === batch.last_row && batch.first_row >= 1 && batch.first_row <= 3,
          JSON.stringify(batch),
        );
      },
    ));

  test('failed rows without detail count against max_rejected_rows', () =>
    run(
      {
        settings: { max_rejected_rows: 0 },
        faults: [
          answer(
            'loadList',
            {
              result_code: 'PartiallySucceeded',
              number_of_inserted_records: 2,
              number_of_failed_records: 1,
              invalid_records: [],
            },
            { times: 1 },
          ),
        ],
      },
      (result) => {
        assert.equal(result.code, 6, why(result));
        assert.equal(result.report!.error!.code, 'REJECTIONS_OVER_TOLERANCE');
      },
    ));

  test('counters that do not add up to the rows sent: the rows they leave out are not applied (unknown), never loaded', () =>
    run(
      { faults: [answer('loadList', { result_code: 'Succeeded', number_of_inserted_records: 1 }, { times: 1 })] },
      (result) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.status, 'partial');
        assert.equal(report.accounting!.loaded, 1);
        assert.deepEqual(report.accounting!.not_applied_by_reason, { unknown: 2 });
      },
    ));

  test('OnlyInsert: an answer lost and retried reports the existing rows as outcome unknown, not already existing', () =>
    run(
      {
        settings: { list_data_import_option: 'OnlyInsert' },
        faults: [{ route: 'loadList', dropConnection: true, times: 1 }],
      },
      (result, sim) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.http.by_route.loadList, 2);
        assert.deepEqual(report.accounting!.not_applied_by_reason, { outcome_unknown: 3 });
        assert.equal(report.status, 'partial');
        assert.deepEqual(keys(sim), ['C1', 'C2', 'C3']);
      },
    ));

  test("a Segment's keys not found in the List make the run partial", () =>
    run(
      { settings: { list_data_import_option: 'OnlyUpdate' }, seed: { records: [{ CUSTOMER_IDENTIFIER: 'C1' }] } },
      (result) => {
        assert.equal(result.code, 0, why(result));
        const report = result.report!;
        assert.equal(report.segments.find((s) => s.api_name === 'seg_a')!.not_found, 1);
        assert.equal(report.status, 'partial');
      },
    ));

  test('a refused first batch is counted in list.requests', () =>
    run(
      { faults: [answer('loadList', { result_code: 'ValidationFailed', message: 'no' }, { times: 1 }, 400)] },
      (result) => {
        assert.equal(result.report!.list!.requests, 1, why(result));
        assert.equal(result.report!.http.by_route.loadList, 1);
      },
    ));

  for (const status of [408, 504]) {
    test(`${status} on a load counts like a time-out: after it repeats, the batch is split`, () =>
      run(
        {
          settings: { batch_rows: 4 },
          input: csv([...ROWS, 'seg_b,C4,d@example.com,Di']),
          faults: [{ route: 'loadList', status: status as FaultStatus, times: 2 }],
        },
        (result, sim) => {
          assert.equal(result.code, 0, why(result));
          const report = result.report!;
          assert.equal(report.http.split_batches, 1);
          assert.equal(report.http.by_route.loadList, 4);
          assert.equal(report.accounting!.loaded, 4);
          assert.deepEqual(keys(sim), ['C1', 'C2', 'C3', 'C4']);
        },
      ));
  }

  test('errorHandling is sent only for StopOnError', async () => {
    for (const errorHandling of ['ContinueOnError', 'StopOnError']) {
      await run({ settings: { error_handling: errorHandling } }, (result, sim) => {
        assert.equal(result.code, 0, why(result));
        const loads = sim.requestLog().filter((entry) => entry.route === 'loadList' || entry.route === 'loadSegment');
        assert.ok(loads.length >= 3);
        for (const entry of loads)
          assert.equal(
            entry.query.errorHandling,
            errorHandling === 'StopOnError' ? 'StopOnError' : undefined,
            JSON.stringify(entry.query),
          );
      });
    }
  });
});
