/**
 * The documented samples and the troubleshooting cases under every variant of the live service that the
 * simulator plays (contract section 6). Whatever the variant, a run must tell the truth: every row the
 * report counts as loaded is in the simulator's List, no row it counts as not loaded was written, every
 * Segment holds exactly the members the report claims, the exit code follows the README's table, and a
 * rerun converges.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { FIXTURES, assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  members,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import type { SimulatorOptions } from '../../src/simulator/index.ts';
import type { Variants } from '../../src/simulator/variants.ts';

interface Variant {
  name: string;
  variants: Partial<Variants>;
  options?: SimulatorOptions;
  /** Faults added before each run. */
  setup?: (sim: SimulatorHandle) => void;
  /** Warning codes a run into a new tenant must carry. */
  warnings?: string[];
}

const VARIANTS: Variant[] = [
  { name: 'default', variants: {} },
  { name: 'V1: request-level load failures answered 200', variants: { loadFailureStatus: 200 } },
  {
    name: 'V1: transient load failures answered 200 ServiceUnavailable',
    variants: { loadTransientInBody: true },
    setup: (sim) => {
      sim.faults.add({ route: 'loadList', status: 503, times: 1 });
      sim.faults.add({ route: 'loadSegment', status: 503, times: 1 });
    },
  },
  { name: 'V2: failed rows counted without detail', variants: { failedRowDetail: 'count-only' } },
  { name: 'V3: absence answered 400 NotFound', variants: { notFoundStatus: 400 } },
  { name: 'V4: Segment listing paged by 2', variants: { segmentsPageSize: 2 } },
  { name: 'V5: business key endpoint 404', variants: { businessKey: 404 }, warnings: ['BUSINESS_KEY_UNSUPPORTED'] },
  { name: 'V5: business key endpoint 405', variants: { businessKey: 405 }, warnings: ['BUSINESS_KEY_UNSUPPORTED'] },
  { name: 'V5: business key of at most 3 fields', variants: { businessKey: 'max3' } },
  { name: 'V6: key index must equal keyFields', variants: { keyIndexGuard: 'exact' } },
  { name: 'V6: key index must cover keyFields', variants: { keyIndexGuard: 'covers' } },
  { name: 'V7: busy-List 429 without rate-limit headers', variants: { listBusy429: 'no-headers' } },
  { name: 'V7: busy-List 429 with the quota text', variants: { listBusy429: 'quota-text' } },
  {
    name: 'V8: fixed quota window, 12 requests per 3 s',
    variants: { quotaWindow: 'fixed' },
    options: { rateLimit: { limit: 12, windowMs: 3_000 } },
  },
  {
    name: 'V9: 408 past 250 ms of server work (100 ms a row)',
    variants: { serverTimeoutMs: 250 },
    options: { latencyPerRowMs: 100 },
  },
  {
    name: 'V10: static Segments reported External',
    variants: { staticSegmentType: 'External' },
    warnings: ['SEGMENT_TYPE_NOT_STATIC'],
  },
  {
    name: 'V10: static Segments reported Unknown',
    variants: { staticSegmentType: 'Unknown' },
    warnings: ['SEGMENT_TYPE_NOT_STATIC'],
  },
  { name: 'V11: strings accepted for typed fields', variants: { stringValues: 'accept' } },
  {
    name: 'V12: organization GET refused (401)',
    variants: { organizationGet: 401 },
    warnings: ['ORGANIZATION_GET_REFUSED'],
  },
];

const sampleSettings = (name: string) =>
  parse(readFileSync(join(FIXTURES, `${name}.settings.yml`), 'utf8')) as Record<string, unknown>;

/** The multi-Segment sample plus a duplicate key (the later row wins) and a row skipped by validation. */
const MULTI_INPUT =
  [
    readFileSync(join(FIXTURES, 'multi_segment.csv'), 'utf8').trimEnd(),
    'vip_customers,C500,ann@example.com,Ann,99.5,2026-01-02 03:04:05',
    'standard_customers,C101,mei.new@example.com,Mei,1600.25,2026-06-01 09:00:00',
    ',C600,nobody@example.com,No,1.0,2026-01-01 00:00:00',
  ].join('\n') + '\n';

