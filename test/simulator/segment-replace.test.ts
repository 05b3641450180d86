/**
 * What a Segment replace that never empties the Segment needs from the simulator (contract section 7):
 * member removal by keys in batches, the segment search paged in a stable order, and watermarks that
 * prove the Segment never fell below a count during a run.
 */

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { withSim, type Client } from './helpers.ts';

const CONTROL = { enableControlRoutes: true };
const KEY2 = 'keyFields=CUSTOMER_IDENTIFIER,AGE';

/** 30 contacts C00..C29 (AGE = n % 4, so AGE has many ties) and Segment vip holding C00..C19. */
async function seedContacts(c: Client): Promise<void> {
  const rows = Array.from({ length: 30 }, (_, n) => [`C${String(n).padStart(2, '0')}`, `c${n}@example.com`, n % 4]);
  assert.equal(
    (await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,EMAIL,AGE', rows)).status,
    200,
  );
  const members = rows.slice(0, 20).map((r) => [r[0]]);
  assert.equal(
    (await c.loadSegment('contacts', 'vip', 'keyFields=CUSTOMER_IDENTIFIER', [['CUSTOMER_IDENTIFIER'], ...members]))
      .status,
    200,
  );
}

const memberIds = (c: Client, segment = 'vip') =>
  c.sim.segmentMembers('my_org', 'contacts', segment).map((m) => String(m.CUSTOMER_IDENTIFIER));

const remove = (c: Client, rows: unknown[], query = `${KEY2}&fields=CUSTOMER_IDENTIFIER,AGE`, segment = 'vip') =>
  c.call('DELETE', `/lists/contacts/segments/${segment}/data?${query}`, rows);

async function watermark(c: Client, reset = false): Promise<{ min: number; current: number } | undefined> {
  const r = await fetch(`${c.sim.baseUrl}/__simulator/watermarks${reset ? '/reset' : ''}`, {
    method: reset ? 'POST' : 'GET',
  });
  assert.equal(r.status, 200);
  return ((await r.json()) as Record<string, Record<string, { min: number; current: number }>>).contacts?.vip;
}

describe('member removal by keys', () => {
  test('several key fields, in batches: each answer counts deleted and not-found keys; a key must match on every field', () =>
    withSim({}, async (c) => {
      await seedContacts(c);
      // C00 has AGE 0: (C00, 0) matches, (C01, 0) does not (C01 has AGE 1), C25 is no member, C99 no record.
      const first = await remove(c, [
        ['C00', 0],
        ['C01', 0],
        ['C25', 1],
        ['C99', 3],
        ['C02', 2],
      ]);
      assert.equal(first.status, 200);
      assert.deepEqual(first.json, {
        result_code: 'Succeeded',
        errors: null,
        number_of_deleted_records: 2,
        number_of_records_not_found: 3,
        invalid_records: [],
      });
      // The key fields in the other order, and a header row instead of `fields`.
      const second = await remove(
        c,
        [
          ['AGE', 'CUSTOMER_IDENTIFIER'],
          [1, 'C01'],
          [3, 'C03'],
          [1, 'C01'],
        ],
        'keyFields=AGE,CUSTOMER_IDENTIFIER',
      );
      assert.equal(second.json.number_of_deleted_records, 2);
      assert.equal(second.json.number_of_records_not_found, 1, 'a key repeated in one request is found once');
      assert.deepEqual(
        memberIds(c),
        Array.from({ length: 16 }, (_, i) => `C${String(i + 4).padStart(2, '0')}`),
      );
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 30, 'only memberships are removed');
      // A row without a value for one of the key fields is invalid, the others apply.
      const partial = await remove(c, [
        ['C04', null],
        ['C05', 1],
      ]);
      assert.equal(partial.json.result_code, 'PartiallySucceeded');
      assert.equal(partial.json.number_of_deleted_records, 1);
      assert.equal(partial.json.invalid_records[0].field_name, 'AGE');
      // Removal needs no unique key index on the key fields, even where loads require one.
      c.sim.configure({ requireBusinessKey: true });
      assert.equal((await remove(c, [['C06', 2]])).json.number_of_deleted_records, 1);
    }));

  test('it holds the List bulk lock: a load meanwhile gets the 429 of each V7 variant, and applies nothing', () =>
    withSim({ ...CONTROL, latencyMs: 1500 }, async (c) => {
      await seedContacts(c);
      const loadDuringRemoval = async (victim: string) => {
        const removal = remove(c, [[victim, Number(victim.slice(1)) % 4]]);
        // The removal is applied before its modelled latency; once it shows, the lock is held until it answers.
        for (let i = 0; i < 400 && memberIds(c).includes(victim); i++) await sleep(10);
        assert.ok(!memberIds(c).includes(victim), 'the removal was applied');
        const load = await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,EMAIL,AGE', [
          ['N1', 'n@example.com', 1],
        ]);
        assert.equal((await removal).json.number_of_deleted_records, 1);
        return load;
      };
      const envelope = await loadDuringRemoval('C10');
      assert.equal(envelope.status, 429);
      assert.equal(envelope.json.errors[0].error_code, 'ERR_BULK_OPERATION_IN_PROGRESS');
      assert.ok(Number(envelope.headers.get('x-ratelimit-remaining')) > 0);

      c.sim.setVariants({ listBusy429: 'no-headers' });
      const bare = await loadDuringRemoval('C11');
      assert.equal(bare.status, 429);
      assert.equal(bare.headers.get('x-ratelimit-remaining'), null);

      c.sim.setVariants({ listBusy429: 'quota-text' });
      const text = await loadDuringRemoval('C12');
      assert.equal(text.status, 429);
      assert.match(text.text, /^API calls quota exceeded!/);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 30, 'no refused load applied anything');
      // The lock is free again once the removal has answered.
      c.sim.configure({ latencyMs: 0 });
      assert.equal(
        (
          await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,EMAIL,AGE', [
            ['N1', 'n@example.com', 1],
          ])
        ).status,
        200,
      );
    }));

  test('fault rules: a faulted removal removes nothing (also as a 200 under V1), and afterCalls lets a batch through first', () =>
    withSim(CONTROL, async (c) => {
      await seedContacts(c);
      c.sim.faults.add({ route: 'deleteSegmentData', status: 500, afterCalls: 1, times: 1 });
      assert.equal((await remove(c, [['C00', 0]])).json.number_of_deleted_records, 1);
      const faulted = await remove(c, [['C01', 1]]);
      assert.equal(faulted.status, 500);
      assert.equal(faulted.json.result_code, 'InternalServerError');
      assert.ok(memberIds(c).includes('C01'));

      c.sim.setVariants({ loadTransientInBody: true });
      c.sim.faults.add({ route: 'deleteSegmentData', status: 503, times: 1 });
      const inBody = await remove(c, [['C01', 1]]);
      assert.equal(inBody.status, 200);
      assert.equal(inBody.json.result_code, 'ServiceUnavailable');
      assert.equal(inBody.json.number_of_deleted_records, 0);
      assert.ok(memberIds(c).includes('C01'));
      assert.equal((await remove(c, [['C01', 1]])).json.number_of_deleted_records, 1, 'the retry applies');
      assert.deepEqual(
        c.sim
          .requestLog()
          .filter((e) => e.route === 'deleteSegmentData')
          .map((e) => [e.status, e.fault ?? null]),
        [
          [200, null],
          [500, 'status 500'],
          [200, 'status 503'],
          [200, null],
        ],
      );
    }));
});

