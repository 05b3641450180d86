import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AUTH, FIELDS3, KEY, withSim } from './helpers.ts';

describe('fault injection', () => {
  test('status for the next N matching calls, then normal again; other routes unaffected', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({ route: 'getList', status: 503, times: 2 });
      assert.equal((await c.call('GET', '/lists/contacts/fields')).status, 200);
      const a = await c.call('GET', '/lists/contacts');
      assert.equal(a.status, 503);
      assert.equal(a.json.result_code, 'ServiceUnavailable');
      assert.equal(c.sim.faults.list().length, 1);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 503);
      assert.equal(c.sim.faults.list().length, 0); // spent rules are removed
      assert.equal((await c.call('GET', '/lists/contacts')).status, 200);
      const log = c.sim.requestLog().filter((e) => e.route === 'getList');
      assert.deepEqual(
        log.map((e) => [e.status, e.fault ?? null]),
        [
          [503, 'status 503'],
          [503, 'status 503'],
          [200, null],
        ],
      );
    }));

  test('afterCalls: a 500 on the 3rd load; the faulted request changes nothing', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({ route: 'loadList', status: 500, afterCalls: 2, times: 1 });
      const statuses: number[] = [];
      for (let i = 1; i <= 4; i++)
        statuses.push((await c.load('contacts', `${KEY}&${FIELDS3}`, [[`C${i}`, 'x', i]])).status);
      assert.deepEqual(statuses, [200, 200, 500, 200]);
      assert.deepEqual(
        c.sim.listRecords('my_org', 'contacts').map((r) => r.CUSTOMER_IDENTIFIER),
        ['C1', 'C2', 'C4'],
      );
    }));

  test("every status kind, '*' route, custom body and headers", () =>
    withSim({}, async (c) => {
      for (const status of [408, 413, 429, 500, 502, 503, 504, 401] as const) {
        c.sim.faults.add({ route: '*', status, times: 1 });
        const r = await c.call('GET', '');
        assert.equal(r.status, status);
      }
      c.sim.faults.add({
        status: 502,
        times: 1,
        body: 'upstream says no',
        headers: { 'Retry-After': '3', 'X-Proxy': 'edge' },
      });
      const r = await c.call('GET', '/lists/contacts/records');
      assert.equal(r.status, 502);
      assert.equal(r.text, 'upstream says no');
      assert.equal(r.headers.get('retry-after'), '3');
      assert.equal(r.headers.get('x-proxy'), 'edge');
    }));

  test('an injected 429 looks like the real one by default; headers: {} removes the rate-limit headers', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({ route: 'loadSegment', status: 429, times: 1 });
      const r = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.equal(r.status, 429);
      assert.equal(r.text, 'API calls quota exceeded! The maximum allowed is 2500 per minute');
      assert.equal(r.headers.get('x-ratelimit-limit'), '2500, 2500;w=60');
      assert.equal(r.headers.get('x-ratelimit-remaining'), '0');
      assert.match(r.headers.get('x-ratelimit-reset') as string, /^\d+$/);
      c.sim.faults.add({ route: 'loadSegment', status: 429, times: 1, headers: {} });
      const bare = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.equal(bare.status, 429);
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'])
        assert.equal(bare.headers.get(h), null, h);
    }));

  test('probability: 1 always, 0 never, 0.5 about half; errorRate sets and removes random 5xx', () =>
    withSim({ rateLimit: false }, async (c) => {
      c.sim.faults.add({ route: 'getOrganization', status: 500, probability: 0 });
      assert.equal((await c.call('GET', '')).status, 200);
      c.sim.faults.clear();
      c.sim.faults.add({ route: 'getOrganization', status: 500, probability: 1, times: 3 });
      for (let i = 0; i < 3; i++) assert.equal((await c.call('GET', '')).status, 500);
      assert.equal((await c.call('GET', '')).status, 200);

      c.sim.faults.errorRate(1, [502]);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 502);
      c.sim.faults.errorRate(0.5);
      const seen = new Map<number, number>();
      for (let i = 0; i < 100; i++) {
        const s = (await c.call('GET', '')).status;
        seen.set(s, (seen.get(s) ?? 0) + 1);
      }
      const failures = 100 - (seen.get(200) ?? 0);
      assert.ok(failures > 20 && failures < 80, `failures ${failures}`); // p(outside) < 1e-8
      for (const s of seen.keys()) assert.ok([200, 500, 502, 503, 504].includes(s), String(s));
      c.sim.faults.errorRate(0);
      assert.deepEqual(c.sim.faults.list(), []);
      assert.equal((await c.call('GET', '')).status, 200);
    }));

  test('dropped connection: with a status nothing is processed; without one the request is processed, then dropped', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({ route: 'loadList', status: 503, dropConnection: true, times: 1 });
      await assert.rejects(c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]));
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      c.sim.faults.add({ route: 'loadList', dropConnection: true, times: 1 });
      await assert.rejects(c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]));
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 1); // the work was done
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).json.number_of_updated_records, 1);
      const dropped = c.sim.requestLog().filter((e) => e.fault === 'drop');
      assert.equal(dropped.length, 1);
    }));

  test('slow response beyond the client time-out (processed), and a delayed status', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({ route: 'loadList', delayMs: 400, times: 1 });
      const t = performance.now();
      await assert.rejects(
        fetch(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}`), {
          method: 'POST',
          headers: { 'X-ApiKey': AUTH, 'Content-Type': 'application/json' },
          body: JSON.stringify([['C1', 'a', 1]]),
          signal: AbortSignal.timeout(100),
        }),
        (e: Error) => e.name === 'TimeoutError',
      );
      assert.ok(performance.now() - t < 350);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 1);
      c.sim.faults.add({ route: 'getList', status: 504, delayMs: 150, times: 1 });
      const t2 = performance.now();
      assert.equal((await c.call('GET', '/lists/contacts')).status, 504);
      assert.ok(performance.now() - t2 >= 140);
    }));

  test('latency: fixed and jittered, at start and at run time', () =>
    withSim({ latencyMs: 120 }, async (c) => {
      let t = performance.now();
      await c.call('GET', '');
      assert.ok(performance.now() - t >= 115, 'fixed latency');
      c.sim.configure({ latencyMs: 0, latencyJitterMs: 60 });
      const durations: number[] = [];
      for (let i = 0; i < 8; i++) {
        t = performance.now();
        await c.call('GET', '');
        durations.push(performance.now() - t);
      }
      assert.ok(Math.max(...durations) < 500);
      const logged = c.sim
        .requestLog()
        .slice(-8)
        .map((e) => e.durationMs);
      assert.ok(Math.max(...logged) - Math.min(...logged) > 1, `jitter ${logged.join(',')}`);
      c.sim.configure({ latencyJitterMs: 0 });
    }));

  test('a 2xx status answers the given body without processing the request', () =>
    withSim({}, async (c) => {
      c.sim.faults.add({
        route: 'getOrganization',
        status: 200 as 500,
        times: 1,
        headers: { 'Content-Type': 'application/json' },
        body: '{"result_code":"Failed"}',
      });
      const r = await c.call('GET', '');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { result_code: 'Failed' });
    }));

  test('invalid rules are refused', () =>
    withSim({}, async (c) => {
      assert.throws(() => c.sim.faults.add({ route: 'nope', status: 500 }));
      assert.throws(() => c.sim.faults.add({ status: 199 as 500 }));
      assert.throws(() => c.sim.faults.add({ status: 600 as 500 }));
      assert.throws(() => c.sim.faults.add({ route: 'getList' }));
      assert.throws(() => c.sim.faults.add({ status: 500, probability: 2 }));
    }));
});

describe('control routes', () => {
  test('are off by default (404, nothing changes)', () =>
    withSim({}, async (c) => {
      for (const [method, path] of [
        ['GET', 'state'],
        ['GET', 'requests'],
        ['POST', 'reset'],
        ['POST', 'faults'],
        ['POST', 'config'],
      ]) {
        const r = await fetch(`${c.sim.baseUrl}/__simulator/${path}`, {
          method,
          headers: { 'Content-Type': 'application/json' },
          body: method === 'POST' ? '{"status":500}' : undefined,
        });
        assert.equal(r.status, 404, path);
        await r.text();
      }
      assert.deepEqual(c.sim.faults.list(), []);
    }));

  test('when enabled: state, seed, requests, faults, error rate, config, reset', () =>
    withSim({ enableControlRoutes: true }, async (c) => {
      const ctl = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(`${c.sim.baseUrl}/__simulator/${path}`, {
          method,
          headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
        // The answer is asserted field by field; the assertions are its type check.
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        return { status: r.status, json: (await r.json()) as any };
      };
      await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      const state = await ctl('GET', 'state');
      assert.equal(state.status, 200);
      assert.deepEqual(state.json.lists[0].records[0], {
        ID: 1,
        MAIL: null,
        NAME: null,
        OPTOUT: null,
        CUSTOMER_IDENTIFIER: 'C1',
        EMAIL: 'a',
        AGE: 1,
      });

      const reqs = await ctl('GET', 'requests?route=loadList');
      assert.equal(reqs.json.requests.length, 1);
      assert.equal(reqs.json.requests[0].status, 200);
      assert.equal((await ctl('DELETE', 'requests')).status, 200);
      assert.equal(c.sim.requestLog().length, 0);

      assert.equal((await ctl('POST', 'faults', { route: 'getList', status: 503, times: 1 })).status, 200);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 503);
      assert.equal(
        (
          await ctl('POST', 'faults', [
            { route: 'getList', status: 500 },
            { route: 'getFields', status: 502 },
          ])
        ).json.faults.length,
        2,
      );
      assert.equal((await ctl('GET', 'faults')).json.faults.length, 2);
      assert.equal((await ctl('DELETE', 'faults')).status, 200);
      assert.equal((await ctl('POST', 'faults', { route: 'bogus', status: 503 })).status, 400);
      assert.equal((await ctl('POST', 'faults/error-rate', { probability: 1, statuses: [504] })).status, 200);
      assert.equal((await c.call('GET', '')).status, 504);
      await ctl('POST', 'faults/error-rate', { probability: 0 });

      const cfg = await ctl('POST', 'config', {
        segmentSemantics: 'upsert',
        requireBusinessKey: true,
        rateLimit: { limit: 100, windowMs: 1000 },
      });
      assert.equal(cfg.status, 200);
      assert.equal(cfg.json.segmentSemantics, 'upsert');
      assert.equal((await ctl('POST', 'config', { segmentSemantics: 'merge' })).status, 400);
      assert.equal((await ctl('POST', 'config', { unknownThing: 1 })).status, 400);
      assert.equal((await ctl('GET', 'config')).json.requireBusinessKey, true);

      assert.equal(
        (
          await ctl('POST', 'seed', {
            lists: [
              { api_name: 'seeded', type: 'Datalist', fields: [{ name: 'K', data_type: 'Long' }], records: [{ K: 1 }] },
            ],
          })
        ).status,
        200,
      );
      assert.equal(c.sim.listRecords('my_org', 'seeded').length, 1);
      assert.equal(
        (await ctl('POST', 'seed', { lists: [{ api_name: 'bad', fields: [{ name: 'K', data_type: 'Nope' }] }] }))
          .status,
        400,
      );

      assert.equal((await ctl('POST', 'reset')).status, 200);
      assert.equal(c.sim.hasList('my_org', 'seeded'), false);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      assert.equal((await ctl('GET', 'nothing')).status, 404);
      // No statePath: save is refused.
      assert.equal((await ctl('POST', 'save')).status, 400);
    }));
});
