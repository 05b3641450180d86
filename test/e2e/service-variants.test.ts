/**
 * Preflight and set-up against the variants of the live service (selligent-api.md section 6): routing
 * values that differ only in case, absence told by 400 NotFound, a paged Segment listing, the business
 * key endpoint missing or limited, the busy-List 429, Segments reporting External/Unknown, and a service
 * account without the organization right. Each runs the built CLI against the simulator playing the variant.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  ORG,
  members,
  records,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import { DEV_API_KEY, DEV_API_SECRET, type FaultStatus, type SimulatorOptions } from '../../src/simulator/index.ts';
import { SelligentClient } from '../../src/selligent/client.ts';
import { createLogger } from '../../src/log.ts';

const HEADER = 'selligent_segment,customer_identifier,email,first_name';

async function withSim<T>(
  options: SimulatorOptions & { seedList?: Parameters<typeof seededList>[0] | null },
  work: (sim: SimulatorHandle, dir: string) => Promise<T>,
): Promise<T> {
  const { seedList, ...rest } = options;
  const sim = await simulator({ ...(seedList === null ? {} : { seed: seededList(seedList ?? {}) }), ...rest });
  try {
    return await work(sim, tempDir());
  } finally {
    await sim.close();
  }
}

async function run(
  sim: SimulatorHandle,
  dir: string,
  rows: string[],
  settings: Record<string, unknown> = {},
  header = HEADER,
): Promise<CliResult> {
  const input = writeInput(dir, 'input.csv', [header, ...rows].join('\n') + '\n');
  return runCli({
    settings: { ...BASE_SETTINGS, max_attempts: 2, retry_budget_seconds: 30, ...settings },
    input,
    dir,
    env: selligentEnv(sim),
  });
}

function routeCount(sim: SimulatorHandle, route: string): number {
  return sim.requestLog().filter((entry) => entry.route === route).length;
}

function warningCodes(result: CliResult): string[] {
  return result.report!.warnings.map((warning) => warning.code);
}

function lastLine(result: CliResult): string {
  return result.stdout.trim().split('\n').at(-1)!;
}

describe('routing values that differ only in case name one Segment', { concurrency: 2 }, () => {
  const ROWS = [
    'VIP,C1,a@example.com,Ann',
    'vip,C2,b@example.com,Bo',
    'Vip,C3,c@example.com,Cy',
    'VIP,C4,d@example.com,Di',
  ];

  test('replace into an existing Segment: cleared once, loaded once with every member, one report entry naming the spellings', () =>
    withSim(
      {
        seedList: {
          records: [{ CUSTOMER_IDENTIFIER: 'A' }, { CUSTOMER_IDENTIFIER: 'B' }],
          segments: [{ api_name: 'vip', members: [{ CUSTOMER_IDENTIFIER: 'A' }, { CUSTOMER_IDENTIFIER: 'B' }] }],
        },
      },
      async (sim, dir) => {
        const result = await run(sim, dir, ROWS, { segment_data_import_option: 'replace' });
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
        assertBalanced(result.report);
        assert.deepEqual(members(sim, 'vip'), ['C1', 'C2', 'C3', 'C4']);
        assert.equal(routeCount(sim, 'clearSegment'), 1);
        assert.equal(routeCount(sim, 'createStaticSegment'), 0);
        const segments = result.report!.segments;
        assert.equal(segments.length, 1);
        assert.equal(segments[0]!.api_name, 'vip');
        assert.equal(segments[0]!.rows, 4);
        assert.equal(segments[0]!.members_loaded, 4);
        assert.deepEqual(segments[0]!.routing_values, ['VIP', 'Vip', 'vip']);
        assert.equal(result.report!.deduplication.segment_memberships, 4);
        const merged = result.report!.warnings.find((warning) => warning.code === 'SEGMENT_VALUES_MERGED');
        assert.match(
          merged!.message,
          /^routing values VIP, Vip, vip name one Segment \(Selligent matches api names case-insensitively\)/,
        );
        assert.match(lastLine(result), /1\/1 Segments loaded \(4 members\), 1 warning \(see report\), exit 0/);
      },
    ));

  test('a missing Segment is created once, named by its most used spelling; one key under two spellings is one member', () =>
    withSim({}, async (sim, dir) => {
      const result = await run(sim, dir, [...ROWS, 'vip,C1,a@example.com,Ann']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assertBalanced(result.report);
      assert.equal(routeCount(sim, 'createStaticSegment'), 1);
      assert.deepEqual(
        sim
          .requestLog()
          .filter((entry) => entry.route === 'createStaticSegment')
          .map((entry) => entry.status),
        [200],
      );
      const segments = result.report!.segments;
      assert.deepEqual(
        segments.map((segment) => [segment.api_name, segment.created, segment.rows, segment.members_loaded]),
        [['VIP', true, 4, 4]],
      );
      assert.deepEqual(members(sim, 'VIP'), ['C1', 'C2', 'C3', 'C4']);
    }));
});

describe('V3: absence is 404, or 400 with result_code NotFound', { concurrency: 2 }, () => {
  test('a missing List answered 400 NotFound is created', () =>
    withSim({ seedList: null, variants: { notFoundStatus: 400 } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { create_list_if_not_exists: true });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.equal(result.report!.list!.created, true);
      assert.equal(records(sim).length, 1);
      assert.deepEqual(members(sim, 'seg_a'), ['C1']);
    }));

  test('a missing organization answered 400 NotFound is ORGANIZATION_NOT_FOUND (exit 2), nothing written', () =>
    withSim({ variants: { notFoundStatus: 400 } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { organization: 'other_org' });
      assert.equal(result.code, 2, result.stdout);
      assert.equal(result.report!.error!.code, 'ORGANIZATION_NOT_FOUND');
      assert.equal(writes(sim).length, 0);
    }));

  test('the client reads 400 NotFound as absent on the organization, List and Segment GETs, and 400 otherwise as an error', () =>
    withSim({ variants: { notFoundStatus: 400 }, seedList: { segments: [{ api_name: 'seg_a' }] } }, async (sim) => {
      const client = new SelligentClient(
        { baseUrl: sim.baseUrl, apiKey: DEV_API_KEY, apiSecret: DEV_API_SECRET },
        {
          retry: { maxAttempts: 1, budgetMs: 1_000, baseDelayMs: 1, maxDelayMs: 1 },
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 5_000,
          requestsPerMinute: 10_000,
          splitAfterTimeouts: 2,
          logger: createLogger({ level: 'silent' }),
        },
      );
      try {
        assert.equal(await client.getOrganization('ghost_org'), undefined);
        assert.equal(await client.getList(ORG, 'ghost'), undefined);
        assert.equal(await client.getSegment(ORG, LIST, 'ghost'), undefined);
        assert.equal((await client.getSegment(ORG, LIST, 'seg_a'))?.api_name, 'seg_a');
        sim.faults.add({
          route: 'getList',
          status: 400 as FaultStatus,
          times: 1,
          body: JSON.stringify({ result_code: 'ValidationFailed', message: 'bad' }),
          headers: { 'Content-Type': 'application/json' },
        });
        await assert.rejects(client.getList(ORG, LIST), { code: 'SELLIGENT_REQUEST_REFUSED' });
      } finally {
        client.close();
      }
    }));
});

describe('V4: a paged Segment listing', { concurrency: 2 }, () => {
  const SEGMENTS = Array.from({ length: 150 }, (_, i) => ({ api_name: `s${String(i).padStart(3, '0')}` }));

  test('150 existing Segments over pages of 100 are all found: none is created again, a new one is', () =>
    withSim({ variants: { segmentsPageSize: 100 }, seedList: { segments: SEGMENTS } }, async (sim, dir) => {
      const result = await run(sim, dir, [
        's005,C1,a@example.com,Ann',
        's120,C2,b@example.com,Bo',
        'S149,C3,c@example.com,Cy',
        'fresh,C4,d@example.com,Di',
      ]);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assertBalanced(result.report);
      const creates = sim.requestLog().filter((entry) => entry.route === 'createStaticSegment');
      assert.deepEqual(
        creates.map((entry) => entry.status),
        [200],
      );
      // In order of the routing values ('S149' sorts first); named as Selligent spells them.
      assert.deepEqual(
        result.report!.segments.map((segment) => [segment.api_name, segment.existed, segment.created]),
        [
          ['s149', true, false],
          ['fresh', false, true],
          ['s005', true, false],
          ['s120', true, false],
        ],
      );
      assert.deepEqual(members(sim, 's149'), ['C3']);
      const pages = sim.requestLog().filter((entry) => entry.route === 'listSegments');
      assert.deepEqual(
        pages.map((entry) => [entry.query.skip, entry.query.take]),
        [
          ['0', '100'],
          ['100', '100'],
        ],
      );
    }));

  test('without creation, a Segment on the second page is no SEGMENT_NOT_FOUND', () =>
    withSim({ variants: { segmentsPageSize: 100 }, seedList: { segments: SEGMENTS } }, async (sim, dir) => {
      const result = await run(sim, dir, ['s140,C1,a@example.com,Ann'], { create_segment_if_not_exists: false });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.deepEqual(members(sim, 's140'), ['C1']);
    }));

  test('a service that pages with a smaller page than asked is read to segment_count', () =>
    withSim({ variants: { segmentsPageSize: 40 }, seedList: { segments: SEGMENTS } }, async (sim, dir) => {
      const result = await run(sim, dir, ['s149,C1,a@example.com,Ann']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.equal(routeCount(sim, 'createStaticSegment'), 0);
      assert.equal(routeCount(sim, 'listSegments'), 4);
    }));
});

describe('V5: the business key', { concurrency: 3 }, () => {
  for (const variant of [404, 405] as const) {
    test(`PUT .../businesskey answered ${variant} (not rolled out): the run goes on with a warning`, () =>
      withSim({ seedList: null, variants: { businessKey: variant } }, async (sim, dir) => {
        const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { create_list_if_not_exists: true });
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
        assertBalanced(result.report);
        assert.equal(result.report!.list!.created, true);
        assert.equal(result.report!.list!.business_key_set, false);
        assert.deepEqual(warningCodes(result), ['BUSINESS_KEY_UNSUPPORTED']);
        assert.match(
          result.report!.warnings[0]!.message,
          new RegExp(`businesskey answered ${variant}: this tenant does not offer the business key endpoint`),
        );
        assert.equal(records(sim).length, 1);
      }));
  }

  test('501 from the business key endpoint is a warning too; the key fields go in key_fields order', () =>
    withSim({ seedList: null }, async (sim, dir) => {
      sim.faults.add({ route: 'setBusinessKey', status: 501 as FaultStatus, times: 1 });
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], {
        create_list_if_not_exists: true,
        key_fields: 'email,customer_identifier',
      });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.deepEqual(warningCodes(result), ['BUSINESS_KEY_UNSUPPORTED']);
    }));

  test('with 3 key fields on a tenant that takes at most 3, the key is set over exactly key_fields', () =>
    withSim({ seedList: null, variants: { businessKey: 'max3' } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], {
        create_list_if_not_exists: true,
        key_fields: 'email,customer_identifier,first_name',
      });
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.equal(result.report!.list!.business_key_set, true);
      assert.deepEqual([...sim.businessKey(ORG, LIST)!].sort(), ['CUSTOMER_IDENTIFIER', 'EMAIL', 'FIRST_NAME']);
    }));

  test('more than 3 key fields with create_list_if_not_exists is a settings error before anything is read or written', () =>
    withSim({ seedList: null }, async (sim, dir) => {
      const result = await run(
        sim,
        dir,
        ['seg_a,C1,a@example.com,Ann'],
        { create_list_if_not_exists: true, key_fields: 'customer_identifier,email,first_name,last_name' },
        `${HEADER},last_name`,
      );
      assert.equal(result.code, 2, result.stdout);
      assert.equal(result.report!.error!.code, 'SETTINGS_INVALID');
      assert.match(
        result.report!.error!.message,
        /key_fields: must name at most 3 fields when create_list_if_not_exists is true: .*Selligent's business key takes 1 to 3 fields/,
      );
      assert.equal(sim.requestLog().length, 0);
    }));

  test("the load's own key-index refusal stays the hard error (exit 6: the List was created)", () =>
    withSim({ seedList: null, variants: { businessKey: 404, keyIndexGuard: 'exact' } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { create_list_if_not_exists: true });
      assert.equal(result.code, 6, result.stdout);
      assert.equal(result.report!.list!.created, true);
      assert.equal(result.report!.error!.code, 'KEY_INDEX_MISSING');
      assert.deepEqual(warningCodes(result), ['BUSINESS_KEY_UNSUPPORTED']);
    }));
});

describe('V7: a 429 that is not the quota on a bulk route means the List is busy', { concurrency: 3 }, () => {
  const busy = (times: number, headers: Record<string, string>) => ({
    route: 'loadList' as const,
    status: 429 as const,
    times,
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ result_code: 'Failed', message: 'Another bulk operation is in progress on this list.' }),
  });

  for (const [shape, headers] of [
    [
      'an envelope with quota left',
      { 'X-RateLimit-Limit': '2500, 2500;w=60', 'X-RateLimit-Remaining': '2400', 'X-RateLimit-Reset': '40' },
    ],
    ['no rate-limit headers', {}],
  ] as const) {
    test(`busy answers (${shape}) are waited out beyond max_attempts, within list_busy_retry_seconds, and logged as another process holding the List`, () =>
      withSim({}, async (sim, dir) => {
        sim.faults.add(busy(2, headers));
        const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { max_attempts: 1 });
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
        assertBalanced(result.report);
        assert.equal(records(sim).length, 1);
        const http = result.report!.http;
        assert.equal(http.list_busy_waits, 2);
        assert.equal(http.rate_limit_waits, 0);
        assert.ok(http.list_busy_wait_seconds >= 1, String(http.list_busy_wait_seconds));
        assert.match(
          result.stdout,
          /answered 429 with requests left in the quota: another process holds this List's bulk lock; waiting/,
        );
      }));
  }

  test('when the List stays busy past list_busy_retry_seconds: SELLIGENT_LIST_BUSY, exit 5', () =>
    withSim({}, async (sim, dir) => {
      sim.faults.add(busy(100, {}));
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { list_busy_retry_seconds: 3 });
      assert.equal(result.code, 5, result.stdout);
      assert.equal(result.report!.error!.code, 'SELLIGENT_LIST_BUSY');
      assert.match(
        result.report!.error!.message,
        /answered 429 \d+ time\(s\) over [\d.]+ s: another process holds this List's bulk lock/,
      );
    }));

  test('the quota text stays the quota: bounded by max_attempts', () =>
    withSim({}, async (sim, dir) => {
      sim.faults.add({ route: 'loadList', status: 429, times: 2, headers: { 'Retry-After': '0' } });
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann'], { max_attempts: 1 });
      assert.equal(result.code, 5, result.stdout);
      assert.equal(result.report!.error!.code, 'SELLIGENT_RATE_LIMITED');
      assert.equal(result.report!.http.list_busy_waits, 0);
    }));
});

describe('V10: Segment types', { concurrency: 2 }, () => {
  for (const type of ['External', 'Unknown'] as const) {
    test(`an existing static Segment reporting ${type} gets a warning and is loaded`, () =>
      withSim(
        { variants: { staticSegmentType: type }, seedList: { segments: [{ api_name: 'seg_a' }] } },
        async (sim, dir) => {
          const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
          assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
          assert.deepEqual(warningCodes(result), ['SEGMENT_TYPE_NOT_STATIC']);
          assert.match(
            result.report!.warnings[0]!.message,
            new RegExp(`^Segment seg_a \\(${type}\\) of List master_contacts reports a type other than Static`),
          );
          assert.deepEqual(members(sim, 'seg_a'), ['C1']);
        },
      ));
  }

  test('a Segment that really is External: warned at preflight, then the load decides (refused: exit 6)', () =>
    withSim({ seedList: { segments: [{ api_name: 'seg_a', type: 'External' }] } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
      assert.equal(result.code, 6, result.stdout);
      assert.deepEqual(warningCodes(result), ['SEGMENT_TYPE_NOT_STATIC']);
      assert.equal(result.report!.error!.stage, 'segment-load');
      assert.equal(records(sim).length, 1);
    }));

  test('a Dynamic Segment stays a refusal before anything is written', () =>
    withSim({ seedList: { segments: [{ api_name: 'seg_a', type: 'Dynamic' }] } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
      assert.equal(result.code, 2, result.stdout);
      assert.equal(result.report!.error!.code, 'SEGMENT_NOT_STATIC');
      assert.equal(writes(sim).length, 0);
    }));

  test('a created static Segment reported as External is taken as created when a retried create is refused', () =>
    withSim({ variants: { staticSegmentType: 'External' } }, async (sim, dir) => {
      // The first create does its work but its answer is lost; the retry is refused as existing.
      sim.faults.add({ route: 'createStaticSegment', dropConnection: true, times: 1 });
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.deepEqual(members(sim, 'seg_a'), ['C1']);
    }));
});

describe('V12: a 401 on the organization GET', { concurrency: 2 }, () => {
  test('when the List GET is allowed the run goes on, with a warning', () =>
    withSim({ variants: { organizationGet: 401 } }, async (sim, dir) => {
      const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
      assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
      assert.deepEqual(warningCodes(result), ['ORGANIZATION_GET_REFUSED']);
      assert.equal(records(sim).length, 1);
    }));

  test('a service account with every right the run needs but the organization one', () =>
    withSim(
      {
        credentials: [
          {
            key: DEV_API_KEY,
            secret: DEV_API_SECRET,
            permissions: [
              'getList',
              'getFields',
              'listSegments',
              'getSegment',
              'createStaticSegment',
              'loadList',
              'loadSegment',
            ],
          },
        ],
      },
      async (sim, dir) => {
        const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
        assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
        assert.deepEqual(warningCodes(result), ['ORGANIZATION_GET_REFUSED']);
      },
    ));

  test('when the List GET is refused too, the run is an authentication error naming the organization GET (exit 4)', () =>
    withSim(
      { credentials: [{ key: DEV_API_KEY, secret: DEV_API_SECRET, permissions: ['loadList'] }] },
      async (sim, dir) => {
        const result = await run(sim, dir, ['seg_a,C1,a@example.com,Ann']);
        assert.equal(result.code, 4, result.stdout);
        assert.equal(result.report!.error!.code, 'SELLIGENT_UNAUTHORIZED');
        assert.match(result.report!.error!.message, /^GET \/Portal\/Api\/organizations\/my_org answered 401/);
        assert.equal(writes(sim).length, 0);
      },
    ));
});
