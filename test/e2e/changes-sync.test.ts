/**
 * sync_mode changes through the built CLI (npm run build first) against the simulator, with the state in
 * a local directory and on S3 (s3rver): what is sent, what is recorded, and how a bad or contested state
 * is handled. Every run's accounting balances and the simulator's final state is checked.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { assertBalanced, runCli, tempDir, writeInput, type CliResult } from '../helpers/cli.ts';
import {
  BASE_SETTINGS,
  LIST,
  ORG,
  members,
  record,
  records,
  seededList,
  selligentEnv,
  simulator,
  type SimulatorHandle,
} from '../helpers/sim.ts';
import { localStateStore } from '../../src/state/local-store.ts';
import { readState, stageState } from '../../src/state/reader.ts';
import { s3StateStore } from '../../src/state/s3-store.ts';
import type { StateStore } from '../../src/state/store.ts';
import type { RunReport } from '../../src/report/types.ts';
import { startTestS3, type TestS3Server } from '../servers/s3rver.ts';

const HEADER = 'selligent_segment,customer_identifier,email';
const LOADS = new Set(['loadList', 'loadSegment', 'deleteSegmentData', 'clearSegment']);

function rows(count: number, segment = (i: number) => (i % 2 === 0 ? 'seg_a' : 'seg_b')): string[] {
  return Array.from({ length: count }, (_, i) => `${segment(i)},C${i},c${i}@example.com`);
}

function csv(dir: string, lines: string[], header = HEADER): string {
  return writeInput(dir, 'input.csv', [header, ...lines].join('\n') + '\n');
}

/** Load requests since `from` in the request log, by route. */
function loadsSince(sim: SimulatorHandle, from: number): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const entry of sim.requestLog().slice(from))
    if (entry.route && LOADS.has(entry.route)) counts[entry.route] = (counts[entry.route] ?? 0) + 1;
  return counts;
}

/** What the simulator holds: each record's e-mail by key, and each Segment's members (sorted keys). */
interface SelligentState {
  emails: Record<string, unknown>;
  segments: Record<string, string[]>;
}

function selligentState(sim: SimulatorHandle): SelligentState {
  return {
    emails: Object.fromEntries(records(sim).map((r) => [String(r.CUSTOMER_IDENTIFIER), r.EMAIL])),
    segments: Object.fromEntries(sim.segments(ORG, LIST).map((s) => [s.api_name, members(sim, s.api_name)])),
  };
}

/** What Selligent holds once every row of `lines` (segment,key,email) was loaded, and nothing else. */
function loadedFrom(lines: string[]): SelligentState {
  const emails: Record<string, unknown> = {};
  const segments: Record<string, string[]> = {};
  for (const line of lines) {
    const [segment, key, email] = line.split(',') as [string, string, string];
    emails[key] = email;
    (segments[segment] ??= []).push(key);
  }
  for (const keys of Object.values(segments)) keys.sort();
  return { emails, segments };
}

/**
 * Changes the List in the simulator as someone working in Selligent would, behind the exporter's back:
 * `edit` changes the records and the Segments' members (record IDs, or field values a record must
 * match) in place, and the List is seeded again with the result (same record IDs, fields and key).
 */
function editInSelligent(
  sim: SimulatorHandle,
  edit: (list: {
    records: Array<Record<string, unknown>>;
    segments: Record<string, Array<number | Record<string, unknown>>>;
  }) => void,
): void {
  const types = new Map(sim.segments(ORG, LIST).map((s) => [s.api_name, s.type]));
  const list = {
    records: records(sim),
    segments: Object.fromEntries(
      [...types.keys()].map((name) => [
        name,
        sim.segmentMembers(ORG, LIST, name).map((r): number | Record<string, unknown> => r.ID as number),
      ]),
    ),
  };
  edit(list);
  sim.seed({
    lists: [
      {
        organization: ORG,
        api_name: LIST,
        fields: sim.listFields(ORG, LIST),
        records: list.records,
        segments: Object.entries(list.segments).map(([name, ids]) => ({
          api_name: name,
          type: types.get(name) ?? 'Static',
          members: ids,
        })),
        business_key: sim.businessKey(ORG, LIST) ?? null,
      },
    ],
  });
}

interface Harness {
  sim: SimulatorHandle;
  dir: string;
  stateUri: string;
  store: () => StateStore;
  env: Record<string, string | undefined>;
}

async function run(
  h: Harness,
  lines: string[],
  settings: Record<string, unknown> = {},
  args: string[] = [],
  header = HEADER,
): Promise<CliResult & { loads: Record<string, number> }> {
  const from = h.sim.requestLog().length;
  const input = csv(h.dir, lines, header);
  const result = await runCli({
    settings: { ...BASE_SETTINGS, sync_mode: 'changes', state_uri: h.stateUri, ...settings },
    input,
    args,
    env: { ...selligentEnv(h.sim), ...h.env },
  });
  return { ...result, loads: loadsSince(h.sim, from) };
}

