import { test } from 'node:test';
import assert from 'node:assert/strict';
import { benchCases } from '../../scripts/bench/cases.ts';
import { parseOptions } from '../../scripts/bench/options.ts';
import {
  REPLACE_SEGMENT,
  replaceComparison,
  replaceFigures,
  replaceInputLines,
  replacePlan,
  replaceSeedText,
} from '../../scripts/bench/replace-case.ts';
import type { RequestLogEntry } from '../../scripts/bench/simulator-process.ts';
import { replaceTargets } from '../../scripts/bench/targets.ts';
import type { ExporterReport } from '../../scripts/bench/types.ts';

test('--replace-members: both strategies as cases, replace settings, churn 0.05 unless given', () => {
  const p = parseOptions(['--replace-members', '1_000']);
  assert.equal(p.replaceMembers, 1000);
  assert.equal(p.replaceChurn, 0.05);
  const cases = benchCases(p, true);
  assert.deepEqual(
    cases.map((c) => [c.name, c.settings, c.tag]),
    [
      [
        'clear_then_load',
        { segment_data_import_option: 'replace', segment_replace_strategy: 'clear_then_load' },
        { replaceStrategy: 'clear_then_load' },
      ],
      [
        'load_then_remove',
        { segment_data_import_option: 'replace', segment_replace_strategy: 'load_then_remove' },
        { replaceStrategy: 'load_then_remove' },
      ],
    ],
  );
  assert.ok(cases.every((c) => c.prepare && c.finish));
  assert.equal(parseOptions(['--replace-members', '10', '--replace-churn', '0.2']).replaceChurn, 0.2);
  assert.equal(parseOptions([]).replaceMembers, undefined);
});

test('--replace-churn alone, out of range, or with --realistic is refused', () => {
  assert.throws(() => parseOptions(['--replace-churn', '0.1']), /needs --replace-members/);
  assert.throws(() => parseOptions(['--replace-members', '10', '--replace-churn', '1.5']), /from 0 to 1/);
  assert.throws(() => parseOptions(['--replace-members', '0']), /--replace-members must be/);
  assert.throws(() => parseOptions(['--replace-members', '10', '--realistic']), /do not go together/);
});

test('the input is the members shifted by the churn: the first F*N leave, as many new keys join', () => {
  assert.deepEqual(replacePlan({ members: 20, churn: 0.1 }), {
    leaving: 2,
    joining: 2,
    inputFrom: 2,
    inputTo: 22,
    after: 20,
    floor: 20,
  });
  assert.deepEqual(replacePlan({ members: 3, churn: 0 }).inputFrom, 0);
  assert.deepEqual(
    [...replaceInputLines(2, 4)],
    [
      `${REPLACE_SEGMENT},C000000002,c000000002@example.com\n`,
      `${REPLACE_SEGMENT},C000000003,c000000003@example.com\n`,
    ],
  );
});

test('the seed: a record per member now (keys 0 .. N-1, IDs from 1) and the Segment holding them all', () => {
  const seed = JSON.parse([...replaceSeedText(3)].join('')) as {
    lists: Array<{
      records: Array<Record<string, unknown>>;
      segments: Array<{ api_name: string; members: number[] }>;
      business_key: string[];
    }>;
  };
  const list = seed.lists[0]!;
  assert.deepEqual(list.records, [
    { ID: 1, CUSTOMER_IDENTIFIER: 'C000000000', EMAIL: 'c000000000@example.com' },
    { ID: 2, CUSTOMER_IDENTIFIER: 'C000000001', EMAIL: 'c000000001@example.com' },
    { ID: 3, CUSTOMER_IDENTIFIER: 'C000000002', EMAIL: 'c000000002@example.com' },
  ]);
  assert.deepEqual(list.segments, [{ api_name: REPLACE_SEGMENT, members: [1, 2, 3] }]);
  assert.deepEqual(list.business_key, ['CUSTOMER_IDENTIFIER']);
  // Several chunks join into one document.
  const big = JSON.parse([...replaceSeedText(25_001)].join('')) as typeof seed;
  assert.equal(big.lists[0]!.records.length, 25_001);
  assert.equal(big.lists[0]!.segments[0]!.members.at(-1), 25_001);
});

