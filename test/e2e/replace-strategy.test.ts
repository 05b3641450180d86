/**
 * Segment replacement through the built CLI against the simulator: load_then_remove never lets a Segment
 * fall below min(old, new) members and ends with exactly the input's members; the blast-radius guard stops
 * a run before any write and --force lets it through; a run stopped between adds and removals converges
 * on the next; a member added by someone else after the read stays.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { assertBalanced, runCli, tempDir, writeInput } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  ORG,
  members,
  seededList,
  selligentEnv,
  simulator,
  writes,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import { DEV_API_KEY, DEV_API_SECRET, type SeedState, type SimulatorOptions } from '../../src/simulator/index.ts';
import type { FaultStatus } from '../../src/simulator/types.ts';
import { SelligentClient } from '../../src/selligent/client.ts';
import { createLogger } from '../../src/log.ts';
import { renderReport } from '../../src/report/render.ts';

const OLD = 2_000;
/** Members now: C00000-C01999. Input: C01000-C03499, so 1,000 stay, 1,000 leave, 1,500 join. */
const STAY_FROM = 1_000;
const NEW_TO = 3_500;

function id(i: number): string {
  return `C${String(i).padStart(5, '0')}`;
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => id(from + i));
}

function seed(): SeedState {
  const all = Array.from({ length: 5_000 }, (_, i) => ({ ID: i + 1, CUSTOMER_IDENTIFIER: id(i) }));
  const state: SeedState = seededList({ records: all });
  state.lists![0]!.segments = [{ api_name: 'seg_a', members: all.slice(0, OLD).map((record) => record.ID) }];
  return state;
}

function input(dir: string): string {
  const lines = range(STAY_FROM, NEW_TO).map((key) => `seg_a,${key},${key.toLowerCase()}@example.com`);
  return writeInput(dir, 'input.csv', `selligent_segment,customer_identifier,email\n${lines.join('\n')}\n`);
}

const SETTINGS = {
  ...BASE_SETTINGS,
  segment_data_import_option: 'replace',
  segment_replace_strategy: 'load_then_remove',
  // Small batches, so the adds and the removals each take several requests.
  segment_batch_rows: 300,
  segment_batch_rows_max: 300,
  max_attempts: 2,
  retry_budget_seconds: 5,
  list_busy_retry_seconds: 30,
};

async function seeded(options: SimulatorOptions = {}): Promise<SimulatorHandle> {
  const sim = await simulator({ seed: seed(), ...options });
  sim.resetWatermarks();
  return sim;
}

function low(sim: SimulatorHandle): number {
  const mark = sim.watermarks()[LIST]?.seg_a;
  assert.ok(mark, 'no watermark for seg_a');
  return mark.min;
}

function routeCount(sim: SimulatorHandle, pattern: RegExp, method?: string): number {
  return sim.requestLog().filter((entry) => pattern.test(entry.path) && (!method || entry.method === method)).length;
}

const WANTED = range(STAY_FROM, NEW_TO);