const LONG_EMAIL = `${'x'.repeat(240)}@example.com`;
/** The basic sample into a seeded List, replacing an existing Segment, with one row Selligent refuses (EMAIL is 200 long). */
const BASIC_INPUT =
  [readFileSync(join(FIXTURES, 'basic.csv'), 'utf8').trimEnd(), `active_customers,C777,${LONG_EMAIL},Rex,Long`].join(
    '\n',
  ) + '\n';

async function withSim<T>(
  variant: Variant,
  seed: ReturnType<typeof seededList> | undefined,
  work: (sim: SimulatorHandle) => Promise<T>,
): Promise<T> {
  const sim = await simulator({ ...(seed ? { seed } : {}), ...variant.options, variants: variant.variants });
  try {
    return await work(sim);
  } finally {
    await sim.close();
  }
}

async function run(
  variant: Variant,
  sim: SimulatorHandle,
  settings: Record<string, unknown>,
  input: string,
  dir = tempDir(),
): Promise<CliResult> {
  variant.setup?.(sim);
  const result = await runCli({ settings, input: writeInput(dir, 'input.csv', input), dir, env: selligentEnv(sim) });
  assert.ok(result.report, `no report: ${result.stdout}\n${result.stderr}`);
  assertBalanced(result.report);
  return result;
}

/** Every Segment holds exactly the members the report says were loaded (the tenant had none before). */
function assertSegmentsTruthful(result: CliResult, sim: SimulatorHandle): void {
  for (const segment of result.report!.segments) {
    assert.equal(members(sim, segment.api_name).length, segment.members_loaded, `Segment ${segment.api_name}`);
  }
}

function warningCodes(result: CliResult): string[] {
  return (result.report!.warnings as unknown as Array<{ code: string }>).map((warning) => warning.code);
}

