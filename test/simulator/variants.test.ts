import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_VARIANTS, startSimulator } from '../../src/simulator/index.ts';
import { FIELDS3, KEY, withSim, type Client } from './helpers.ts';

/** Sets variants over the control route, as a test of another process would. */
async function setVariants(c: Client, patch: Record<string, unknown>, method = 'PUT') {
  const r = await fetch(`${c.sim.baseUrl}/__simulator/variants`, {
    method,
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(patch),
  });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

const CONTROL = { enableControlRoutes: true };

describe('variant switches (contract section 6)', () => {
  test('defaults are the first variant of each row; GET/PUT/POST /__simulator/variants read and change them, checked', () =>
    withSim(CONTROL, async (c) => {
      const got = await fetch(`${c.sim.baseUrl}/__simulator/variants`);
      assert.deepEqual(await got.json(), {
        loadFailureStatus: 400,
        loadTransientInBody: false,
        failedRowDetail: 'listed',
        notFoundStatus: 404,
        segmentsPageSize: null,
        businessKey: 'ok',
        keyIndexGuard: 'none',
        listBusy429: 'envelope',
        quotaWindow: 'token-bucket',
        serverTimeoutMs: null,
        staticSegmentType: 'Static',
        stringValues: 'refuse',
        organizationGet: 'allowed',
      });
      assert.deepEqual(c.sim.variants(), DEFAULT_VARIANTS);
      const put = await setVariants(c, { notFoundStatus: 400 });
      assert.equal(put.status, 200);
      assert.equal(put.json.notFoundStatus, 400);
      assert.equal(put.json.businessKey, 'ok');
      assert.equal((await setVariants(c, { segmentsPageSize: 5 }, 'POST')).json.segmentsPageSize, 5);
      assert.equal(c.sim.variants().notFoundStatus, 400);
      for (const bad of [
        { notFoundStatus: 401 },
        { bogus: 1 },
        { segmentsPageSize: 0 },
        { businessKey: 'max4' },
        { serverTimeoutMs: -1 },
      ]) {
        const r = await setVariants(c, bad);
        assert.equal(r.status, 400, JSON.stringify(bad));
        assert.match(String(r.json.error), /variant/);
      }
      assert.equal(c.sim.variants().segmentsPageSize, 5);
      // The config route takes them too.
      const cfg = await fetch(`${c.sim.baseUrl}/__simulator/config`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: '{"variants":{"organizationGet":401}}',
      });
      assert.equal(((await cfg.json()) as { variants: { organizationGet: number } }).variants.organizationGet, 401);
    }));

  test('start-up options are checked like the others', async () => {
    await assert.rejects(
      startSimulator({ port: 0, variants: { listBusy429: 'text' as never } }),
      /variants\.listBusy429 must be one of/,
    );
    await assert.rejects(startSimulator({ port: 0, variants: { nope: 1 } as never }), /unknown variant nope/);
    const sim = await startSimulator({ port: 0, variants: { staticSegmentType: 'External' } });
    try {
      assert.equal(sim.variants().staticSegmentType, 'External');
      assert.equal(sim.variants().notFoundStatus, 404);
    } finally {
      await sim.close();
    }
  });

  test('V3 notFoundStatus: a missing organization, List or Segment is 404 NotFound, or 400 NotFound', () =>
    withSim(CONTROL, async (c) => {
      const probes = async () => [
        await c.call('GET', '', undefined, { org: 'ghost_org' }),
        await c.call('GET', '/lists/ghost'),
        await c.call('GET', '/lists/contacts/segments/ghost'),
      ];
      for (const r of await probes()) {
        assert.equal(r.status, 404);
        assert.equal(r.json.result_code, 'NotFound');
      }
      await setVariants(c, { notFoundStatus: 400 });
      for (const r of await probes()) {
        assert.equal(r.status, 400);
        assert.equal(r.json.result_code, 'NotFound');
      }
      // A route that does not exist is still 404; an existing object is still 200.
      assert.equal((await c.call('GET', '/lists/contacts/nothing')).status, 404);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 200);
    }));

  test('V4 segmentsPageSize: one answer by default; paged with skip/take, take defaulting to and capped at the page size', () =>
    withSim(CONTROL, async (c) => {
      c.sim.seed({
        lists: [{ api_name: 'many', segments: Array.from({ length: 7 }, (_, i) => ({ api_name: `s${i}` })) }],
      });
      const all = await c.call('GET', '/lists/many/segments?skip=2&take=2');
      assert.equal(all.status, 200);
      assert.equal(all.json.segments.length, 7, 'skip/take are ignored without a page size');
      assert.equal(all.json.segment_count, 7);

      await setVariants(c, { segmentsPageSize: 3 });
      const first = await c.call('GET', '/lists/many/segments');
      assert.deepEqual(
        first.json.segments.map((s: { api_name: string }) => s.api_name),
        ['s0', 's1', 's2'],
      );
      assert.equal(first.json.segment_count, 7);
      const page = await c.call('GET', '/lists/many/segments?skip=2&take=2');
      assert.deepEqual(
        page.json.segments.map((s: { api_name: string }) => s.api_name),
        ['s2', 's3'],
      );
      const capped = await c.call('GET', '/lists/many/segments?skip=5&take=1000');
      assert.deepEqual(
        capped.json.segments.map((s: { api_name: string }) => s.api_name),
        ['s5', 's6'],
      );
      assert.equal(
        (await c.call('GET', '/lists/many/segments?skip=3&take=1000')).json.segments.length,
        3,
        'take is capped at the page size',
      );
      const past = await c.call('GET', '/lists/many/segments?skip=7&take=3');
      assert.equal(past.status, 200);
      assert.deepEqual(past.json.segments, []);
      assert.equal(past.json.segment_count, 7);
      assert.equal((await c.call('GET', '/lists/many/segments?take=0')).status, 400);
      assert.equal((await c.call('GET', '/lists/many/segments?skip=x')).json.result_code, 'ValidationFailed');
    }));

  test('V5 businessKey: 200 by default (any number of fields); 404 or 405 when not rolled out; max3 refuses 4 fields', () =>
    withSim(CONTROL, async (c) => {
      await c.call('POST', '/lists/contacts/fields', { fields: [{ name: 'K4', data_type: 'Long' }] });
      const four = { fields: ['CUSTOMER_IDENTIFIER', 'EMAIL', 'AGE', 'K4'] };
      assert.equal((await c.call('PUT', '/lists/contacts/businesskey', four)).status, 200);
      await setVariants(c, { businessKey: 404 });
      const r404 = await c.call('PUT', '/lists/contacts/businesskey', { fields: ['CUSTOMER_IDENTIFIER'] });
      assert.equal(r404.status, 404);
      assert.equal(c.sim.businessKey('my_org', 'contacts')?.length, 4, 'nothing changed');
      await setVariants(c, { businessKey: 405 });
      assert.equal(
        (await c.call('PUT', '/lists/contacts/businesskey', { fields: ['CUSTOMER_IDENTIFIER'] })).status,
        405,
      );
      await setVariants(c, { businessKey: 'max3' });
      const refused = await c.call('PUT', '/lists/contacts/businesskey', four);
      assert.equal(refused.status, 400);
      assert.equal(refused.json.result_code, 'ValidationFailed');
      assert.match(refused.json.message, /1 to 3 fields/);
      const three = await c.call('PUT', '/lists/contacts/businesskey', {
        fields: ['CUSTOMER_IDENTIFIER', 'EMAIL', 'AGE'],
      });
      assert.equal(three.status, 200);
      assert.deepEqual(c.sim.businessKey('my_org', 'contacts'), ['CUSTOMER_IDENTIFIER', 'EMAIL', 'AGE']);
    }));

  test('V7 listBusy429: envelope with X-RateLimit-* (Remaining > 0), or no rate-limit headers, or the quota text', () =>
    withSim({ ...CONTROL, latencyMs: 400 }, async (c) => {
      const busy = async () => {
        const first = c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
        await sleep(100);
        const second = await c.load('contacts', `${KEY}&${FIELDS3}`, [['C2', 'b', 2]]);
        assert.equal((await first).status, 200);
        assert.equal(second.status, 429);
        return second;
      };
      const env = await busy();
      assert.equal(env.json.result_code, 'Failed');
      assert.ok(Number(env.headers.get('x-ratelimit-remaining')) > 0);
      assert.ok(env.headers.get('x-ratelimit-reset'));

      await setVariants(c, { listBusy429: 'no-headers' });
      const bare = await busy();
      assert.equal(bare.json.result_code, 'Failed');
      for (const h of ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'])
        assert.equal(bare.headers.get(h), null, h);

      await setVariants(c, { listBusy429: 'quota-text' });
      const text = await busy();
      assert.equal(text.text, 'API calls quota exceeded! The maximum allowed is 2500 per minute');
      assert.match(String(text.headers.get('content-type')), /^text\/plain/);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 1, 'the refused loads applied nothing');
    }));

  test('V10 staticSegmentType: a Segment created by POST .../segments/static reports Static, External or Unknown; loads still work', () =>
    withSim(CONTROL, async (c) => {
      assert.equal(
        (await c.call('POST', '/lists/contacts/segments/static', { api_name: 'fresh', name: 'Fresh' })).status,
        200,
      );
      assert.equal((await c.call('GET', '/lists/contacts/segments/fresh')).json.type, 'Static');
      await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      for (const type of ['External', 'Unknown']) {
        await setVariants(c, { staticSegmentType: type });
        assert.equal((await c.call('GET', '/lists/contacts/segments/fresh')).json.type, type);
        const listed = (await c.call('GET', '/lists/contacts/segments')).json.segments;
        assert.equal(listed.find((s: { api_name: string }) => s.api_name === 'fresh').segment_type, type);
        assert.equal(listed.find((s: { api_name: string }) => s.api_name === 'dyn').segment_type, 'Dynamic');
        const load = await c.loadSegment('contacts', 'fresh', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
        assert.equal(load.status, 200);
        assert.equal(load.json.result_code, 'Succeeded');
      }
      assert.equal(c.sim.segmentMembers('my_org', 'contacts', 'fresh').length, 1);
      assert.equal(
        (await c.loadSegment('contacts', 'dyn', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']])).status,
        400,
        'a dynamic Segment stays closed',
      );
    }));

  test('V12 organizationGet: allowed, or 401 while the List routes still answer', () =>
    withSim(CONTROL, async (c) => {
      assert.equal((await c.call('GET', '')).status, 200);
      await setVariants(c, { organizationGet: 401 });
      assert.equal((await c.call('GET', '')).status, 401);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 200);
      assert.equal((await c.call('GET', '', undefined, { headers: { 'X-ApiKey': 'wrong:creds' } })).status, 401);
    }));
});

describe('variant switches: load answers and the latency model', () => {
  test('V1 loadFailureStatus: request-level load failures answer 400/404 by default, or 200 with the same envelope', () =>
    withSim(CONTROL, async (c) => {
      const failures = async () => [
        await c.load('contacts', `${KEY}&fields=CUSTOMER_IDENTIFIER,NOPE`, [['C1', 'x']]),
        await c.load('ghost', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]),
        await c.loadSegment('contacts', 'ghost', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]),
        await c.load('contacts', 'fields=CUSTOMER_IDENTIFIER', [['C1']]),
      ];
      assert.deepEqual(
        (await failures()).map((r) => [r.status, r.json.result_code]),
        [
          [400, 'ValidationFailed'],
          [404, 'NotFound'],
          [404, 'NotFound'],
          [400, 'ValidationFailed'],
        ],
      );
      await setVariants(c, { loadFailureStatus: 200 });
      const in200 = await failures();
      assert.deepEqual(
        in200.map((r) => [r.status, r.json.result_code]),
        [
          [200, 'ValidationFailed'],
          [200, 'NotFound'],
          [200, 'NotFound'],
          [200, 'ValidationFailed'],
        ],
      );
      for (const r of in200) {
        assert.equal(r.json.number_of_inserted_records, 0);
        assert.ok(Array.isArray(r.json.errors) && r.json.errors.length > 0);
      }
      // StopOnError answers 200 Failed in both variants; other routes keep their status.
      const stop = await c.load('contacts', `${KEY}&${FIELDS3}&errorHandling=StopOnError`, [
        ['C1', 'a', 1],
        ['C2', 'b', 'x'],
      ]);
      assert.deepEqual([stop.status, stop.json.result_code], [200, 'Failed']);
      assert.equal((await c.call('GET', '/lists/ghost')).status, 404);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
    }));

  test('V1 loadTransientInBody: a load that would answer 503 or 500 answers 200 ServiceUnavailable / InternalServerError', () =>
    withSim(CONTROL, async (c) => {
      c.sim.faults.add({ route: 'loadList', status: 503, times: 1 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 503);
      await setVariants(c, { loadTransientInBody: true });
      c.sim.faults.add({ route: 'loadList', status: 503, times: 1 });
      const r = await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      assert.equal(r.status, 200);
      assert.equal(r.json.result_code, 'ServiceUnavailable');
      assert.equal(r.json.number_of_inserted_records, 0);
      c.sim.faults.add({ route: 'loadSegment', status: 500, times: 1 });
      const s = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']]);
      assert.deepEqual([s.status, s.json.result_code], [200, 'InternalServerError']);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0, 'nothing applied');
      // Other routes and other statuses are untouched.
      c.sim.faults.add({ route: 'getList', status: 503, times: 1 });
      assert.equal((await c.call('GET', '/lists/contacts')).status, 503);
      c.sim.faults.add({ route: 'loadList', status: 502, times: 1 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 502);
    }));

  test('V2 failedRowDetail: invalid_records lists every failed row, or is null while the count stays', () =>
    withSim(CONTROL, async (c) => {
      const rows = [['C1', 'a', 1], ['C2', 'b', 'x'], ['C3']];
      const listed = await c.load('contacts', `${KEY}&${FIELDS3}`, rows);
      assert.equal(listed.json.number_of_failed_records, 2);
      assert.equal(listed.json.invalid_records.length, 2);
      await setVariants(c, { failedRowDetail: 'count-only' });
      const counted = await c.load('contacts', `${KEY}&${FIELDS3}`, rows);
      assert.equal(counted.status, 200);
      assert.equal(counted.json.result_code, 'PartiallySucceeded');
      assert.equal(counted.json.number_of_failed_records, 2);
      assert.equal(counted.json.invalid_records, null);
      const seg = await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1'], [7]]);
      assert.equal(seg.json.number_of_failed_records, 1);
      assert.equal(seg.json.invalid_records, null);
    }));

  test('V9 serverTimeoutMs with latencyPerRowMs: a load whose modelled work passes the limit answers 408 after the limit, nothing applied', () =>
    withSim({ ...CONTROL, latencyMs: 50, latencyPerRowMs: 0.2 }, async (c) => {
      const rows = (n: number, p: string) => Array.from({ length: n }, (_, i) => [`${p}${i}`, 'e', i]);
      // 50 ms + 1,000 rows x 0.2 ms = 250 ms of work: answered.
      const okLoad = await c.load('contacts', `${KEY}&${FIELDS3}`, rows(1000, 'A'));
      assert.equal(okLoad.status, 200);
      assert.equal(okLoad.json.number_of_inserted_records, 1000);
      const logged = c.sim.requestLog().at(-1)!;
      assert.ok(logged.durationMs >= 240, `the per-row part is waited (${logged.durationMs} ms)`);

      await setVariants(c, { serverTimeoutMs: 400 });
      // 50 + 2,000 x 0.2 = 450 ms > 400 ms.
      const late = await c.load('contacts', `${KEY}&${FIELDS3}`, rows(2000, 'B'));
      assert.equal(late.status, 408);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 1000, 'nothing of the timed-out load applied');
      assert.ok(c.sim.requestLog().at(-1)!.durationMs >= 390, 'answered once the limit passed');
      // Under the limit it still loads; other routes answer (50 ms < 400 ms).
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, rows(1000, 'B'))).status, 200);
      assert.equal((await c.call('GET', '/lists/contacts')).status, 200);
      // When even the fixed part passes the limit, every request answers 408.
      c.sim.configure({ latencyMs: 500 });
      assert.equal((await c.call('GET', '/lists/contacts')).status, 408);
      await setVariants(c, { serverTimeoutMs: null });
      c.sim.configure({ latencyMs: 0 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, rows(2000, 'C'))).status, 200);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 4000);
    }));
});

