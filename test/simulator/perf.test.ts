import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEV_API_KEY, DEV_API_SECRET, startSimulator } from '../../src/simulator/index.ts';

/**
 * Logs (does not assert) the round-trip time of 5,000-row x 6-column list loads against an in-process
 * simulator. Client and server share one event loop here; `node --import tsx scripts/bench-simulator.ts`
 * measures with the server in its own process.
 */
test('5,000-row list load latency (logged)', async (t) => {
  const sim = await startSimulator({
    port: 0,
    rateLimit: false,
    seed: {
      lists: [
        {
          api_name: 'perf',
          fields: [
            { name: 'CUSTOMER_IDENTIFIER', data_type: 'Text', length: 50 },
            { name: 'EMAIL', data_type: 'Text', length: 200 },
            { name: 'FIRST_NAME', data_type: 'Text', length: 100 },
            { name: 'LIFETIME_VALUE', data_type: 'Float' },
            { name: 'LAST_PURCHASE_AT', data_type: 'DateTime' },
            { name: 'ACTIVE', data_type: 'Boolean' },
          ],
        },
      ],
    },
  });
  try {
    const url = `${sim.baseUrl}/Portal/Api/organizations/my_org/lists/perf/data/load?keyFields=CUSTOMER_IDENTIFIER&fields=CUSTOMER_IDENTIFIER,EMAIL,FIRST_NAME,LIFETIME_VALUE,LAST_PURCHASE_AT,ACTIVE`;
    const headers = { 'X-ApiKey': `${DEV_API_KEY}:${DEV_API_SECRET}`, 'Content-Type': 'application/json' };
    const times: number[] = [];
    for (let b = 0; b < 12; b++) {
      const rows = Array.from({ length: 5000 }, (_, i) => {
        const n = b * 5000 + i;
        return [`C${n}`, `c${n}@example.com`, `First${n % 977}`, n / 7, '2026-05-01T10:15:00Z', n % 2 === 0];
      });
      const body = JSON.stringify(rows);
      const start = performance.now();
      const r = await fetch(url, { method: 'POST', headers, body });
      const j = (await r.json()) as { number_of_inserted_records: number };
      const ms = performance.now() - start;
      assert.equal(j.number_of_inserted_records, 5000);
      if (b >= 2) times.push(ms); // the first two warm up the JIT
    }
    times.sort((a, b) => a - b);
    const server = sim
      .requestLog()
      .slice(2)
      .map((e) => e.durationMs)
      .sort((a, b) => a - b);
    t.diagnostic(
      `5,000-row load round trip: min ${times[0]!.toFixed(1)} ms, median ${times[times.length >> 1]!.toFixed(1)} ms; ` +
        `server median ${server[server.length >> 1]!.toFixed(1)} ms (request log)`,
    );
  } finally {
    await sim.close();
  }
});