describe('segment_replace_strategy load_then_remove', () => {
  test('stay, leave and join over several search pages and removal batches; never below min(old, new)', async () => {
    const sim = await seeded();
    try {
      const run = await runCli({ settings: SETTINGS, input: input(tempDir()), env: selligentEnv(sim) });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assertBalanced(run.report);
      assert.deepEqual(members(sim, 'seg_a'), WANTED);
      assert.ok(low(sim) >= Math.min(OLD, WANTED.length), `low point ${low(sim)}`);
      assert.equal(routeCount(sim, /\/segments\/seg_a\/data\/search$/i), 3);
      assert.equal(routeCount(sim, /\/segments\/seg_a\/data$/i, 'DELETE'), 4);
      const segment = run.report!.segments[0]!;
      assert.equal(segment.cleared, false);
      assert.deepEqual(segment.replace, {
        strategy: 'load_then_remove',
        members_before: 2_000,
        added: 1_500,
        kept: 1_000,
        removed: 1_000,
        after: 2_500,
        planned_after: 2_500,
        search_requests: 3,
        removal_requests: 4,
        guard: 'ok',
      });
      assert.equal(segment.members_loaded, 1_500);
      assert.equal(run.report!.accounting!.loaded, 2_500);
      assert.match(run.stdout + run.stderr, /Segment seg_a loaded/);
    } finally {
      await sim.close();
    }
  });

  test('under paged Segment listings, 200 + failure codes and the busy-List 429 as an envelope without headers', async () => {
    const sim = await seeded({
      variants: { segmentsPageSize: 1, loadFailureStatus: 200, loadTransientInBody: true, listBusy429: 'no-headers' },
    });
    try {
      sim.faults.add({
        route: 'deleteSegmentData',
        status: 429,
        times: 2,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ result_code: 'Failed', message: 'Another bulk operation is in progress on this list.' }),
      });
      const run = await runCli({ settings: SETTINGS, input: input(tempDir()), env: selligentEnv(sim) });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(members(sim, 'seg_a'), WANTED);
      assert.ok(low(sim) >= Math.min(OLD, WANTED.length));
      assert.equal(run.report!.segments[0]!.replace!.removed, 1_000);
      assert.ok(run.report!.http.list_busy_waits >= 2);
    } finally {
      await sim.close();
    }
  });

  test('a removal refused with 200 + Failed stops the run after the adds; the rerun converges', async () => {
    const sim = await seeded({ variants: { loadFailureStatus: 200 } });
    try {
      sim.faults.add({
        route: 'deleteSegmentData',
        status: 200 as FaultStatus,
        times: 1,
        afterCalls: 1,
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ result_code: 'ValidationFailed', message: 'refused' }),
      });
      const dir = tempDir();
      const settings = { ...SETTINGS, error_handling: 'StopOnError' };
      const first = await runCli({ settings, input: input(dir), env: selligentEnv(sim) });
      assert.notEqual(first.code, 0, first.stdout + first.stderr);
      const between = members(sim, 'seg_a');
      // Every new member is in; some old ones are still there.
      assert.ok(WANTED.every((key) => between.includes(key)));
      assert.ok(between.length > WANTED.length && between.length < OLD + 1_500);
      assert.ok(low(sim) >= Math.min(OLD, WANTED.length));
      const second = await runCli({ settings, input: input(dir), env: selligentEnv(sim) });
      assert.equal(second.code, 0, second.stdout + second.stderr);
      assert.deepEqual(members(sim, 'seg_a'), WANTED);
      assert.equal(second.report!.segments[0]!.replace!.added, 0);
      assert.equal(second.report!.segments[0]!.replace!.removed, between.length - WANTED.length);
      assert.ok(low(sim) >= Math.min(OLD, WANTED.length));
    } finally {
      await sim.close();
    }
  });

  test('a key whose deduplication winner the List refused is not added, as under clear_then_load', async () => {
    const sim = await seeded();
    try {
      const dir = tempDir();
      const joiner = id(4_100);
      const longEmail = `${'x'.repeat(240)}@example.com`;
      const text = readFileSync(input(dir), 'utf8') + `seg_a,${joiner},ok@example.com\nseg_a,${joiner},${longEmail}\n`;
      const run = await runCli({
        settings: { ...SETTINGS, deduplication: 'ImportLastMatch' },
        input: writeInput(dir, 'with-refused.csv', text),
        env: selligentEnv(sim),
      });
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assertBalanced(run.report);
      assert.deepEqual(members(sim, 'seg_a'), WANTED);
      assert.equal(run.report!.segments[0]!.skipped_rejected_keys, 1);
    } finally {
      await sim.close();
    }
  });

  test('a member someone else adds between the read and the removal stays', async () => {
    const sim = await seeded();
    try {
      // The first removal waits 2 s and is then refused (a 503, retried), nothing applied and no lock held:
      // the other party's load lands after the read and before any removal. A delay alone would apply
      // the removal at once and only answer late, so the moment between the adds and the removals could
      // be too short to see.
      sim.faults.add({ route: 'deleteSegmentData', status: 503, delayMs: 2_000, times: 1 });
      const other = new SelligentClient(
        { baseUrl: sim.baseUrl, apiKey: DEV_API_KEY, apiSecret: DEV_API_SECRET },
        {
          retry: { maxAttempts: 3, budgetMs: 10_000, baseDelayMs: 1, maxDelayMs: 5 },
          connectTimeoutMs: 5_000,
          requestTimeoutMs: 10_000,
          requestsPerMinute: 100_000,
          splitAfterTimeouts: 2,
          logger: createLogger({ level: 'silent' }),
        },
      );
      let ended = false;
      const running = runCli({ settings: SETTINGS, input: input(tempDir()), env: selligentEnv(sim) }).finally(() => {
        ended = true;
      });
      // The adds are done when every new member is in: then only removals remain.
      while (!ended && members(sim, 'seg_a').length < OLD + 1_500)
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(!ended, `the run ended before its adds were seen: ${(await running).stdout}`);
      await other.loadSegment(
        ORG,
        LIST,
        'seg_a',
        {
          keyFields: ['CUSTOMER_IDENTIFIER'],
          fields: ['CUSTOMER_IDENTIFIER'],
          mode: 'Sync',
          deduplication: 'ImportLastMatch',
          errorHandling: 'ContinueOnError',
        },
        Buffer.from(JSON.stringify([[id(4_000)]])),
        1,
      );
      other.close();
      const run = await running;
      assert.equal(run.code, 0, run.stdout + run.stderr);
      assert.deepEqual(members(sim, 'seg_a'), [...WANTED, id(4_000)].sort());
    } finally {
      await sim.close();
    }
  });
});