describe('variant switches: key index, quota window, value typing', () => {
  test('V6 keyIndexGuard: none by default; exact (= requireBusinessKey); covers accepts an index over more fields', () =>
    withSim(CONTROL, async (c) => {
      const load = () => c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      assert.equal((await load()).status, 200, 'no guard by default');
      await setVariants(c, { keyIndexGuard: 'exact' });
      const refused = await load();
      assert.equal(refused.status, 400);
      assert.match(refused.json.errors[0].description, /key index/);
      await c.call('PUT', '/lists/contacts/businesskey', { fields: ['CUSTOMER_IDENTIFIER', 'EMAIL'] });
      assert.equal((await load()).status, 400, 'exact: an index over more fields does not count');
      await setVariants(c, { keyIndexGuard: 'covers' });
      assert.equal((await load()).status, 200);
      const wider = await c.load('contacts', 'keyFields=CUSTOMER_IDENTIFIER,AGE&' + FIELDS3, [['C1', 'a', 1]]);
      assert.equal(wider.status, 400, 'covers: every key field must be in the index');
      await c.call('PUT', '/lists/contacts/businesskey', { fields: ['CUSTOMER_IDENTIFIER'] });
      await setVariants(c, { keyIndexGuard: 'exact' });
      assert.equal((await load()).status, 200);
      // requireBusinessKey maps onto the switch.
      c.sim.configure({ requireBusinessKey: false });
      assert.equal(c.sim.variants().keyIndexGuard, 'none');
      c.sim.configure({ requireBusinessKey: true });
      assert.equal(c.sim.variants().keyIndexGuard, 'exact');
    }));

  test('V6: the requireBusinessKey start-up option still means the exact guard; an explicit keyIndexGuard wins', async () => {
    await withSim({ requireBusinessKey: true }, async (c) => assert.equal(c.sim.variants().keyIndexGuard, 'exact'));
    await withSim({ requireBusinessKey: true, variants: { keyIndexGuard: 'covers' } }, async (c) =>
      assert.equal(c.sim.variants().keyIndexGuard, 'covers'),
    );
  });

  test('V8 quotaWindow: the token bucket refills continuously; a fixed window takes `limit` requests and tells the seconds left', () =>
    withSim({ ...CONTROL, rateLimit: { limit: 3, windowMs: 60_000 } }, async (c) => {
      const r1 = await c.call('GET', '/lists/contacts');
      assert.equal(r1.headers.get('x-ratelimit-remaining'), '2');
      await setVariants(c, { quotaWindow: 'fixed' });
      const seen = [];
      for (let i = 0; i < 4; i++) seen.push(await c.call('GET', '/lists/contacts'));
      assert.deepEqual(
        seen.map((r) => r.status),
        [200, 200, 200, 429],
      );
      assert.deepEqual(
        seen.slice(0, 3).map((r) => r.headers.get('x-ratelimit-remaining')),
        ['2', '1', '0'],
      );
      const reset = Number(seen[3]!.headers.get('x-ratelimit-reset'));
      assert.ok(reset >= 1 && reset <= 60, String(reset));
      assert.equal(seen[3]!.headers.get('x-ratelimit-remaining'), '0');
      assert.equal(seen[3]!.text, 'API calls quota exceeded! The maximum allowed is 3 per minute');
      // The reset of a fixed window counts down instead of naming the time to the next token.
      assert.ok(Number(seen[0]!.headers.get('x-ratelimit-reset')) >= reset);
    }));

  test('V11 stringValues: strings for numeric and boolean fields are refused by default, accepted as typed values when switched', () =>
    withSim(
      {
        ...CONTROL,
        seed: {
          lists: [
            {
              api_name: 't',
              type: 'Datalist',
              fields: [
                { name: 'K', data_type: 'Long' },
                { name: 'N', data_type: 'Numeric' },
                { name: 'F', data_type: 'Float' },
                { name: 'B', data_type: 'Boolean' },
                { name: 'S', data_type: 'Text', length: 10 },
              ],
            },
          ],
        },
      },
      async (c) => {
        const rows = [
          ['1', '2', '1.5', 'true', 's'],
          ['9007199254740993', '-3', '2e3', 'false', 't'],
          ['3', '1.5', 'x', 'yes', 'u'],
          [4, '', '', '', 'v'],
        ];
        const refused = await c.call('POST', '/lists/t/data/load?keyFields=K&fields=K,N,F,B,S', rows);
        assert.equal(refused.json.result_code, 'Failed');
        assert.equal(refused.json.number_of_failed_records, 4);
        await setVariants(c, { stringValues: 'accept' });
        const accepted = await c.call('POST', '/lists/t/data/load?keyFields=K&fields=K,N,F,B,S', rows);
        assert.equal(accepted.json.number_of_inserted_records, 3);
        assert.deepEqual(
          accepted.json.invalid_records.map((i: { record_index: number; field_name: string }) => [
            i.record_index,
            i.field_name,
          ]),
          [
            [2, 'N'],
            [2, 'F'],
            [2, 'B'],
          ],
        );
        assert.deepEqual(c.sim.listRecords('my_org', 't'), [
          { K: 1, N: 2, F: 1.5, B: true, S: 's' },
          { K: 9007199254740993n, N: -3, F: 2000, B: false, S: 't' },
          { K: 4, N: null, F: null, B: null, S: 'v' },
        ]);
        // Text fields still take strings only; numbers stay refused there.
        assert.equal(
          (await c.call('POST', '/lists/t/data/load?keyFields=K&fields=K,S', [[5, 5]])).json.invalid_records[0]
            .field_name,
          'S',
        );
        // A string key matches the record a number key made.
        const seg = await c.call('POST', '/lists/t/data/load?keyFields=K&fields=K,S', [['4', 'w']]);
        assert.equal(seg.json.number_of_updated_records, 1);
      },
    ));
});

