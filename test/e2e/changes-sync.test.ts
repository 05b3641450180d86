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
      }));

    test('one changed value sends one List row; a Segment move under replace adds one and removes one', () =>
      withHarness(async (h) => {
        const replace = { segment_data_import_option: 'replace' };
        assert.equal((await run(h, rows(10), replace)).code, 0);
        // Someone else's member of seg_a: never removed by the exporter.
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
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C2', 'C6', 'C8']);
        assert.deepEqual(members(h.sim, 'seg_b'), ['C1', 'C3', 'C4', 'C5', 'C7', 'C9']);

        // Under replace, a Segment is never cleared while comparing: nothing to do is nothing sent.
        const again = await run(h, moved, replace);
        assert.deepEqual(again.loads, {});
        assertBalanced(again.report);
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
      }));

    test('rows Selligent rejected are not recorded, so the next run sends them again', () =>
      withHarness(async (h) => {
        const lines = rows(4);
        lines[1] = `seg_b,C1,${'x'.repeat(300)}@example.com`;
        const first = await run(h, lines, { max_rejected_rows: 1 });
        assert.equal(first.report!.accounting!.rejected, 1, first.stdout);
        assertBalanced(first.report);
        assert.equal(first.report!.changes!.generation_written, 1);
        const second = await run(h, lines, { max_rejected_rows: 1 });
        assertBalanced(second.report);
        assert.deepEqual(second.loads, { loadList: 1 });
        assert.equal(second.report!.list!.rows_sent, 1);
        assert.equal(second.report!.accounting!.rejected, 1);
        assert.equal(second.report!.accounting!.unchanged, 3);
        assert.equal(record(h.sim, 'C1'), undefined);
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
        // The fresh state is compared with from then on.
        const again = await run(h, lines, {}, [], `${HEADER},first_name`);
        assert.deepEqual(again.loads, {});
      }));

    test('--full-resync sends everything and writes a fresh state', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(4))).code, 0);
        const result = await run(h, rows(4), {}, ['--full-resync']);
        assert.equal(result.code, 0, result.stdout);
        assertBalanced(result.report);
        assert.equal(result.report!.changes!.mode, 'full-resync');
        assert.equal(result.report!.list!.rows_sent, 4);
        assert.equal(result.report!.accounting!.loaded, 4);
        assert.equal(result.report!.changes!.generation_written, 2);
        assert.deepEqual((await run(h, rows(4))).loads, {});
      }));

    test('a dry run computes the difference and writes no state', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6), { segment_data_import_option: 'replace' })).code, 0);
        const moved = rows(6);
        moved[0] = 'seg_b,C0,changed@example.com';
        const result = await run(h, moved, { segment_data_import_option: 'replace' }, ['--dry-run']);
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
      }));

    test('a run failed between List load and commit keeps the old state; the rerun converges', () =>
      withHarness(async (h) => {
        assert.equal((await run(h, rows(6))).code, 0);
        const changed = rows(6);
        changed[1] = 'seg_a,C1,moved@example.com';
        h.sim.faults.add({ route: 'loadSegment', status: 500 });
        const failed = await run(h, changed, { max_attempts: 1 });
        assert.notEqual(failed.code, 0);
        assertBalanced(failed.report);
        assert.equal(failed.report!.changes!.generation_written, null);
        assert.equal(record(h.sim, 'C1')!.EMAIL, 'moved@example.com');
        assert.equal(await generation(h), 1);
        h.sim.faults.clear();
        const rerun = await run(h, changed);
        assert.equal(rerun.code, 0, rerun.stdout);
        assertBalanced(rerun.report);
        assert.deepEqual(rerun.loads, { loadList: 1, loadSegment: 1 });
        assert.deepEqual(members(h.sim, 'seg_a'), ['C0', 'C1', 'C2', 'C4']);
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
        assert.equal(await generation(h), conflicts.length === 1 ? 2 : 3);
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
        try {
          for (const [name, damage, why] of cases) {
            await damage();
            const result = await run(h, changed);
            assert.equal(result.code, 2, `${name}: ${result.stdout}`);
            assert.deepEqual(result.loads, {}, name);
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
        assert.equal(await generation(h), 1);
      }));
  });
}

suite('local');
suite('s3');

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