for (const variant of VARIANTS) {
  describe(variant.name, { concurrency: 2 }, () => {
    test('multi-Segment sample into an empty tenant: List, fields, key and Segments created, every count true; a rerun converges', () =>
      withSim(variant, undefined, async (sim) => {
        const settings = { ...sampleSettings('multi_segment'), create_list_if_not_exists: true };
        const first = await run(variant, sim, settings, MULTI_INPUT);
        assert.equal(first.code, 0, first.stdout + first.stderr);
        const report = first.report!;
        assert.deepEqual(
          {
            skipped: report.accounting!.skipped,
            merged: report.accounting!.merged_duplicates,
            loaded: report.accounting!.loaded,
          },
          { skipped: 1, merged: 1, loaded: 4 },
        );
        // Loaded means written: each loaded row's values are in the List, and nothing else is.
        assert.equal(records(sim).length, report.accounting!.loaded);
        const mei = records(sim).find((r) => r.CUSTOMER_IDENTIFIER === 'C101')!;
        assert.equal(mei.EMAIL, 'mei.new@example.com');
        assert.equal(mei.LAST_PURCHASE_AT, '2026-06-01T09:00:00.000Z');
        // A key routed to several Segments is a member of each; its List values are the winning row's.
        assert.deepEqual(members(sim, 'vip_customers'), ['C101', 'C500']);
        assert.deepEqual(members(sim, 'standard_customers'), ['C101', 'C319']);
        assert.deepEqual(members(sim, 're_engagement'), ['C204']);
        assertSegmentsTruthful(first, sim);

        const state = JSON.stringify({
          records: records(sim),
          vip: members(sim, 'vip_customers'),
          standard: members(sim, 'standard_customers'),
        });
        const again = await run(variant, sim, settings, MULTI_INPUT);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.equal(again.report!.accounting!.loaded, 4);
        assert.equal(again.report!.list!.created, false);
        assert.equal(
          JSON.stringify({
            records: records(sim),
            vip: members(sim, 'vip_customers'),
            standard: members(sim, 'standard_customers'),
          }),
          state,
        );
        // Set-up warnings come with the first run, Segment type warnings once the Segments exist.
        const warned = [...warningCodes(first), ...warningCodes(again)];
        for (const code of variant.warnings ?? [])
          assert.ok(warned.includes(code), `warning ${code} in ${JSON.stringify(warned)}`);
      }));

    test('basic sample replacing an existing Segment, with a row Selligent refuses: that row is never counted as loaded', () =>
      withSim(
        variant,
        seededList({
          records: [{ CUSTOMER_IDENTIFIER: 'C900', EMAIL: 'old@example.com' }],
          segments: [{ api_name: 'active_customers', members: [{ CUSTOMER_IDENTIFIER: 'C900' }] }],
        }),
        async (sim) => {
          const settings = { ...sampleSettings('basic'), segment_data_import_option: 'replace' };
          const result = await run(variant, sim, settings, BASIC_INPUT);
          assert.equal(result.code, 0, result.stdout + result.stderr);
          const report = result.report!;
          assert.equal(report.status, 'partial');
          assert.equal(report.accounting!.loaded, 3);
          assert.equal(report.accounting!.rejected + report.accounting!.not_applied, 1);
          if (variant.variants.failedRowDetail === 'count-only') {
            assert.equal(report.accounting!.not_applied_by_reason.failed_without_detail, 1);
            assert.equal(report.failed_without_detail.length, 1);
          } else {
            assert.equal(report.accounting!.rejected, 1);
            assert.equal(result.rejected[0]!.code, 'MaxStringLengthExceeded');
          }
          assert.equal(
            records(sim).find((r) => r.CUSTOMER_IDENTIFIER === 'C777'),
            undefined,
          );
          assert.deepEqual(
            records(sim)
              .map((r) => r.CUSTOMER_IDENTIFIER)
              .sort(),
            ['C001', 'C002', 'C003', 'C900'],
          );
          // Replaced: the old member left, the refused row's key was never added.
          assert.deepEqual(members(sim, 'active_customers'), ['C001', 'C002', 'C003']);
          assert.equal(report.segments[0]!.members_loaded, 3);
          assert.equal(report.segments[0]!.cleared, true);
        },
      ));

    test('StopOnError with a bad row: the refused batch is not counted as loaded and nothing of it is written (exit 6)', () =>
      withSim(variant, seededList(), async (sim) => {
        const settings = { ...sampleSettings('basic'), error_handling: 'StopOnError' };
        const result = await run(variant, sim, settings, BASIC_INPUT);
        assert.equal(result.code, 6, result.stdout + result.stderr);
        const report = result.report!;
        assert.equal(report.error!.code, 'STOPPED_ON_ERROR');
        // One batch holds every row, unless the service timed it out and it was split: then the half
        // without the bad row loads, and the report says so.
        assert.equal(report.accounting!.loaded, variant.variants.serverTimeoutMs ? 2 : 0);
        assert.equal(records(sim).length, report.accounting!.loaded);
        assert.equal(
          records(sim).find((r) => r.CUSTOMER_IDENTIFIER === 'C777'),
          undefined,
        );
        assert.deepEqual(members(sim, 'active_customers'), []);
      }));

    test('a missing List without create_list_if_not_exists: LIST_NOT_FOUND before any write (exit 2)', () =>
      withSim(variant, undefined, async (sim) => {
        const result = await run(variant, sim, { ...BASE_SETTINGS }, BASIC_INPUT);
        assert.equal(result.code, 2, result.stdout + result.stderr);
        assert.equal(result.report!.error!.code, 'LIST_NOT_FOUND');
        assert.deepEqual(writes(sim), []);
      }));
  });
}

test('Long keys past 2^53 are sent with their exact digits: keys that differ only there are two records', async () => {
  const sim = await simulator({ seed: seededList({ fields: [{ name: 'ACCOUNT_ID', data_type: 'Long' }] }) });
  try {
    const dir = tempDir();
    const schema = writeInput(
      dir,
      'schema.json',
      JSON.stringify([
        ['selligent_segment', 'string'],
        ['customer_identifier', 'string'],
        ['account_id', 'long'],
      ]),
    );
    const input =
      [
        'selligent_segment,customer_identifier,account_id',
        'big,C1,9007199254740993',
        'big,C2,9007199254740992',
        'big,C3,9223372036854775807',
      ].join('\n') + '\n';
    const result = await runCli({
      settings: { ...BASE_SETTINGS, key_fields: 'ACCOUNT_ID' },
      input: writeInput(dir, 'input.csv', input),
      dir,
      args: ['--schema', schema],
      env: selligentEnv(sim),
    });
    assert.equal(result.code, 0, result.stdout + result.stderr);
    assertBalanced(result.report);
    assert.equal(result.report!.accounting!.loaded, 3);
    const ids = records(sim)
      .map((r) => String(r.ACCOUNT_ID))
      .sort();
    assert.deepEqual(ids, ['9007199254740992', '9007199254740993', '9223372036854775807']);
    assert.equal(members(sim, 'big', 'ACCOUNT_ID').length, 3);
  } finally {
    await sim.close();
  }
});