describe('variant switches in the simulator configuration file', () => {
  test('`variants` and `latencyPerRowMs` are read from the file and checked', async () => {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { simulateCommand } = await import('../../src/simulator/cli.ts');
    const dir = await mkdtemp(join(tmpdir(), 'sim-variants-'));
    const err = process.stderr.write;
    const out = process.stdout.write;
    let text = '';
    process.stderr.write = (s: string) => ((text += s), true);
    process.stdout.write = (s: string) => ((text += s), true);
    try {
      await writeFile(join(dir, 'bad.yml'), 'variants:\n  notFoundStatus: 401\n');
      assert.equal(await simulateCommand(['--config', join(dir, 'bad.yml'), '--port', '0']), 2);
      assert.match(text, /variants\.notFoundStatus must be one of 404, 400/);
      await writeFile(
        join(dir, 'ok.json'),
        JSON.stringify({
          variants: { notFoundStatus: 400, segmentsPageSize: 100 },
          latencyPerRowMs: 0.2,
          enableControlRoutes: true,
        }),
      );
      const running = simulateCommand(['--config', join(dir, 'ok.json'), '--port', '0']);
      for (let i = 0; i < 100 && !/listening on http:\/\/127\.0\.0\.1:(\d+)/.test(text); i++) await sleep(20);
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(text)![1];
      const v = (await (await fetch(`http://127.0.0.1:${port}/__simulator/variants`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(v.notFoundStatus, 400);
      assert.equal(v.segmentsPageSize, 100);
      const cfg = (await (await fetch(`http://127.0.0.1:${port}/__simulator/config`)).json()) as Record<
        string,
        unknown
      >;
      assert.equal(cfg.latencyPerRowMs, 0.2);
      process.emit('SIGTERM', 'SIGTERM');
      assert.equal(await running, 0);
    } finally {
      process.stderr.write = err;
      process.stdout.write = out;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
