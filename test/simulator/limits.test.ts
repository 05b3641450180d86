import assert from 'node:assert/strict';
import http from 'node:http';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AUTH, FIELDS3, KEY, withSim } from './helpers.ts';

const TWO_LISTS = {
  lists: [
    {
      api_name: 'contacts',
      fields: [
        { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
        { name: 'EMAIL', data_type: 'Text', length: 50 },
        { name: 'AGE', data_type: 'Long' },
      ],
      segments: [{ api_name: 'vip' }],
    },
    { api_name: 'other', fields: [{ name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 }] },
  ],
};

/** A request body that sends `first`, then waits until `release()` before sending `rest`. */
function heldBody(first: string, rest: string) {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const body = new ReadableStream<Uint8Array>({
    async start(ctrl) {
      ctrl.enqueue(new TextEncoder().encode(first));
      await gate;
      ctrl.enqueue(new TextEncoder().encode(rest));
      ctrl.close();
    },
  });
  return { body, release };
}

describe('body size limit', () => {
  test('413 over maxBodyBytes, by Content-Length and while reading a chunked body; nothing is loaded', () =>
    withSim({ maxBodyBytes: 1000 }, async (c) => {
      const rows = Array.from({ length: 100 }, (_, i) => [`C${i}`, 'e', i]);
      const r = await c.load('contacts', `${KEY}&${FIELDS3}`, rows);
      assert.equal(r.status, 413);
      const text = JSON.stringify(rows);
      const chunked = new ReadableStream<Uint8Array>({
        start(ctrl) {
          for (let i = 0; i < text.length; i += 200) ctrl.enqueue(new TextEncoder().encode(text.slice(i, i + 200)));
          ctrl.close();
        },
      });
      const r2 = await fetch(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}`), {
        method: 'POST',
        headers: { 'X-ApiKey': AUTH, 'Content-Type': 'application/json' },
        body: chunked,
        duplex: 'half',
      });
      assert.equal(r2.status, 413);
      await r2.text();
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      // The server is fine afterwards and a small body passes.
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 200);
      c.sim.configure({ maxBodyBytes: 10 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 413);
    }));

  test('the default limit is 32 MiB; an oversized declared body is answered at once, without being read', () =>
    withSim({}, async (c) => {
      const url = new URL(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}`));
      const t = performance.now();
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(url, {
          method: 'POST',
          headers: {
            'X-ApiKey': AUTH,
            'Content-Type': 'application/json',
            'Content-Length': String(32 * 1024 * 1024 + 1),
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode as number);
        });
        req.on('error', reject);
        req.write('[["C1","a",1],'); // and never the rest
      });
      assert.equal(status, 413);
      assert.ok(performance.now() - t < 2000);
      assert.equal(c.sim.requestLog().at(-1)?.requestBytes, 0);
      assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
      // Exactly at the limit is accepted (by Content-Length); the body is then read.
      c.sim.configure({ maxBodyBytes: 13 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C', 'a', 1]])).status, 200); // [["C","a",1]] is 13 bytes
    }));
});

describe('rate limit', () => {
  test('token bucket per API key: 429 with the documented body and headers; headers on success too', () =>
    withSim(
      {
        rateLimit: { limit: 3, windowMs: 60_000 },
        credentials: [
          { key: 'simulator-key', secret: 'simulator-secret' },
          { key: 'k2', secret: 's2' },
        ],
      },
      async (c) => {
        const remaining: string[] = [];
        for (let i = 0; i < 3; i++) {
          const r = await c.call('GET', '/lists/contacts');
          assert.equal(r.status, 200);
          assert.equal(r.headers.get('x-ratelimit-limit'), '3, 3;w=60');
          remaining.push(r.headers.get('x-ratelimit-remaining') as string);
          assert.match(r.headers.get('x-ratelimit-reset') as string, /^\d+$/);
        }
        assert.deepEqual(remaining, ['2', '1', '0']);
        const limited = await c.call('GET', '/lists/contacts');
        assert.equal(limited.status, 429);
        assert.equal(limited.text, 'API calls quota exceeded! The maximum allowed is 3 per minute');
        assert.match(limited.headers.get('content-type') as string, /^text\/plain/);
        assert.equal(limited.headers.get('x-ratelimit-limit'), '3, 3;w=60');
        assert.equal(limited.headers.get('x-ratelimit-remaining'), '0');
        const reset = Number(limited.headers.get('x-ratelimit-reset'));
        assert.ok(reset >= 1 && reset <= 60, String(reset));
        assert.equal(limited.headers.get('retry-after'), null);
        // Bulk calls count like any other and are refused before anything is read.
        assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]])).status, 429);
        assert.equal(c.sim.listRecords('my_org', 'contacts').length, 0);
        // Another API key has its own bucket.
        assert.equal(
          (await c.call('GET', '/lists/contacts', undefined, { headers: { 'X-ApiKey': 'k2:s2' } })).status,
          200,
        );
        // Turning the limit off at run time.
        c.sim.configure({ rateLimit: false });
        const free = await c.call('GET', '/lists/contacts');
        assert.equal(free.status, 200);
        assert.equal(free.headers.get('x-ratelimit-limit'), null);
      },
    ));

  test('the default is 2500 per minute; tokens refill over time', () =>
    withSim({}, async (c) => {
      const r = await c.call('GET', '');
      assert.equal(r.headers.get('x-ratelimit-limit'), '2500, 2500;w=60');
      // One token per second: the three calls fall within one refill even on a loaded machine.
      c.sim.configure({ rateLimit: { limit: 2, windowMs: 2000 } });
      assert.equal((await c.call('GET', '')).status, 200);
      assert.equal((await c.call('GET', '')).status, 200);
      assert.equal((await c.call('GET', '')).status, 429);
      await sleep(1100);
      assert.equal((await c.call('GET', '')).status, 200);
    }));
});