describe('segment search for the current members', () => {
  test('take/skip pages in a stable order_by (ties broken by record): every member exactly once, the same pages twice', () =>
    withSim({}, async (c) => {
      await seedContacts(c);
      const page = async (skip: number, direction: 'ASC' | 'DESC') => {
        const r = await c.call('POST', '/lists/contacts/segments/vip/data/search', {
          fields: ['CUSTOMER_IDENTIFIER', 'AGE'],
          order_by: 'AGE',
          order_by_direction: direction,
          skip,
          take: 6,
        });
        assert.equal(r.status, 200);
        assert.deepEqual(r.json.fields, ['CUSTOMER_IDENTIFIER', 'AGE']);
        return r.json.data as Array<[string, number]>;
      };
      const all = async (direction: 'ASC' | 'DESC') => {
        const rows: Array<[string, number]> = [];
        const sizes: number[] = [];
        for (let skip = 0; ; skip += 6) {
          const p = await page(skip, direction);
          sizes.push(p.length);
          rows.push(...p);
          if (p.length < 6) break;
        }
        return { rows, sizes };
      };
      const asc = await all('ASC');
      assert.deepEqual(asc.sizes, [6, 6, 6, 2]);
      assert.deepEqual(asc.rows.map((r) => r[0]).sort(), memberIds(c));
      assert.equal(new Set(asc.rows.map((r) => r[0])).size, 20);
      const ages = asc.rows.map((r) => r[1]);
      assert.deepEqual(
        ages,
        [...ages].sort((a, b) => a - b),
      );
      // Within one AGE, the record order: C00, C04, C08, ... for AGE 0.
      assert.deepEqual(
        asc.rows.slice(0, 5).map((r) => r[0]),
        ['C00', 'C04', 'C08', 'C12', 'C16'],
      );
      assert.deepEqual(await all('ASC'), asc, 'paging again gives the same pages');
      const desc = await all('DESC');
      assert.deepEqual(desc.rows.map((r) => r[0]).sort(), memberIds(c));
      assert.deepEqual(
        desc.rows.slice(0, 5).map((r) => r[0]),
        ['C03', 'C07', 'C11', 'C15', 'C19'],
      );
      // Past the end: an empty page.
      assert.deepEqual(await page(60, 'ASC'), []);
    }));

  test('a write between two pages shows in the next page: members removed and added, a record changed, a List search', () =>
    withSim({}, async (c) => {
      await seedContacts(c);
      const search = async (path: string, orderBy: string, skip: number, take: number) => {
        const r = await c.call('POST', path, {
          fields: ['CUSTOMER_IDENTIFIER'],
          order_by: orderBy,
          skip,
          take,
        });
        assert.equal(r.status, 200);
        return (r.json.data as Array<[string]>).map((row) => row[0]);
      };
      const members = (skip: number, take = 5, orderBy = 'CUSTOMER_IDENTIFIER') =>
        search('/lists/contacts/segments/vip/data/search', orderBy, skip, take);
      assert.deepEqual(await members(0), ['C00', 'C01', 'C02', 'C03', 'C04']);
      assert.equal(
        (await remove(c, [['C00']], 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER')).json
          .number_of_deleted_records,
        1,
      );
      assert.deepEqual(await members(0), ['C01', 'C02', 'C03', 'C04', 'C05']);
      assert.equal(
        (await c.loadSegment('contacts', 'vip', 'keyFields=CUSTOMER_IDENTIFIER', [['CUSTOMER_IDENTIFIER'], ['C25']]))
          .status,
        200,
      );
      assert.deepEqual(await members(15), ['C16', 'C17', 'C18', 'C19', 'C25']);
      // By AGE (C01 has 1): C01 moves to the end once its AGE is 9.
      assert.equal((await members(0, 30, 'AGE')).at(-1), 'C19');
      assert.equal(
        (await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,AGE', [['C01', 9]])).status,
        200,
      );
      assert.equal((await members(0, 30, 'AGE')).at(-1), 'C01');
      const records = (skip: number) => search('/lists/contacts/data/search', 'CUSTOMER_IDENTIFIER', skip, 5);
      assert.deepEqual(await records(25), ['C25', 'C26', 'C27', 'C28', 'C29']);
      assert.equal(
        (await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,AGE', [['C30', 0]])).status,
        200,
      );
      assert.deepEqual(await records(26), ['C26', 'C27', 'C28', 'C29', 'C30']);
    }));
});

describe('watermarks over a replace', () => {
  test('load then remove keeps the low point at min(old, new); clear then load records 0; a reset starts a new run', () =>
    withSim(CONTROL, async (c) => {
      await seedContacts(c);
      const keep = (from: number, to: number) =>
        Array.from({ length: to - from }, (_, i) => [`C${String(from + i).padStart(2, '0')}`]);
      assert.deepEqual(await watermark(c, true), { min: 20, current: 20 });
      // New membership C10..C29 (20): add C20..C29, then remove C00..C09 in two batches.
      await c.loadSegment('contacts', 'vip', 'keyFields=CUSTOMER_IDENTIFIER', [
        ['CUSTOMER_IDENTIFIER'],
        ...keep(20, 30),
      ]);
      assert.deepEqual(await watermark(c), { min: 20, current: 30 });
      await remove(c, [['CUSTOMER_IDENTIFIER'], ...keep(0, 5)], 'keyFields=CUSTOMER_IDENTIFIER');
      assert.deepEqual(await watermark(c), { min: 20, current: 25 });
      await remove(c, [['CUSTOMER_IDENTIFIER'], ...keep(5, 10)], 'keyFields=CUSTOMER_IDENTIFIER');
      assert.deepEqual(await watermark(c), { min: 20, current: 20 });

      // Shrinking 20 -> 5 the other way round: remove first, then load; the low point is below min(old, new).
      assert.deepEqual(await watermark(c, true), { min: 20, current: 20 });
      await remove(c, [['CUSTOMER_IDENTIFIER'], ...keep(10, 28)], 'keyFields=CUSTOMER_IDENTIFIER');
      await c.loadSegment('contacts', 'vip', 'keyFields=CUSTOMER_IDENTIFIER', [['CUSTOMER_IDENTIFIER'], ...keep(0, 3)]);
      assert.deepEqual(await watermark(c), { min: 2, current: 5 });

      // Clear then load: the Segment was empty in between, whatever it holds at the end.
      await watermark(c, true);
      assert.equal((await c.call('DELETE', '/lists/contacts/segments/vip/data/clear')).status, 200);
      await c.loadSegment('contacts', 'vip', 'keyFields=CUSTOMER_IDENTIFIER', [
        ['CUSTOMER_IDENTIFIER'],
        ...keep(0, 30),
      ]);
      assert.deepEqual(await watermark(c), { min: 0, current: 30 });

      // A Segment created during a run starts from 0 members.
      await watermark(c, true);
      assert.equal(
        (await c.call('POST', '/lists/contacts/segments/static', { api_name: 'fresh', name: 'Fresh' })).status,
        200,
      );
      await c.loadSegment('contacts', 'fresh', 'keyFields=CUSTOMER_IDENTIFIER', [
        ['CUSTOMER_IDENTIFIER'],
        ...keep(0, 3),
      ]);
      assert.deepEqual(c.sim.watermarks().contacts?.fresh, { min: 0, current: 3 });
      // A refused request changes nothing, so it leaves the low point alone.
      c.sim.faults.add({ route: 'clearSegment', status: 503, times: 1 });
      assert.equal((await c.call('DELETE', '/lists/contacts/segments/vip/data/clear')).status, 503);
      assert.deepEqual(await watermark(c), { min: 30, current: 30 });
    }));
});