describe('the blast-radius guard', () => {
  for (const strategy of ['load_then_remove', 'clear_then_load'] as const) {
    test(`${strategy}: stops before any write with exit 2; --force lets the run through`, async () => {
      const sim = await seeded();
      try {
        const dir = tempDir();
        const settings = { ...SETTINGS, segment_replace_strategy: strategy, max_segment_removal_ratio: 0.4 };
        const before = sim.listRecords(ORG, LIST).length;
        const stopped = await runCli({ settings, input: input(dir), env: selligentEnv(sim) });
        assert.equal(stopped.code, 2, stopped.stdout + stopped.stderr);
        assert.equal(stopped.report!.error!.code, 'SEGMENT_GUARD');
        assert.match(
          stopped.report!.error!.message,
          /Segment seg_a: this run would remove 1000 of its 2000 current members/,
        );
        assert.equal(writes(sim).length, 0);
        assert.equal(sim.listRecords(ORG, LIST).length, before);
        assert.deepEqual(members(sim, 'seg_a'), range(0, OLD));
        assert.equal(stopped.report!.segments[0]!.replace!.guard, 'stopped');
        assert.equal(stopped.report!.segments[0]!.replace!.kept, 1_000);

        const dry = await runCli({ settings, input: input(dir), env: selligentEnv(sim), args: ['--dry-run'] });
        assert.equal(dry.code, 0, dry.stdout + dry.stderr);
        const planned = dry.report!.plan!.segments[0]!.replace!;
        assert.equal(planned.guard, 'would_stop');
        assert.deepEqual(
          [planned.members_now, planned.to_add, planned.to_keep, planned.to_remove, planned.after],
          [2_000, 1_500, 1_000, 1_000, 2_500],
        );
        assert.equal(planned.removal_requests, strategy === 'load_then_remove' ? 4 : 0);
        assert.equal(writes(sim).length, 0);
        const dryText = renderReport(dry.report!);
        assert.match(
          dryText,
          /Segment\s+strategy\s+now\s+to add\s+to keep\s+to remove\s+after\s+searches\s+removals\s+guard/,
        );
        assert.match(dryText, /seg_a\s+\S+\s+2000\s+1500\s+1000\s+1000\s+2500\s+3\s+\d+\s+would_stop/);

        const forced = await runCli({ settings, input: input(dir), env: selligentEnv(sim), args: ['--force'] });
        assert.equal(forced.code, 0, forced.stdout + forced.stderr);
        assert.deepEqual(members(sim, 'seg_a'), WANTED);
        assert.equal(forced.report!.segments[0]!.replace!.guard, 'overridden');
        assert.ok(forced.report!.warnings.some((w) => w.code === 'SEGMENT_GUARD_OVERRIDDEN'));
        assert.equal(forced.report!.segments[0]!.replace!.after, 2_500);
        const text = renderReport(forced.report!);
        assert.match(text, /Replaced Segments/);
        assert.match(
          text,
          new RegExp(
            `seg_a\\s+${strategy}\\s+2000\\s+(1500|2500)\\s+1000\\s+(1000|2000)\\s+2500\\s+\\d+\\s+overridden`,
          ),
        );
      } finally {
        await sim.close();
      }
    });
  }
});
