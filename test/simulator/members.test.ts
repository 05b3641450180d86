import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { FIELDS3, KEY, withSim, type Client } from './helpers.ts';

const remove = (c: Client, segment: string, query: string, rows: unknown[]) =>
  c.call('DELETE', `/lists/contacts/segments/${segment}/data?${query}`, rows);

async function watermarks(c: Client, reset = false) {
  const r = await fetch(`${c.sim.baseUrl}/__simulator/watermarks${reset ? '/reset' : ''}`, {
    method: reset ? 'POST' : 'GET',
  });
  assert.equal(r.status, 200);
  return (await r.json()) as Record<string, Record<string, { min: number; current: number }>>;
}

describe('removing Segment members (contract section 7)', () => {
  test('DELETE .../segments/{segment}/data removes the given members; not-members count as not found; list records stay', () =>
    withSim({}, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
        ['C3', 'c', 3],
      ]);
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], ['C2'], ['C3']]);
      const r = await remove(c, 'vip', `${KEY}&fields=CUSTOMER_IDENTIFIER`, [['C1'], ['C3'], ['C9'], ['C1']]);
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, {
        result_code: 'Succeeded',
        errors: null,
        number_of_deleted_records: 2,
        number_of_records_not_found: 2,
        invalid_records: [],
      });
      assert.deepEqual(
        c.sim.segmentMembers('my_org', 'contacts', 'vip').map((m) => m.CUSTOMER_IDENTIFIER),
        ['C2'],
      );
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 3);
      // Header row instead of `fields`; an invalid row is listed and the rest applies.
      const h = await remove(c, 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C2'], [null]]);
      assert.equal(h.json.result_code, 'PartiallySucceeded');
      assert.equal(h.json.number_of_deleted_records, 1);
      assert.equal(h.json.invalid_records[0].record_index, 1);
      assert.equal(c.sim.segmentMembers('my_org', 'contacts', 'vip').length, 0);
      // StopOnError removes nothing when a row is invalid.
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      const stop = await remove(c, 'vip', `${KEY}&errorHandling=StopOnError`, [['CUSTOMER_IDENTIFIER'], ['C1'], [5]]);
      assert.equal(stop.json.result_code, 'Failed');
      assert.equal(c.sim.segmentMembers('my_org', 'contacts', 'vip').length, 1);
      // Request-level refusals.
      assert.equal(
        (await remove(c, 'vip', 'fields=CUSTOMER_IDENTIFIER', [['C1']])).json.result_code,
        'ValidationFailed',
      );
      assert.equal((await remove(c, 'ghost', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']])).status, 404);
      assert.equal((await remove(c, 'dyn', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']])).status, 400);
      assert.equal((await c.call('POST', '/lists/contacts/segments/vip/data', [])).status, 405);
      assert.equal(c.sim.requestLog().at(-2)!.route, 'deleteSegmentData');
    }));

  test('it takes the List bulk lock like a load, and fault rules and permissions can name it', () =>
    withSim(
      {
        latencyMs: 300,
        credentials: [
          { key: 'k', secret: 's' },
          { key: 'ro', secret: 's', permissions: ['loadSegment'] },
        ],
      },
      async (c) => {
        const headers = { 'X-ApiKey': 'k:s' };
        await c.call('POST', `/lists/contacts/data/load?${KEY}&${FIELDS3}`, [['C1', 'a', 1]], { headers });
        const first = c.call('DELETE', `/lists/contacts/segments/vip/data?${KEY}`, [['CUSTOMER_IDENTIFIER'], ['C1']], {
          headers,
        });
        await sleep(100);
        const busy = await c.call('POST', `/lists/contacts/data/load?${KEY}&${FIELDS3}`, [['C2', 'b', 2]], { headers });
        assert.equal(busy.status, 429);
        assert.equal((await first).status, 200);
        assert.equal(
          (
            await c.call('DELETE', `/lists/contacts/segments/vip/data?${KEY}`, [['CUSTOMER_IDENTIFIER'], ['C1']], {
              headers: { 'X-ApiKey': 'ro:s' },
            })
          ).status,
          401,
        );
        c.sim.faults.add({ route: 'deleteSegmentData', status: 503, times: 1 });
        assert.equal(
          (
            await c.call('DELETE', `/lists/contacts/segments/vip/data?${KEY}`, [['CUSTOMER_IDENTIFIER'], ['C1']], {
              headers,
            })
          ).status,
          503,
        );
      },
    ));
});

describe('GET /Portal/Api/status', () => {
  test('200 without credentials; a fault rule can name it; other methods are 405', () =>
    withSim({}, async (c) => {
      const r = await fetch(`${c.sim.baseUrl}/Portal/Api/status`);
      assert.equal(r.status, 200);
      assert.equal((await fetch(`${c.sim.baseUrl}/portal/api/STATUS`)).status, 200);
      assert.equal((await fetch(`${c.sim.baseUrl}/Portal/Api/status`, { method: 'POST' })).status, 405);
      c.sim.faults.add({ route: 'status', status: 503, times: 1 });
      assert.equal((await fetch(`${c.sim.baseUrl}/Portal/Api/status`)).status, 503);
      assert.equal(c.sim.requestLog().at(-1)!.route, 'status');
    }));
});

describe('Segment watermarks', () => {
  test('the fewest members of each Segment between two marks, over HTTP and on the handle', () =>
    withSim({ enableControlRoutes: true }, async (c) => {
      await c.load('contacts', `${KEY}&${FIELDS3}`, [
        ['C1', 'a', 1],
        ['C2', 'b', 2],
        ['C3', 'c', 3],
      ]);
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], ['C2']]);
      assert.deepEqual((await watermarks(c, true)).contacts!.vip, { min: 2, current: 2 });
      // Growing never lowers the mark; removing one member does, and so does a clear followed by a reload.
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C3']]);
      assert.deepEqual((await watermarks(c)).contacts!.vip, { min: 2, current: 3 });
      await remove(c, 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C3']]);
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C3']]);
      assert.deepEqual(c.sim.watermarks().contacts!.vip, { min: 2, current: 3 });
      c.sim.resetWatermarks();
      await remove(c, 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C3'], ['C2']]);
      assert.deepEqual(c.sim.watermarks().contacts!.vip, { min: 1, current: 1 });
      await c.call('DELETE', '/lists/contacts/segments/vip/data/clear');
      await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], ['C2'], ['C3']]);
      const w = await watermarks(c);
      assert.deepEqual(w.contacts!.vip, { min: 0, current: 3 }, 'the Segment was emptied in between');
      assert.deepEqual(w.contacts!.dyn, { min: 0, current: 0 });
      assert.deepEqual((await watermarks(c, true)).contacts!.vip, { min: 3, current: 3 });
    }));
});
