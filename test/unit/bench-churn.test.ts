import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  churnKind,
  churnLine,
  churnRatios,
  churnRunFigures,
  keyDraw,
  lineKeyId,
  loadRequests,
  newKeyCount,
  newKeyLine,
  type ChurnRunFigures,
} from '../../scripts/bench/churn-case.ts';
import { parseOptions } from '../../scripts/bench/options.ts';
import { churnTargets } from '../../scripts/bench/targets.ts';

const SEGMENTS = ['seg_01_vip', 'seg_02_loyal', 'seg_03_new_customers'];

test('--churn F and --state-s3 are parsed, and refused out of range or alone', () => {
  assert.equal(parseOptions(['--churn', '0.01']).churn, 0.01);
  assert.equal(parseOptions([]).churn, undefined);
  assert.equal(parseOptions(['--churn', '0', '--state-s3']).stateS3, true);
  assert.throws(() => parseOptions(['--churn', '1.5']), /--churn must be a fraction from 0 to 1/);
  assert.throws(() => parseOptions(['--churn', 'x']), /--churn/);
  assert.throws(() => parseOptions(['--state-s3']), /--state-s3 goes with --churn/);
});

test('each key draws the same every time, and about F of the keys change in the stated shares', () => {
  assert.equal(keyDraw(123, 1), keyDraw(123, 1));
  assert.notEqual(keyDraw(123, 1), keyDraw(123, 2));
  const counts = { value: 0, move: 0, gone: 0, none: 0 };
  const keys = 200_000;
  for (let id = 1; id <= keys; id++) counts[churnKind(id, 1, 0.01) ?? 'none']++;
  const changed = keys - counts.none;
  // 85 % of F changes existing keys (15 % of F are new keys, appended).
  assert.ok(Math.abs(changed / keys - 0.0085) < 0.001, `changed share ${changed / keys}`);
  assert.ok(Math.abs(counts.value / changed - 0.5 / 0.85) < 0.03, `value share ${counts.value / changed}`);
  assert.ok(Math.abs(counts.move / changed - 0.2 / 0.85) < 0.03, `move share ${counts.move / changed}`);
  assert.ok(Math.abs(counts.gone / changed - 0.15 / 0.85) < 0.03, `gone share ${counts.gone / changed}`);
  assert.equal(newKeyCount(1_000_000, 0.01), 1_500);
});

test('F = 0 changes nothing, and the ids of invalid rows never change', () => {
  for (let id = 1; id <= 10_000; id++) assert.equal(churnKind(id, 1, 0), undefined);
  for (let id = 900_000_001; id <= 900_001_000; id++) assert.equal(churnKind(id, 1, 1), undefined);
  assert.ok(churnKind(5, 1, 1) !== undefined);
});

test('a churned line: another lifetime_value, the next Segment, or gone; the other columns as they were', () => {
  const quoted = 'seg_02_loyal,C000000042,mei.42@example.com,"Garcia, Mei ""Me""",12.50,2024-01-02 03:04:05,true';
  assert.equal(
    churnLine(quoted, 'value', SEGMENTS),
    'seg_02_loyal,C000000042,mei.42@example.com,"Garcia, Mei ""Me""",13.50,2024-01-02 03:04:05,true',
  );
  assert.equal(
    churnLine(quoted, 'move', SEGMENTS),
    'seg_03_new_customers,C000000042,mei.42@example.com,"Garcia, Mei ""Me""",12.50,2024-01-02 03:04:05,true',
  );
  assert.equal(churnLine('seg_03_new_customers,C1,a@b,Dan,,,false', 'move', SEGMENTS)?.split(',')[0], 'seg_01_vip');
  assert.equal(
    churnLine('seg_01_vip,C000000007,a@b,Dan,,,false', 'value', SEGMENTS),
    'seg_01_vip,C000000007,a@b,Dan,1.00,,false',
  );
  assert.equal(churnLine(quoted, 'gone', SEGMENTS), null);
  assert.equal(lineKeyId(quoted), 42);
  assert.equal(lineKeyId('seg_01_vip,,a@b,Dan,,,false'), undefined);
  assert.match(newKeyLine(1_000_001, SEGMENTS), /^seg_\d\d_\w+,C001000001,new\.1000001@example\.com,Nova,\d+\.\d\d,/);
});

