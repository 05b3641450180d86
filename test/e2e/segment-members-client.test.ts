import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LIST, ORG, members, records, seededList, simulator, type SimulatorHandle } from '../helpers/sim.ts';
import { DEV_API_KEY, DEV_API_SECRET, type SeedState, type SimulatorOptions } from '../../src/simulator/index.ts';
import { SelligentClient, type SearchValue } from '../../src/selligent/client.ts';
import { createLogger } from '../../src/log.ts';
import type { ClientStats } from '../../src/selligent/stats.ts';

const KEY = ['CUSTOMER_IDENTIFIER'];
const REMOVE = { keyFields: KEY, fields: KEY, mode: 'Sync' };

function id(i: number): string {
  return `C${String(i).padStart(5, '0')}`;
}

/** A List of `count` records, all of them members of seg_a. */
function seed(count: number): SeedState {
  const all = Array.from({ length: count }, (_, i) => ({ ID: i + 1, CUSTOMER_IDENTIFIER: id(i) }));
  const state: SeedState = seededList({ records: all });
  state.lists![0]!.segments = [
    { api_name: 'seg_a', members: all.map((record) => record.ID) },
    { api_name: 'seg_empty' },
  ];
  return state;
}

async function withClient(
  options: SimulatorOptions,
  work: (client: SelligentClient, sim: SimulatorHandle, http: ClientStats) => Promise<void>,
): Promise<void> {
  const sim = await simulator(options);
  const client = new SelligentClient(
    { baseUrl: sim.baseUrl, apiKey: DEV_API_KEY, apiSecret: DEV_API_SECRET },
    {
      retry: {
        maxAttempts: 4,
        budgetMs: 30_000,
        baseDelayMs: 1,
        maxDelayMs: 5,
        listBusy: { budgetMs: 30_000, baseDelayMs: 1, maxDelayMs: 5 },
      },
      connectTimeoutMs: 5_000,
      requestTimeoutMs: 10_000,
      requestsPerMinute: 100_000,
      splitAfterTimeouts: 2,
      logger: createLogger({ level: 'silent' }),
    },
  );
  try {
    await work(client, sim, client.stats);
  } finally {
    client.close();
    await sim.close();
  }
}

async function allPages(pages: AsyncIterable<SearchValue[][]>): Promise<SearchValue[][][]> {
  const out: SearchValue[][][] = [];
  for await (const page of pages) out.push(page);
  return out;
}

function keyRows(ids: string[]): Buffer {
  return Buffer.from(JSON.stringify(ids.map((key) => [key])));
}

describe('Segment members: search', { concurrency: 2 }, () => {
  test('2,345 members come in pages of 1,000, 1,000 and 345, in key order, with one request per page', () =>
    withClient({ seed: seed(2_345) }, async (client, sim) => {
      const pages = await allPages(client.segmentMemberPages(ORG, LIST, 'seg_a', KEY));
      assert.deepEqual(
        pages.map((page) => page.length),
        [1_000, 1_000, 345],
      );
      const keys = pages.flat().map((row) => row[0]);
      assert.deepEqual(
        keys,
        Array.from({ length: 2_345 }, (_, i) => id(i)),
      );
      const searches = sim.requestLog().filter((entry) => entry.route === 'searchSegment');
      assert.equal(searches.length, 3);
    }));

  test('a membership that fills its last page exactly takes one more request, which comes back empty', () =>
    withClient({ seed: seed(2_000) }, async (client, sim) => {
      const pages = await allPages(client.segmentMemberPages(ORG, LIST, 'seg_a', KEY));
      assert.deepEqual(
        pages.map((page) => page.length),
        [1_000, 1_000],
      );
      assert.equal(sim.requestLog().filter((entry) => entry.route === 'searchSegment').length, 3);
    }));

  test('a smaller take pages further; an empty Segment yields nothing', () =>
    withClient({ seed: seed(25) }, async (client) => {
      const pages = await allPages(client.segmentMemberPages(ORG, LIST, 'seg_a', KEY, { take: 10 }));
      assert.deepEqual(
        pages.map((page) => page.length),
        [10, 10, 5],
      );
      assert.deepEqual(await allPages(client.segmentMemberPages(ORG, LIST, 'seg_empty', KEY)), []);
    }));

  test('one page: the fields asked for, in that order; a Long key past 2^53 keeps its exact digits', () =>
    withClient(
      {
        seed: {
          lists: [
            {
              api_name: LIST,
              fields: [
                { name: 'ACCOUNT', data_type: 'Long' },
                { name: 'REGION', data_type: 'Text', length: 10 },
              ],
              records: [
                { ID: 1, ACCOUNT: 9007199254740993n, REGION: 'eu' },
                { ID: 2, ACCOUNT: 7, REGION: 'us' },
              ],
              segments: [{ api_name: 'seg_a', members: [1, 2] }],
            },
          ],
        },
      },
      async (client) => {
        const page = await client.searchSegmentMembers(ORG, LIST, 'seg_a', ['REGION', 'ACCOUNT'], {
          skip: 0,
          take: 10,
          orderBy: 'ID',
        });
        assert.deepEqual(page.fields, ['REGION', 'ACCOUNT']);
        assert.deepEqual(page.rows, [
          ['eu', 9007199254740993n],
          ['us', 7],
        ]);
        const second = await client.searchSegmentMembers(ORG, LIST, 'seg_a', ['ACCOUNT'], {
          skip: 1,
          take: 10,
          orderBy: 'ID',
        });
        assert.deepEqual(second.rows, [[7]]);
      },
    ));
});