describe('one bulk operation per list at a time', () => {
  test('a concurrent load, segment load or clear on the same list gets an immediate 429; other lists are free', () =>
    withSim({ seed: TWO_LISTS }, async (c) => {
      const held = heldBody('[["C1","a",1],', '["C2","b",2]]');
      const first = fetch(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}`), {
        method: 'POST',
        headers: { 'X-ApiKey': AUTH, 'Content-Type': 'application/json' },
        body: held.body,
        duplex: 'half',
      });
      // Let the server receive the first request and its first chunk.
      await sleep(50);
      const t = performance.now();
      const second = await c.load('contacts', `${KEY}&${FIELDS3}`, [['C3', 'c', 3]]);
      assert.equal(second.status, 429);
      assert.ok(performance.now() - t < 1000);
      assert.equal(second.json.result_code, 'Failed');
      assert.match(second.json.message, /bulk operation/);
      assert.equal((await c.loadSegment('contacts', 'vip', KEY, [['CUSTOMER_IDENTIFIER'], ['C1']])).status, 429);
      assert.equal((await c.call('DELETE', '/lists/contacts/segments/vip/data/clear')).status, 429);
      // Reads and other lists are not blocked.
      assert.equal((await c.call('GET', '/lists/contacts/fields')).status, 200);
      assert.equal((await c.load('other', KEY, [['CUSTOMER_IDENTIFIER'], ['X1']])).status, 200);
      held.release();
      const done = await first;
      assert.equal(done.status, 200);
      assert.equal(((await done.json()) as { number_of_inserted_records: number }).number_of_inserted_records, 2);
      // Free again once the first answered.
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C3', 'c', 3]])).status, 200);
    }));

  test('the lock is released when the client aborts mid-body', () =>
    withSim({}, async (c) => {
      const held = heldBody('[["C1","a",1],', '["C2","b",2]]');
      const ac = new AbortController();
      const first = fetch(c.url(`/lists/contacts/data/load?${KEY}&${FIELDS3}`), {
        method: 'POST',
        headers: { 'X-ApiKey': AUTH, 'Content-Type': 'application/json' },
        body: held.body,
        duplex: 'half',
        signal: ac.signal,
      });
      await sleep(50);
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C3', 'c', 3]])).status, 429);
      ac.abort();
      await assert.rejects(first);
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        await sleep(10);
        status = (await c.load('contacts', `${KEY}&${FIELDS3}`, [['C3', 'c', 3]])).status;
      }
      assert.equal(status, 200);
      assert.deepEqual(
        c.sim.listRecords('my_org', 'contacts').map((r) => r.CUSTOMER_IDENTIFIER),
        ['C3'],
      );
    }));

  test('the lock is also held during simulated latency and released after errors', () =>
    withSim({ latencyMs: 200 }, async (c) => {
      const first = c.load('contacts', `${KEY}&${FIELDS3}`, [['C1', 'a', 1]]);
      await sleep(80);
      c.sim.configure({ latencyMs: 0 });
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C2', 'b', 2]])).status, 429);
      assert.equal((await first).status, 200);
      // A failed (400) bulk request releases the lock.
      assert.equal((await c.load('contacts', `keyFields=NOPE&${FIELDS3}`, [])).status, 400);
      assert.equal((await c.load('contacts', `${KEY}&${FIELDS3}`, [['C2', 'b', 2]])).status, 200);
    }));
});