async function generation(h: Harness): Promise<number | undefined> {
  const store = h.store();
  try {
    return (await readState(store))?.manifest.generation;
  } finally {
    await store.close();
  }
}

/** The state in force is whole: every piece present and matching its checksum. */
async function assertValidState(h: Harness): Promise<void> {
  const store = h.store();
  try {
    const state = await readState(store);
    assert.ok(state, 'a state is in force');
    await stageState(store, state, tempDir());
  } finally {
    await store.close();
  }
}

function suite(kind: 'local' | 's3'): void {
  describe(`changes-only sync, state ${kind === 'local' ? 'in a local directory' : 'on S3'}`, () => {
    let s3: TestS3Server | undefined;
    let counter = 0;
    before(async () => {
      if (kind === 's3') s3 = await startTestS3();
    });
    after(async () => {
      await s3?.close();
    });

    async function harness(): Promise<Harness> {
      const sim = await simulator({ seed: seededList() });
      const dir = tempDir();
      if (kind === 'local') {
        const stateUri = join(dir, 'state');
        return { sim, dir, stateUri, store: () => localStateStore(stateUri), env: {} };
      }
      const stateUri = `s3://${s3!.bucket}/state-${Date.now()}-${counter++}/`;
      const env = s3!.env();
      return { sim, dir, stateUri, store: () => s3StateStore(stateUri, { env }), env };
    }

    async function withHarness(work: (h: Harness) => Promise<void>): Promise<void> {
      const h = await harness();
      try {
        await work(h);
      } finally {
        await h.sim.close();
      }
    }

    /** The generation directories at the state location: the directory's own listing, or the S3 store's. */
    async function generationDirectories(h: Harness): Promise<string[]> {
      let names: string[];
      if (kind === 'local') {
        names = readdirSync(h.stateUri);
      } else {
        const store = h.store();
        try {
          names = await store.listDirectories();
        } finally {
          await store.close();
        }
      }
      return names.filter((name) => name.startsWith('gen-')).sort();
    }

    test('first run sends all and writes the state; the same input again sends nothing', () =>
      withHarness(async (h) => {
        const first = await run(h, rows(10));
        assert.equal(first.code, 0, first.stdout);
        assertBalanced(first.report);
        assert.equal(first.report!.changes!.mode, 'reset');
        assert.equal(first.report!.changes!.reset_reason, 'no state yet');
        assert.equal(first.report!.changes!.new, 10);
        assert.equal(first.report!.changes!.generation_written, 1);
        assert.equal(first.report!.accounting!.loaded, 10);
        assert.ok(first.report!.changes!.state_bytes_written! > 0);
        assert.doesNotMatch(JSON.stringify(first.report!.changes), /AWS|secret/i);

        const second = await run(h, rows(10));
        assert.equal(second.code, 0, second.stdout);
        assertBalanced(second.report);
        assert.deepEqual(second.loads, {});
        assert.equal(second.report!.changes!.mode, 'changes');
        assert.equal(second.report!.changes!.unchanged, 10);
        assert.equal(second.report!.accounting!.unchanged, 10);
        assert.equal(second.report!.accounting!.loaded, 0);
        assert.equal(second.report!.changes!.generation_read, 1);
        assert.equal(second.report!.changes!.generation_written, 2);
        assert.match(second.stdout, /10 unchanged/);
        assert.equal(records(h.sim).length, 10);
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C2', 'C4', 'C6', 'C8']);
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(10)));
      }));

    test('one changed value sends one List row; a Segment move under replace adds one and removes one', () =>
      withHarness(async (h) => {
        const replace = { segment_data_import_option: 'replace' };
        assert.equal((await run(h, rows(10), replace)).code, 0);
        // Someone else's member of seg_a: never removed by the exporter.
        editInSelligent(h.sim, (list) => {
          list.records.push({ CUSTOMER_IDENTIFIER: 'X1', EMAIL: 'x1@example.com' });
          list.segments.seg_a!.push({ CUSTOMER_IDENTIFIER: 'X1' });
        });
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C2', 'C4', 'C6', 'C8', 'X1']);
        const changed = rows(10);
        changed[3] = 'seg_b,C3,new3@example.com';
        const valueRun = await run(h, changed, replace);
        assert.equal(valueRun.code, 0, valueRun.stdout);
        assertBalanced(valueRun.report);
        assert.deepEqual(valueRun.loads, { loadList: 1 });
        assert.equal(valueRun.report!.list!.rows_sent, 1);
        assert.equal(valueRun.report!.changes!.changed, 1);
        assert.equal(valueRun.report!.changes!.unchanged, 9);
        assert.equal(record(h.sim, 'C3')!.EMAIL, 'new3@example.com');

        const moved = [...changed];
        moved[4] = 'seg_b,C4,c4@example.com';
        const moveRun = await run(h, moved, replace);
        assert.equal(moveRun.code, 0, moveRun.stdout);
        assertBalanced(moveRun.report);
        assert.deepEqual(moveRun.loads, { loadSegment: 1, deleteSegmentData: 1 });
        assert.deepEqual(moveRun.report!.changes!.segments, {
          seg_b: { added: 1, removed: 0 },
          seg_a: { added: 0, removed: 1 },
        });
        assert.equal(moveRun.report!.changes!.removal_requests, 1);
        assert.equal(moveRun.report!.accounting!.unchanged, 10);
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C2', 'C6', 'C8', 'X1']);
        assert.deepEqual(members(h.sim, 'seg_b'), ['C1', 'C3', 'C4', 'C5', 'C7', 'C9']);

        // Under replace, a Segment is never cleared while comparing: nothing to do is nothing sent.
        const again = await run(h, moved, replace);
        assert.deepEqual(again.loads, {});
        assertBalanced(again.report);
        const expected = loadedFrom(moved);
        expected.emails.X1 = 'x1@example.com';
        expected.segments.seg_a!.push('X1');
        assert.deepEqual(selligentState(h.sim), expected);
      }));

    test('a Segment move under append adds the key to its new Segment and leaves it in its old one', () =>
      withHarness(async (h) => {
        const first = await run(h, rows(6));
        assert.equal(first.code, 0, first.stdout);
        assert.equal(first.report!.settings!.segment_data_import_option, 'append');
        const moved = rows(6);
        moved[4] = 'seg_b,C4,c4@example.com';
        const result = await run(h, moved);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.deepEqual(result.loads, { loadSegment: 1 });
        assert.deepEqual(result.report!.changes!.segments, { seg_b: { added: 1, removed: 0 } });
        assert.equal(result.report!.changes!.removal_requests, 0);
        assert.equal(result.report!.changes!.unchanged, 6);
        assert.equal(result.report!.list!.rows_sent, 0);
        assert.equal(result.report!.segments.find((s) => s.api_name === 'seg_b')!.members_loaded, 1);
        // Append never removes: C4 is in both Segments now.
        assert.deepEqual(selligentState(h.sim), {
          emails: loadedFrom(moved).emails,
          segments: { seg_a: ['C0', 'C2', 'C4'], seg_b: ['C1', 'C3', 'C4', 'C5'] },
        });
        const again = await run(h, moved);
        assertBalanced(again.report);
        assert.deepEqual(again.loads, {});
      }));

    for (const [how, strategy] of [
      ['clear_then_load', {}],
      ['load_then_remove', { segment_replace_strategy: 'load_then_remove' }],
      ['a removal guard that allows it', { max_segment_removal_ratio: 0.4 }],
    ] as const)
      test(`under replace (${how}), a changes run removes the memberships it added that left the input, and none someone else added`, () =>
        withHarness(async (h) => {
          const replace = { segment_data_import_option: 'replace', ...strategy };
          assert.equal((await run(h, rows(6), replace)).code, 0);
          // Someone else puts X9 (a record the input never had) and C1 (the exporter's member of seg_b) in seg_a.
          editInSelligent(h.sim, (list) => {
            list.records.push({ CUSTOMER_IDENTIFIER: 'X9', EMAIL: 'x9@example.com' });
            list.segments.seg_a!.push({ CUSTOMER_IDENTIFIER: 'X9' }, { CUSTOMER_IDENTIFIER: 'C1' });
          });
          assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C1', 'C2', 'C4', 'X9']);
          // C2 moves from seg_a to seg_b; C5 leaves the input, and the exporter's membership of it in seg_b goes.
          const next = rows(6).slice(0, 5);
          next[2] = 'seg_b,C2,c2@example.com';
          const result = await run(h, next, replace);
          assert.equal(result.code, 0, result.stdout);
          assertBalanced(result.report);
          assert.deepEqual(result.loads, { loadSegment: 1, deleteSegmentData: 2 });
          assert.deepEqual(result.report!.changes!.segments, {
            seg_a: { added: 0, removed: 1 },
            seg_b: { added: 1, removed: 1 },
          });
          assert.equal(result.report!.changes!.removal_requests, 2);
          assert.equal(result.report!.changes!.left_input, 1);
          assert.equal(result.report!.changes!.unchanged, 5);
          assert.ok(result.report!.segments.every((s) => !s.cleared));
          const expected: SelligentState = {
            emails: { ...loadedFrom(rows(6)).emails, X9: 'x9@example.com' },
            segments: { seg_a: ['C0', 'C1', 'C4', 'X9'], seg_b: ['C1', 'C2', 'C3'] },
          };
          assert.deepEqual(selligentState(h.sim), expected);
          const again = await run(h, next, replace);
          assertBalanced(again.report);
          assert.deepEqual(again.loads, {});
          assert.deepEqual(selligentState(h.sim), expected);
        }));

    test('under replace, the removal guard holds a changes run whose input lost most of a Segment: loads sent, no member removed', () =>
      withHarness(async (h) => {
        const replace = { segment_data_import_option: 'replace', max_segment_removal_ratio: 0.5 };
        assert.equal((await run(h, rows(6), replace)).code, 0);
        // seg_a's three members (C0, C2, C4) leave the input; C1 gets a new e-mail address.
        const next = rows(6).filter((_, i) => i % 2 === 1);
        next[0] = 'seg_b,C1,c1.new@example.com';
        const held = await run(h, next, replace);
        assert.equal(held.code, 6, held.stdout);
        assertBalanced(held.report);
        assert.equal(held.report!.error!.code, 'SEGMENT_GUARD');
        assert.match(
          held.report!.error!.message,
          /seg_a: this run would remove 3 of its 3 members recorded in the state/,
        );
        assert.match(held.report!.error!.message, /no member was removed/);
        assert.deepEqual(held.loads, { loadList: 1 });
        const kept: SelligentState = {
          emails: { ...loadedFrom(rows(6)).emails, C1: 'c1.new@example.com' },
          segments: loadedFrom(rows(6)).segments,
        };
        assert.deepEqual(selligentState(h.sim), kept);

        // Intended after all: once with --force, the memberships go (and C1's row, unconfirmed, again).
        const forced = await run(h, next, replace, ['--force']);
        assert.equal(forced.code, 0, forced.stdout);
        assertBalanced(forced.report);
        assert.ok(forced.report!.warnings.some((w) => w.code === 'SEGMENT_GUARD_OVERRIDDEN'));
        assert.equal(forced.loads.deleteSegmentData, 1);
        assert.deepEqual(selligentState(h.sim), {
          emails: kept.emails,
          segments: { seg_a: [], seg_b: ['C1', 'C3', 'C5'] },
        });
        assert.deepEqual((await run(h, next, replace)).loads, {});
      }));

    test('a new Segment is created and loaded with its members only', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const next = rows(6);
        next.push('seg_new,C2,c2@example.com');
        const result = await run(h, next);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.deepEqual(result.loads, { loadSegment: 1 });
        assert.deepEqual(members(h.sim, 'seg_new'), ['C2']);
        assert.deepEqual(result.report!.changes!.segments, { seg_new: { added: 1, removed: 0 } });
        assert.equal(result.report!.accounting!.merged_duplicates, 1);
        assert.deepEqual(selligentState(h.sim), loadedFrom(next));
      }));

    test('keys that left the input stay in the List; under append their memberships stay', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const result = await run(h, rows(4));
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.deepEqual(result.loads, {});
        assert.equal(result.report!.changes!.left_input, 2);
        assert.equal(records(h.sim).length, 6);
        assert.deepEqual(members(h.sim, 'seg_b'), ['C1', 'C3', 'C5']);
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(6)));
      }));

    test('rows Selligent rejected are not recorded, so the next run sends them again', () =>
      withHarness(async (h) => {
        const lines = rows(4);
        lines[1] = `seg_b,C1,${'x'.repeat(300)}@example.com`;
        const first = await run(h, lines, { max_rejected_rows: 1 });
        assert.equal(first.code, 0, first.stdout);
        assert.equal(first.report!.status, 'partial');
        assert.equal(first.report!.accounting!.rejected, 1, first.stdout);
        assert.equal(first.report!.accounting!.loaded, 3);
        assertBalanced(first.report);
        assert.equal(first.report!.changes!.generation_written, 1);
        // Everything else arrived: the other records, and every membership but the rejected key's.
        const others: SelligentState = {
          emails: { C0: 'c0@example.com', C2: 'c2@example.com', C3: 'c3@example.com' },
          segments: { seg_a: ['C0', 'C2'], seg_b: ['C3'] },
        };
        assert.deepEqual(selligentState(h.sim), others);
        const second = await run(h, lines, { max_rejected_rows: 1 });
        assertBalanced(second.report);
        assert.deepEqual(second.loads, { loadList: 1 });
        assert.equal(second.report!.list!.rows_sent, 1);
        assert.equal(second.report!.accounting!.rejected, 1);
        assert.equal(second.report!.accounting!.unchanged, 3);
        assert.equal(second.code, 0, second.stdout);
        assert.equal(record(h.sim, 'C1'), undefined);
        assert.deepEqual(selligentState(h.sim), others);
      }));

    test('a change of the sent fields resets: a full run that says why', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        const lines = rows(4).map((line, i) => `${line},Name${i}`);
        const result = await run(h, lines, {}, [], `${HEADER},first_name`);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.equal(result.report!.changes!.mode, 'reset');
        assert.match(result.report!.changes!.reset_reason!, /fields added FIRST_NAME/);
        assert.equal(result.report!.list!.rows_sent, 4);
        assert.equal(record(h.sim, 'C2')!.FIRST_NAME, 'Name2');
        for (let i = 0; i < 4; i++) assert.equal(record(h.sim, `C${i}`)!.FIRST_NAME, `Name${i}`);
        assert.deepEqual(selligentState(h.sim), loadedFrom(lines));
        // The fresh state is compared with from then on.
        const again = await run(h, lines, {}, [], `${HEADER},first_name`);
        assertBalanced(again.report);
        assert.deepEqual(again.loads, {});
      }));

    test('--full-resync sends everything and writes a fresh state', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        // A record edited inside Selligent (which a changes run never sees), and one changed input value.
        editInSelligent(h.sim, (list) => {
          list.records.find((r) => r.CUSTOMER_IDENTIFIER === 'C2')!.EMAIL = 'edited@example.com';
        });
        const lines = rows(4);
        lines[1] = 'seg_b,C1,new1@example.com';
        const result = await run(h, lines, {}, ['--full-resync']);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.equal(result.report!.changes!.mode, 'full-resync');
        assert.equal(result.report!.list!.rows_sent, 4);
        assert.equal(result.report!.accounting!.loaded, 4);
        assert.equal(result.report!.changes!.generation_written, 2);
        assert.deepEqual(selligentState(h.sim), loadedFrom(lines));
        const next = await run(h, lines);
        assertBalanced(next.report);
        assert.deepEqual(next.loads, {});
        assert.equal(next.report!.changes!.unchanged, 4);
      }));

    test('a dry run computes the difference and writes no state; a real run then sends what it planned', () =>
      withHarness(async (h) => {
        const replace = { segment_data_import_option: 'replace' };
        assert.equal((await run(h, rows(6), replace)).code, 0);
        const moved = rows(6);
        moved[0] = 'seg_b,C0,changed@example.com';
        const before = selligentState(h.sim);
        const directories = await generationDirectories(h);
        const result = await run(h, moved, replace, ['--dry-run']);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.deepEqual(result.loads, {});
        assert.equal(result.report!.changes!.changed, 1);
        assert.equal(result.report!.changes!.generation_written, null);
        assert.equal(result.report!.plan!.list_rows, 1);
        assert.equal(result.report!.changes!.removal_requests, 1);
        assert.deepEqual(
          result.report!.plan!.segments.map((s) => [s.api_name, s.rows, s.clear]),
          [
            ['seg_a', 0, false],
            ['seg_b', 1, false],
          ],
        );
        assert.equal(await generation(h), 1);
        assert.deepEqual(selligentState(h.sim), before);
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(6)));
        assert.deepEqual(await generationDirectories(h), directories);

        // The same input for real: it sends exactly what the dry run planned.
        const plan = result.report!.plan!;
        const real = await run(h, moved, replace);
        assert.equal(real.code, 0, real.stdout);
        assertBalanced(real.report);
        assert.equal(real.report!.list!.rows_sent, plan.list_rows);
        assert.equal(real.loads.loadList ?? 0, plan.list_requests);
        for (const planned of plan.segments) {
          const sent = real.report!.segments.find((s) => s.api_name === planned.api_name);
          assert.equal(sent?.rows_sent ?? 0, planned.rows, planned.api_name);
        }
        assert.equal(
          real.loads.loadSegment ?? 0,
          plan.segments.reduce((sum, s) => sum + s.requests, 0),
        );
        assert.equal(real.loads.deleteSegmentData ?? 0, result.report!.changes!.removal_requests);
        assert.equal(real.report!.changes!.removal_requests, result.report!.changes!.removal_requests);
        assert.equal(real.loads.clearSegment, undefined);
        assert.equal(
          Object.values(real.loads).reduce((sum, n) => sum + n, 0),
          plan.requests,
        );
        const counts = ({ new: n, changed, unchanged, left_input, segments }: NonNullable<RunReport['changes']>) => ({
          new: n,
          changed,
          unchanged,
          left_input,
          segments,
        });
        assert.deepEqual(counts(real.report!.changes!), counts(result.report!.changes!));
        assert.equal(real.report!.changes!.generation_written, 2);
        assert.deepEqual(selligentState(h.sim), loadedFrom(moved));
      }));

    test('a run failed between List load and commit puts the old state in force again with the rows it sent unconfirmed', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const changed = rows(6);
        changed[1] = 'seg_a,C1,moved@example.com';
        h.sim.faults.add({ route: 'loadSegment', status: 500 });
        const failed = await run(h, changed, { max_attempts: 1 });
        assert.notEqual(failed.code, 0);
        assertBalanced(failed.report);
        assert.equal(failed.report!.changes!.commit_error, null);
        // The state compared with, in force again as generation 2 (not the failed run's own).
        assert.equal(failed.report!.changes!.generation_written, 2);
        assert.equal(await generation(h), 2);
        await assertValidState(h);
        assert.equal(record(h.sim, 'C1')!.EMAIL, 'moved@example.com');
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C2', 'C4']);
        h.sim.faults.clear();

        // The input changed back to what the state records: C1's row, sent and not confirmed, goes again.
        const back = await run(h, rows(6));
        assert.equal(back.code, 0, back.stdout);
        assertBalanced(back.report);
        assert.deepEqual(back.loads, { loadList: 1 });
        assert.equal(back.report!.changes!.changed, 1);
        assert.equal(back.report!.changes!.unchanged, 5);
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(6)));

        const rerun = await run(h, changed);
        assert.equal(rerun.code, 0, rerun.stdout);
        assertBalanced(rerun.report);
        assert.deepEqual(rerun.loads, { loadList: 1, loadSegment: 1 });
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C1', 'C2', 'C4']);
        // Under append, C1 stays in seg_b too.
        assert.deepEqual(selligentState(h.sim), {
          emails: loadedFrom(changed).emails,
          segments: { seg_a: ['C0', 'C1', 'C2', 'C4'], seg_b: ['C1', 'C3', 'C5'] },
        });
        assert.deepEqual((await run(h, changed)).loads, {});
      }));

    test('a run killed after its List load keeps the old state; the rerun converges', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const changed = rows(6).map((line) => line.replace('@example.com', '@example.org'));
        changed[1] = 'seg_a,C1,c1@example.org';
        // Segment loads answer late: the kill lands once the List load is answered, before the commit.
        h.sim.faults.add({ route: 'loadSegment', delayMs: 4_000 });
        const from = h.sim.requestLog().length;
        const input = csv(h.dir, changed);
        const killed = await runCli({
          settings: { ...BASE_SETTINGS, sync_mode: 'changes', state_uri: h.stateUri },
          input,
          env: { ...selligentEnv(h.sim), ...h.env },
          onStart: (child) => {
            const timer = setInterval(() => {
              if (
                h.sim
                  .requestLog()
                  .slice(from)
                  .some((entry) => entry.route === 'loadList')
              ) {
                clearInterval(timer);
                // The CLI runs the export in a child process of its own: both die at once, as in a lost container.
                for (const pid of execFileSync('pgrep', ['-P', String(child.pid)], { encoding: 'utf8' }).split('\n'))
                  if (pid.trim()) process.kill(Number(pid), 'SIGKILL');
                child.kill('SIGKILL');
              }
            }, 20);
          },
        });
        assert.equal(killed.signal, 'SIGKILL');
        assert.equal(await generation(h), 1);
        h.sim.faults.clear();
        const rerun = await run(h, changed);
        assert.equal(rerun.code, 0, rerun.stdout);
        assertBalanced(rerun.report);
        assert.equal(rerun.report!.changes!.changed, 6);
        // Request counts vary when a slow answer makes the client split a batch: the rows are what count.
        assert.equal(rerun.report!.accounting!.loaded, 6);
        assert.equal(rerun.report!.segments.find((s) => s.api_name === 'seg_a')!.members_loaded, 1);
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C1', 'C2', 'C4']);
        assert.equal(record(h.sim, 'C5')!.EMAIL, 'c5@example.org');
        assert.deepEqual(selligentState(h.sim), {
          emails: loadedFrom(changed).emails,
          segments: { seg_a: ['C0', 'C1', 'C2', 'C4'], seg_b: ['C1', 'C3', 'C5'] },
        });
        assert.deepEqual((await run(h, changed)).loads, {});
      }));

    test('two runs at once leave a valid state, and the loser says so', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const a = rows(6).map((line) => line.replace('@example.com', '@a.example'));
        const b = rows(6).map((line) => line.replace('@example.com', '@b.example'));
        const dirA = tempDir();
        const dirB = tempDir();
        const [ra, rb] = await Promise.all([run({ ...h, dir: dirA }, a), run({ ...h, dir: dirB }, b)]);
        for (const r of [ra, rb]) {
          assert.equal(r.code, 0, r.stdout);
          assertBalanced(r.report);
        }
        const conflicts = [ra, rb].filter((r) => r.report!.changes!.commit_error !== null);
        for (const r of conflicts) {
          assert.match(r.report!.changes!.commit_error!, /^STATE_CONFLICT/);
          assert.equal(r.report!.changes!.generation_written, null);
          assert.ok(r.report!.warnings.some((w) => w.code === 'STATE_CONFLICT'));
        }
        assert.ok(conflicts.length <= 1);
        await assertValidState(h);
        // Both read generation 1 and one lost (generation 2 in force), or one read the other's commit (3).
        const inForce = await generation(h);
        assert.equal(inForce, conflicts.length === 1 ? 2 : 3);
        if (conflicts.length === 1) {
          const winner = [ra, rb].find((r) => r.report!.changes!.commit_error === null)!;
          assert.equal(winner.report!.changes!.generation_written, inForce);
        }
        // Each record holds one run's value; the memberships are the same in both inputs.
        const held = selligentState(h.sim);
        assert.deepEqual(Object.keys(held.emails).sort(), ['C0', 'C1', 'C2', 'C3', 'C4', 'C5']);
        for (let i = 0; i < 6; i++)
          assert.ok([`c${i}@a.example`, `c${i}@b.example`].includes(String(held.emails[`C${i}`])), `C${i}`);
        assert.deepEqual(held.segments, loadedFrom(a).segments);
        // A loser sent every row (all changed), so it marked the state in force: the next run sends every row.
        const store = h.store();
        let marked: Awaited<ReturnType<typeof readState>>;
        try {
          marked = await readState(store);
        } finally {
          await store.close();
        }
        assert.ok(marked, 'a state is in force');
        if (conflicts.length > 0) {
          assert.ok(marked.resyncRequired, 'the loser marked the state in force');
          assert.match(marked.resyncRequired.reason, /lost the race/);
        } else {
          assert.equal(marked.resyncRequired, undefined);
        }

        const next = await run(h, a);
        assert.equal(next.code, 0, next.stdout);
        assertBalanced(next.report);
        if (marked.resyncRequired) {
          assert.equal(next.report!.changes!.mode, 'reset');
          assert.equal(next.report!.accounting!.loaded, 6);
        } else {
          assert.equal(next.report!.changes!.mode, 'changes');
        }
        assert.deepEqual(selligentState(h.sim), loadedFrom(a));
        await assertValidState(h);
      }));

    test('a run that loses the race after writing marks the state in force, and the next run sends every row', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const a = rows(6).map((line) => line.replace('@example.com', '@a.example'));
        const b = rows(6).map((line) => line.replace('@example.com', '@b.example'));
        // A's List load is answered 503 after 8 s, so B reads the same state, loads and commits first;
        // A's retry then lands after B's rows: Selligent holds A's values, the state in force B's.
        h.sim.faults.add({ route: 'loadList', status: 503, delayMs: 8000, times: 1, headers: { 'Retry-After': '1' } });
        const slow = run({ ...h, dir: tempDir() }, a);
        for (let waited = 0; h.sim.faults.list().length > 0; waited += 50) {
          assert.ok(waited < 60_000, 'the slow run reached its List load');
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        const winner = await run({ ...h, dir: tempDir() }, b);
        assert.equal(winner.code, 0, winner.stdout);
        assert.equal(winner.report!.changes!.commit_error, null);
        const loser = await slow;
        assert.equal(loser.code, 0, loser.stdout);
        assertBalanced(loser.report);
        assert.match(loser.report!.changes!.commit_error!, /^STATE_CONFLICT: .*the state in force is marked/);
        assert.equal(record(h.sim, 'C0')!.EMAIL, 'c0@a.example');
        const store = h.store();
        try {
          const marked = (await readState(store))!;
          assert.equal(marked.manifest.generation, 2);
          assert.match(marked.resyncRequired!.reason, /lost the race/);
        } finally {
          await store.close();
        }

        // Without the mark, B's input would send nothing and Selligent would keep A's values.
        const next = await run(h, b);
        assert.equal(next.code, 0, next.stdout);
        assertBalanced(next.report);
        assert.equal(next.report!.changes!.mode, 'reset');
        assert.match(next.report!.changes!.reset_reason!, /^resync required since .*lost the race/);
        assert.equal(next.report!.accounting!.loaded, 6);
        for (let i = 0; i < 6; i++) assert.equal(record(h.sim, `C${i}`)!.EMAIL, `c${i}@b.example`);
        assert.deepEqual(selligentState(h.sim), loadedFrom(b));
        assert.equal(await generation(h), 3);
        const again = await run(h, b);
        assert.deepEqual(again.loads, {});
        assert.equal(again.report!.changes!.mode, 'changes');
      }));

    test('a corrupt, truncated or version-mismatched state stops with exit 2 and writes nothing', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        const changed = rows(4).map((line) => line.replace('@example.com', '@example.net'));
        const store = h.store();
        const state = (await readState(store))!;
        const piece = `${state.manifest.directory}/${state.manifest.pieces.find((p) => p.rows > 0)!.file}`;
        const original = (await store.get(piece))!;
        const manifestName = `${state.manifest.directory}/manifest.json`;
        const manifest = (await store.get(manifestName))!;
        const cases: Array<[string, () => Promise<void>, RegExp]> = [
          ['corrupt', () => store.put(piece, Buffer.from(original).fill(7, 20, 30)), /SHA-256|gzip|bytes/],
          ['truncated', () => store.put(piece, original.subarray(0, original.length - 5)), /bytes, the manifest says/],
          [
            'version',
            () =>
              store.put(
                manifestName,
                Buffer.from(manifest.toString('utf8').replace('"format_version": 1', '"format_version": 99')),
              ),
            /format version 99/,
          ],
        ];
        const directories = await generationDirectories(h);
        assert.equal(directories.length, 1);
        try {
          for (const [name, damage, why] of cases) {
            await damage();
            const result = await run(h, changed);
            assert.equal(result.code, 2, `${name}: ${result.stdout}`);
            assert.deepEqual(result.loads, {}, name);
            // Stopped after reading the input, before any write: every row counted, none loaded.
            assertBalanced(result.report);
            assert.equal(result.report!.accounting!.input_rows, 4, name);
            assert.equal(result.report!.accounting!.loaded, 0, name);
            assert.deepEqual(result.report!.accounting!.not_applied_by_reason, { not_sent: 4 }, name);
            assert.equal(result.report!.list?.rows_sent ?? 0, 0, name);
            assert.deepEqual(await generationDirectories(h), directories, name);
            assert.match(result.report!.error!.message, why, name);
            assert.match(result.report!.error!.message, /--full-resync/, name);
            assert.ok(result.report!.error!.message.includes(kind === 'local' ? h.stateUri : 's3://'), name);
            await store.put(piece, original);
            await store.put(manifestName, manifest);
          }
        } finally {
          await store.close();
        }
        assert.equal(record(h.sim, 'C0')!.EMAIL, 'c0@example.com');
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(4)));
        assert.equal(await generation(h), 1);
      }));

    test('a --full-resync that fails after writing marks the state in force, and the next run sends every row', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        const changed = rows(4).map((line) => line.replace('@example.com', '@example.net'));
        h.sim.faults.add({ route: 'loadSegment', status: 500 });
        const failed = await run(h, changed, { max_attempts: 1 }, ['--full-resync']);
        assert.notEqual(failed.code, 0);
        assertBalanced(failed.report);
        assert.equal(failed.report!.changes!.generation_written, null);
        assert.equal(record(h.sim, 'C0')!.EMAIL, 'c0@example.net');
        const store = h.store();
        try {
          assert.match((await readState(store))!.resyncRequired!.reason, /sent every row failed/);
        } finally {
          await store.close();
        }
        h.sim.faults.clear();
        // The first run's input again: Selligent holds the failed run's values, so every row goes.
        const next = await run(h, rows(4));
        assert.equal(next.code, 0, next.stdout);
        assertBalanced(next.report);
        assert.equal(next.report!.changes!.mode, 'reset');
        assert.match(next.report!.changes!.reset_reason!, /^resync required since .*sent every row failed/);
        assert.equal(next.report!.accounting!.loaded, 4);
        assert.deepEqual(selligentState(h.sim), loadedFrom(rows(4)));
        assert.deepEqual((await run(h, rows(4))).loads, {});
      }));

    test('--full-resync over a corrupt state sends every row and writes a fresh state the next run compares with', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        const store = h.store();
        try {
          const state = (await readState(store))!;
          const piece = `${state.manifest.directory}/${state.manifest.pieces.find((p) => p.rows > 0)!.file}`;
          const original = (await store.get(piece))!;
          await store.put(piece, Buffer.from(original).fill(7, 20, 30));
        } finally {
          await store.close();
        }
        const changed = rows(4).map((line) => line.replace('@example.com', '@example.net'));
        const resync = await run(h, changed, {}, ['--full-resync']);
        assert.equal(resync.code, 0, resync.stdout);
        assertBalanced(resync.report);
        assert.equal(resync.report!.changes!.mode, 'full-resync');
        assert.equal(resync.report!.changes!.commit_error, null);
        assert.equal(resync.report!.list!.rows_sent, 4);
        assert.equal(resync.report!.accounting!.loaded, 4);
        assert.deepEqual(resync.loads, { loadList: 1, loadSegment: 2 });
        assert.equal(resync.report!.changes!.generation_written, 2);
        assert.equal(await generation(h), 2);
        await assertValidState(h);
        assert.deepEqual(selligentState(h.sim), loadedFrom(changed));

        const next = await run(h, changed);
        assert.equal(next.code, 0, next.stdout);
        assertBalanced(next.report);
        assert.deepEqual(next.loads, {});
        assert.equal(next.report!.changes!.mode, 'changes');
        assert.equal(next.report!.changes!.generation_read, 2);
        assert.equal(next.report!.changes!.unchanged, 4);
      }));
  });
}

// The two stores' suites run side by side: each test has its own simulator and state location.
describe('changes-only sync, both stores', { concurrency: 2 }, () => {
  suite('local');
  suite('s3');
});

test('a local state directory holds a pointer and the last two generations only', async () => {
  const sim = await simulator({ seed: seededList() });
  try {
    const dir = tempDir();
    const stateUri = join(dir, 'state');
    const h: Harness = { sim, dir, stateUri, store: () => localStateStore(stateUri), env: {} };
    for (let i = 0; i < 4; i++) assert.equal((await run(h, rows(3 + i))).code, 0);
    const entries = readdirSync(stateUri).sort();
    assert.equal(entries.filter((name) => name.startsWith('gen-')).length, 2);
    assert.ok(entries.includes('CURRENT.json'));
    assert.match(readFileSync(join(stateUri, 'CURRENT.json'), 'utf8'), /"generation": 4/);
  } finally {
    await sim.close();
  }
});