describe('Segment members: removal', { concurrency: 2 }, () => {
  test('removing in several batches takes out exactly those members; the List records stay; a non-member is not found', () =>
    withClient({ seed: seed(30) }, async (client, sim) => {
      const leavers = Array.from({ length: 12 }, (_, i) => id(i * 2));
      let deleted = 0;
      let notFound = 0;
      for (let start = 0; start < leavers.length; start += 5) {
        const batch = leavers.slice(start, start + 5);
        const answer = await client.removeSegmentMembers(ORG, LIST, 'seg_a', REMOVE, keyRows(batch), batch.length);
        assert.equal(answer.result.result_code, 'Succeeded');
        deleted += answer.result.number_of_deleted_records ?? 0;
      }
      const again = await client.removeSegmentMembers(ORG, LIST, 'seg_a', REMOVE, keyRows([id(0), 'C_NOBODY']), 2);
      notFound += again.result.number_of_records_not_found ?? 0;
      assert.equal(deleted, 12);
      assert.equal(notFound, 2);
      const expected = Array.from({ length: 30 }, (_, i) => id(i)).filter((key) => !leavers.includes(key));
      assert.deepEqual(members(sim, 'seg_a'), expected);
      assert.equal(records(sim).length, 30);
      assert.equal(
        sim.requestLog().filter((entry) => entry.route === 'deleteSegmentData' && entry.method === 'DELETE').length,
        4,
      );
    }));

  test('a List busy with another bulk operation (429, requests left) is waited for, as for loads', () =>
    withClient({ seed: seed(5) }, async (client, sim, http) => {
      sim.faults.add({
        route: 'deleteSegmentData',
        status: 429,
        times: 2,
        headers: { 'Content-Type': 'application/json', 'X-RateLimit-Remaining': '2400' },
        body: JSON.stringify({ result_code: 'Failed', message: 'Another bulk operation is running on this list' }),
      });
      const answer = await client.removeSegmentMembers(ORG, LIST, 'seg_a', REMOVE, keyRows([id(1)]), 1);
      assert.equal(answer.result.number_of_deleted_records, 1);
      assert.equal(http.rate_limited, 2);
      assert.equal(http.by_route.removeSegmentMembers, 3);
      assert.deepEqual(members(sim, 'seg_a'), [id(0), id(2), id(3), id(4)]);
    }));

  test('a refusal answered 200 with result_code ValidationFailed is not a success: nothing is removed', () =>
    withClient({ seed: seed(5), variants: { loadFailureStatus: 200 } }, async (client, sim) => {
      await assert.rejects(
        client.removeSegmentMembers(
          ORG,
          LIST,
          'seg_a',
          { ...REMOVE, keyFields: ['NO_SUCH_FIELD'], fields: ['NO_SUCH_FIELD'] },
          keyRows([id(1)]),
          1,
        ),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'SELLIGENT_REQUEST_REFUSED');
          assert.match(error.message, /answered 200/);
          return true;
        },
      );
      assert.equal(sim.requestLog().filter((entry) => entry.route === 'deleteSegmentData')[0]?.status, 200);
      assert.equal(members(sim, 'seg_a').length, 5);
    }));

  test('ServiceUnavailable in a 200 is retried like a 503', () =>
    withClient({ seed: seed(5), variants: { loadTransientInBody: true } }, async (client, sim) => {
      sim.faults.add({ route: 'deleteSegmentData', status: 503, times: 1 });
      const answer = await client.removeSegmentMembers(ORG, LIST, 'seg_a', REMOVE, keyRows([id(3)]), 1);
      assert.equal(answer.result.number_of_deleted_records, 1);
      assert.equal(sim.requestLog().filter((entry) => entry.route === 'deleteSegmentData').length, 2);
      assert.equal(members(sim, 'seg_a').length, 4);
    }));
});
