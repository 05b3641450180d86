/**
 * The replacement pieces chained the way the Segment stage is to chain them, against the simulator over
 * HTTP: plan (search + new members from the read spool), guard, adds, removals. Proves the membership
 * never drops below min(old, new), that an interrupted run converges on the next, and that a member
 * added by someone else after the read is not removed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/cli.ts';
import { LIST, ORG, members, seededList, simulator, writes, type SimulatorHandle } from '../helpers/sim.ts';
import { DEV_API_KEY, DEV_API_SECRET, type SeedState } from '../../src/simulator/index.ts';
import { SelligentClient } from '../../src/selligent/client.ts';
import { createLogger } from '../../src/log.ts';
import { BatchBuilder, type Batch } from '../../src/pipeline/batches.ts';
import type { ColumnPlan } from '../../src/pipeline/columns.ts';
import { accountAnswer } from '../../src/pipeline/send-batches.ts';
import { MembershipSpool, type MembershipCounts } from '../../src/pipeline/membership-spool.ts';
import { removalAsLoad } from '../../src/pipeline/removal-answer.ts';
import { guardDecision } from '../../src/pipeline/segment-guard.ts';
import { spoolNewMembers } from '../../src/pipeline/spooled-members.ts';
import { MAX_PARTITION_BYTES } from '../../src/pipeline/deduplicate.ts';
import { RowSpool } from '../../src/pipeline/row-spool.ts';

const KEY = ['CUSTOMER_IDENTIFIER'];
const PLAN = {
  keys: [{ field: 'CUSTOMER_IDENTIFIER', sendType: 'string' }],
  keyPositions: [0],
} as unknown as ColumnPlan;
const BATCH = 300;

function id(i: number): string {
  return `C${String(i).padStart(5, '0')}`;
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => id(from + i));
}

/** 5,000 List records; seg_a holds the first `current`. */
function seed(current: number): SeedState {
  const all = Array.from({ length: 5_000 }, (_, i) => ({ ID: i + 1, CUSTOMER_IDENTIFIER: id(i) }));
  const state: SeedState = seededList({ records: all });
  state.lists![0]!.segments = [{ api_name: 'seg_a', members: all.slice(0, current).map((record) => record.ID) }];
  return state;
}

