/**
 * Segment load requests sized from the service's answer times, against the simulator's latency model
 * (a fixed part plus a part per row, and a 408 past a server time-out).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import { BASE_SETTINGS, members, seededList, selligentEnv, simulator, type SimulatorHandle } from '../helpers/sim.ts';
import type { RunReport } from '../../src/report/types.ts';

const MEMBERS = 20_000;

function input(dir: string): string {
  const lines = ['selligent_segment,customer_identifier,email'];
  for (let i = 0; i < MEMBERS; i++) lines.push(`big_segment,K${String(i).padStart(6, '0')},k${i}@example.com`);
  return writeInput(dir, 'input.csv', lines.join('\n') + '\n');
}

function segmentLoads(sim: SimulatorHandle): number[] {
  return sim
    .requestLog()
    .filter((entry) => entry.method === 'POST' && /\/segments\/big_segment\/data\/load$/i.test(entry.path))
    .map((entry) => entry.status);
}

/** Exports the 20,000 members into the seeded List and checks that every one is in the List and the Segment. */
async function exportBigSegment(
  sim: SimulatorHandle,
  batches: { segment_batch_rows: number; segment_batch_rows_max: number },
): Promise<RunReport> {
  const dir = tempDir();
  const result = await runCli({
    settings: { ...BASE_SETTINGS, ...batches },
    input: input(dir),
    dir,
    env: selligentEnv(sim),
  });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assertBalanced(result.report);
  assert.equal(members(sim, 'big_segment').length, MEMBERS);
  assert.equal(result.report!.segments[0]!.members_loaded, MEMBERS);
  return result.report!;
}

test('Segment requests grow while answers are fast, so a large Segment takes fewer requests than fixed batches', async () => {
  const sim = await simulator({ seed: seededList(), latencyPerRowMs: 0.01 });
  try {
    const report = await exportBigSegment(sim, { segment_batch_rows: 1_000, segment_batch_rows_max: 8_000 });
    // Each batch is built while the one before it is on the wire, so sizes usually follow answers one batch
    // late (1,000 + 1,000 + 2,000 + 4,000 + 8,000 + 4,000 rows), or at once when an answer comes back before
    // the next batch is built (1,000 + 2,000 + 4,000 + 8,000 + 5,000); fixed batches would take 20 requests.
    const requests = segmentLoads(sim).length;
    assert.ok(requests === 5 || requests === 6, `${requests} Segment requests`);
    assert.equal(report.segments[0]!.requests, requests);
    assert.deepEqual(report.segment_batch_rows, {
      initial: 1_000,
      smallest: 1_000,
      largest: 8_000,
      final: 8_000,
      max: 8_000,
    });
  } finally {
    await sim.close();
  }
});

test('a Segment request the server times out (408) is split, and later requests stay below the size that failed', async () => {
  // 0.05 ms per row: 4,000 rows take 200 ms, 8,000 rows 400 ms, past the server's 300 ms.
  const sim = await simulator({ seed: seededList(), latencyPerRowMs: 0.05, variants: { serverTimeoutMs: 300 } });
  try {
    const report = await exportBigSegment(sim, { segment_batch_rows: 1_000, segment_batch_rows_max: 16_000 });
    const statuses = segmentLoads(sim);
    assert.ok(statuses.includes(408), `expected a 408 among ${statuses.join(',')}`);
    assert.ok(report.http.split_batches >= 1);
    assert.equal(report.segment_batch_rows!.largest, 8_000);
    assert.equal(report.segment_batch_rows!.final, 4_000);
  } finally {
    await sim.close();
  }
});

test('segment_batch_rows_max below segment_batch_rows is a settings error naming both', async () => {
  const result = await runCli({
    settings: { ...BASE_SETTINGS, segment_batch_rows: 5_000, segment_batch_rows_max: 1_000 },
    input: 'unused.csv',
    env: {
      SELLIGENT_BASE_URL: 'http://127.0.0.1:9',
      SELLIGENT_API_KEY: 'key-123456',
      SELLIGENT_API_SECRET: 'secret-123456',
    },
  });
  assert.equal(result.code, 2);
  assert.match(result.stdout + result.stderr, /segment_batch_rows_max: must be at least segment_batch_rows/);
});