const entry = (route: string | null): RequestLogEntry => ({
  method: 'POST',
  path: '/',
  status: 200,
  durationMs: 1,
  requestBytes: 1,
  responseBytes: 1,
  startedAt: '2026-01-01T00:00:00Z',
  route,
});

function report(replace: Record<string, number> | undefined): ExporterReport {
  return { segments: [{ api_name: REPLACE_SEGMENT, replace }] } as unknown as ExporterReport;
}

test('figures: requests by route from the simulator log, the report, and the watermark against min(old, new)', () => {
  const log = [
    ...Array.from({ length: 11 }, () => entry('searchSegment')),
    entry('loadList'),
    entry('loadList'),
    entry('loadSegment'),
    entry('deleteSegmentData'),
    entry('getList'),
  ];
  const figures = replaceFigures(
    'load_then_remove',
    { members: 10_000, churn: 0.05 },
    report({ members_before: 10_000, added: 500, removed: 500, after: 10_000 }),
    log,
    { min: 10_000, current: 10_000 },
  );
  assert.deepEqual(figures, {
    strategy: 'load_then_remove',
    members: 10_000,
    churn: 0.05,
    leaving: 500,
    joining: 500,
    requests: { total: 16, searchPages: 11, listLoads: 2, clears: 0, segmentLoads: 1, removals: 1 },
    reported: { before: 10_000, added: 500, removed: 500, after: 10_000 },
    membersAfter: 10_000,
    membersAfterExpected: 10_000,
    lowestMembers: 10_000,
    floor: 10_000,
    neverBelowFloor: true,
  });
  const cleared = replaceFigures(
    'clear_then_load',
    { members: 10_000, churn: 0.05 },
    report(undefined),
    [entry('clearSegment'), entry('loadSegment')],
    { min: 0, current: 10_000 },
  );
  assert.deepEqual([cleared.reported, cleared.lowestMembers, cleared.neverBelowFloor], [null, 0, false]);
  assert.equal(
    replaceFigures('clear_then_load', { members: 1, churn: 0 }, report(undefined), [], null).neverBelowFloor,
    null,
  );
});

test('comparison and targets: medians per strategy, ratios, RSS within 300 MB, the floor held and the clear seen', () => {
  const run = (strategy: string, total: number, wall: number, rss: number, lowest: number) => ({
    wallSeconds: wall,
    peakRssMb: rss,
    peakRssAllProcessesMb: rss + 40,
    replace: {
      strategy,
      requests: { total },
      lowestMembers: lowest,
      floor: 100,
      neverBelowFloor: lowest >= 100,
      membersAfter: 100,
      membersAfterExpected: 100,
    },
  });
  const comparison = replaceComparison({
    clear_then_load: [run('clear_then_load', 10, 4, 150, 0), run('clear_then_load', 10, 6, 170, 0)],
    load_then_remove: [run('load_then_remove', 25, 10, 280, 100)],
  });
  assert.equal(comparison.clear_then_load.runs, 2);
  assert.equal(comparison.clear_then_load.median.wallSeconds, 5);
  assert.deepEqual(comparison.loadThenRemoveOverClearThenLoad, { requests: 2.5, wallSeconds: 2, peakRssMb: 1.75 });
  const targets = replaceTargets(comparison);
  assert.deepEqual(
    targets.map((t) => [t.name, t.value, t.met]),
    [
      ['peak RSS, clear_then_load', 200, true],
      ['peak RSS, load_then_remove', 320, false],
      ['lowest members, load_then_remove', 100, true],
      ['lowest members, clear_then_load', 0, true],
    ],
  );
});