function newClient(sim: SimulatorHandle): SelligentClient {
  return new SelligentClient(
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
}

/** The input's rows for seg_a, spooled as the read stage spools them. */
async function readSpool(directory: string, keys: string[]) {
  const rows = new RowSpool(directory, [0], 64, 'rows-w0');
  keys.forEach((key, i) => rows.add(i + 2, 'seg_a', [key, `${key.toLowerCase()}@example.com`]));
  await rows.finish();
  return { directory, groups: rows.files().map((file) => [file]), maxPartitionBytes: MAX_PARTITION_BYTES };
}

async function plan(
  client: SelligentClient,
  directory: string,
  name: string,
  newKeys: string[],
): Promise<{ spool: MembershipSpool; counts: MembershipCounts }> {
  const work = join(directory, name);
  mkdirSync(work);
  const spool = new MembershipSpool(work, 'seg-0', ['string'], 10_000);
  for await (const rows of client.segmentMemberPages(ORG, LIST, 'seg_a', KEY, { orderBy: 'ID' }))
    await spool.addCurrent(rows);
  await spoolNewMembers(await readSpool(work, newKeys), PLAN, new Map([['seg_a', 0]]), [spool]);
  return { spool, counts: await spool.compare() };
}

async function* batches(lines: AsyncIterable<Array<{ row: number; keyJson: string } | string>>): AsyncGenerator<Batch> {
  const builder = new BatchBuilder(BATCH, 1024 * 1024);
  let n = 0;
  for await (const group of lines) {
    for (const line of group) {
      const full = typeof line === 'string' ? builder.add(n++, line) : builder.add(line.row, line.keyJson);
      if (full) yield full;
    }
  }
  const last = builder.finish();
  if (last) yield last;
}

const QUERY = {
  keyFields: KEY,
  fields: KEY,
  mode: 'Sync',
  deduplication: 'ImportLastMatch',
  errorHandling: 'ContinueOnError',
};

async function applyAdds(client: SelligentClient, spool: MembershipSpool): Promise<number> {
  let added = 0;
  for await (const batch of batches(spool.adds())) {
    const answer = await client.loadSegment(ORG, LIST, 'seg_a', QUERY, batch.body, batch.rows.length);
    added += accountAnswer(answer.result, batch.rows.length, {
      kind: 'segment',
      stopOnError: false,
      uncertain: false,
    }).loaded;
  }
  return added;
}

async function applyRemovals(
  client: SelligentClient,
  spool: MembershipSpool,
): Promise<{ removed: number; requests: number }> {
  let removed = 0;
  let requests = 0;
  for await (const batch of batches(spool.removals())) {
    const answer = removalAsLoad(
      await client.removeSegmentMembers(
        ORG,
        LIST,
        'seg_a',
        { keyFields: KEY, fields: KEY, mode: 'Sync' },
        batch.body,
        batch.rows.length,
      ),
    );
    removed += accountAnswer(answer.result, batch.rows.length, {
      kind: 'segment',
      stopOnError: false,
      uncertain: false,
    }).loaded;
    requests++;
  }
  return { removed, requests };
}

async function withSim(
  current: number,
  work: (sim: SimulatorHandle, client: SelligentClient, directory: string) => Promise<void>,
): Promise<void> {
  const sim = await simulator({ seed: seed(current) });
  const client = newClient(sim);
  try {
    sim.resetWatermarks();
    await work(sim, client, tempDir());
  } finally {
    client.close();
    await sim.close();
  }
}

describe('load_then_remove pieces against the simulator', { concurrency: 2 }, () => {
  test('3,000 members, 1,000 leave and 1,000 join: 4 search pages, adds then removals, never below 3,000, exactly the new membership', () =>
    withSim(3_000, async (sim, client, directory) => {
      const newKeys = range(1_000, 4_000);
      const { spool, counts } = await plan(client, directory, 'run1', newKeys);
      assert.deepEqual(counts, {
        before: 3_000,
        added: 1_000,
        kept: 2_000,
        removed: 1_000,
        after: 3_000,
        repeated: 0,
        unsendable: 0,
      });
      assert.equal(sim.requestLog().filter((entry) => entry.route === 'searchSegment').length, 4);
      assert.equal(writes(sim).length, 0, 'the plan writes nothing');
      const settings = { max_segment_removal_ratio: 0.2, min_segment_members: null, force: false };
      assert.equal(
        guardDecision({
          segment: 'seg_a',
          before: counts.before,
          toRemove: counts.removed,
          after: counts.after,
          settings,
        }).verdict,
        'stop',
      );
      assert.equal(
        guardDecision({
          segment: 'seg_a',
          before: counts.before,
          toRemove: counts.removed,
          after: counts.after,
          settings: { ...settings, force: true },
        }).verdict,
        'overridden',
      );
      assert.equal(await applyAdds(client, spool), 1_000);
      const { removed, requests } = await applyRemovals(client, spool);
      assert.equal(removed, 1_000);
      assert.equal(requests, 4);
      assert.deepEqual(members(sim, 'seg_a'), newKeys);
      assert.equal(sim.watermarks()[LIST]!.seg_a!.min, 3_000);
    }));

  test('interrupted after the adds: every new member is in, some old ones remain; the next run adds nothing and converges', () =>
    withSim(3_000, async (sim, client, directory) => {
      const newKeys = range(2_500, 4_500);
      const first = await plan(client, directory, 'run1', newKeys);
      assert.equal(await applyAdds(client, first.spool), 1_500);
      // The run stops here.
      const between = members(sim, 'seg_a');
      assert.ok(newKeys.every((key) => between.includes(key)));
      assert.equal(between.length, 4_500);
      const second = await plan(client, directory, 'run2', newKeys);
      assert.deepEqual(second.counts, {
        before: 4_500,
        added: 0,
        kept: 2_000,
        removed: 2_500,
        after: 2_000,
        repeated: 0,
        unsendable: 0,
      });
      await applyAdds(client, second.spool);
      await applyRemovals(client, second.spool);
      assert.deepEqual(members(sim, 'seg_a'), newKeys);
      assert.equal(sim.watermarks()[LIST]!.seg_a!.min, 2_000);
    }));

  test('a member someone else adds after the read is not removed', () =>
    withSim(100, async (sim, client, directory) => {
      const newKeys = range(50, 120);
      const { spool, counts } = await plan(client, directory, 'run1', newKeys);
      assert.equal(counts.removed, 50);
      await client.loadSegment(ORG, LIST, 'seg_a', QUERY, Buffer.from(JSON.stringify([[id(4_999)]])), 1);
      await applyAdds(client, spool);
      await applyRemovals(client, spool);
      assert.deepEqual(members(sim, 'seg_a'), [...newKeys, id(4_999)]);
    }));
});