test('load requests by kind from the simulator log; answers 429 loaded nothing and are left out', () => {
  const log = [
    { route: 'loadList', status: 200 },
    { route: 'loadList', status: 429 },
    { route: 'loadSegment', status: 200 },
    { route: 'loadSegment', status: 200 },
    { route: 'deleteSegmentData', status: 200 },
    { route: 'createSegment', status: 201 },
    { route: null, status: 404 },
  ];
  assert.deepEqual(loadRequests(log), { list: 1, segment: 2, removal: 1, total: 4 });
});

function runFigures(
  total: { list: number; segment: number; removal: number },
  wall: number,
  read: number,
  rss: number,
): ChurnRunFigures {
  const sum = total.list + total.segment + total.removal;
  return churnRunFigures(
    { wallSeconds: wall, stages: { read: { seconds: read } }, peakRssMb: rss - 10, peakRssAllProcessesMb: rss },
    { durations_seconds: { read, list_load: 1.23456, total: read + 10 }, changes: null },
    { ...total, total: sum },
    1_000,
  );
}

test('the figures of a run: the larger RSS, stages rounded, state bytes per row only with a state written', () => {
  const f = runFigures({ list: 200, segment: 220, removal: 0 }, 100, 40, 180);
  assert.equal(f.peakRssMb, 180);
  assert.equal(f.stages.list_load, 1.235);
  // The state's write and commit come after the last stage: the report's total less its stages.
  assert.equal(f.afterStagesSeconds, 8.765);
  assert.equal(f.stateBytesPerRow, null);
  const withState = churnRunFigures(
    { wallSeconds: 1, stages: { read: { seconds: 1 } }, peakRssMb: 1, peakRssAllProcessesMb: null },
    { durations_seconds: {}, changes: { state_bytes_written: 23_456 } as never },
    { list: 0, segment: 0, removal: 0, total: 0 },
    1_000,
  );
  assert.equal(withState.stateBytesPerRow, 23.46);
});

test('the ratios and the targets: requests within 2 % at F = 0.01, wall within 1.3x the read stage, RSS', () => {
  const first = runFigures({ list: 200, segment: 220, removal: 0 }, 100, 40, 180);
  const second = runFigures({ list: 2, segment: 6, removal: 0 }, 50, 38, 190);
  assert.deepEqual(churnRatios(first, second), {
    loadRequests: 0.019,
    secondWallOverFirstRead: 1.25,
    secondWallOverFirstWall: 0.5,
  });
  const t = churnTargets({ rows: 1_000_000, churn: 0.01 }, first, second, null);
  assert.deepEqual(
    t.map((x) => [x.name, x.met]),
    [
      ['changes: second-run / first-run load requests', true],
      ['changes: second-run wall / first-run read stage', true],
      ['changes: peak RSS, both runs', true],
      ['changes: state bytes per row', null],
    ],
  );
  const slow = runFigures({ list: 5, segment: 6, removal: 0 }, 80, 38, 320);
  const t2 = churnTargets({ rows: 3_000_000, churn: 0.01 }, first, slow, { mb: 260, file: '.bench/results/x.json' });
  assert.deepEqual(
    t2.map((x) => [x.name, x.met]),
    [
      ['changes: second-run / first-run load requests', false],
      ['changes: second-run wall / first-run read stage', false],
      ['changes: peak RSS, both runs', false],
      ['changes: peak RSS vs 1M rows', true],
      ['changes: state bytes per row', null],
    ],
  );
  // At another F the request ratio is reported, not judged; at F = 0 any load request fails.
  assert.equal(churnTargets({ rows: 1_000, churn: 0.05 }, first, second, null)[0]?.met, null);
  const zero = churnTargets({ rows: 1_000, churn: 0 }, first, second, null)[0];
  assert.deepEqual([zero?.name, zero?.value, zero?.met], ['changes: load requests at F = 0', 8, false]);
});
