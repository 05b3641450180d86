import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { guardDecision, segmentGuardError, type GuardSettings } from '../../src/pipeline/segment-guard.js';

const NONE: GuardSettings = { max_segment_removal_ratio: null, min_segment_members: null, force: false };

describe('guardDecision', () => {
  it('passes everything when no limit is set', () => {
    assert.deepEqual(
      guardDecision({ segment: 'seg_a', before: 1_000_000, toRemove: 1_000_000, after: 0, settings: NONE }),
      { verdict: 'ok' },
    );
  });

  it('ratio: stops a removal of more than the share, naming the Segment and both numbers', () => {
    const decision = guardDecision({
      segment: 'seg_a',
      before: 2_000_000,
      toRemove: 1_999_800,
      after: 200,
      settings: { ...NONE, max_segment_removal_ratio: 0.2 },
    });
    assert.deepEqual(decision, {
      verdict: 'stop',
      message:
        'Segment seg_a: this run would remove 1999800 of its 2000000 current members (99.9%), more than max_segment_removal_ratio 0.2 allows (400000)',
    });
  });

  it('ratio: exactly at the boundary passes, one more stops', () => {
    const settings = { ...NONE, max_segment_removal_ratio: 0.1 };
    assert.equal(guardDecision({ segment: 's', before: 30, toRemove: 3, after: 27, settings }).verdict, 'ok');
    assert.equal(guardDecision({ segment: 's', before: 30, toRemove: 4, after: 26, settings }).verdict, 'stop');
    // 0.29 x 100 is 28.999... in floating point: 29 removals are still within the ratio.
    assert.equal(
      guardDecision({
        segment: 's',
        before: 100,
        toRemove: 29,
        after: 71,
        settings: { ...NONE, max_segment_removal_ratio: 0.29 },
      }).verdict,
      'ok',
    );
    assert.equal(
      guardDecision({
        segment: 's',
        before: 100,
        toRemove: 30,
        after: 70,
        settings: { ...NONE, max_segment_removal_ratio: 0.29 },
      }).verdict,
      'stop',
    );
    assert.equal(
      guardDecision({
        segment: 's',
        before: 10,
        toRemove: 0,
        after: 10,
        settings: { ...NONE, max_segment_removal_ratio: 0 },
      }).verdict,
      'ok',
    );
    assert.equal(
      guardDecision({
        segment: 's',
        before: 10,
        toRemove: 1,
        after: 9,
        settings: { ...NONE, max_segment_removal_ratio: 0 },
      }).verdict,
      'stop',
    );
    assert.equal(
      guardDecision({
        segment: 's',
        before: 10,
        toRemove: 10,
        after: 0,
        settings: { ...NONE, max_segment_removal_ratio: 1 },
      }).verdict,
      'ok',
    );
  });

  it('minimum: stops a run that leaves fewer members than the minimum; exactly the minimum passes', () => {
    const settings = { ...NONE, min_segment_members: 500 };
    assert.deepEqual(guardDecision({ segment: 'vip', before: 1_000, toRemove: 900, after: 100, settings }), {
      verdict: 'stop',
      message: 'Segment vip: this run would leave it 100 members (it has 1000), fewer than min_segment_members 500',
    });
    assert.equal(guardDecision({ segment: 'vip', before: 1_000, toRemove: 500, after: 500, settings }).verdict, 'ok');
    assert.equal(guardDecision({ segment: 'vip', before: 1_000, toRemove: 501, after: 499, settings }).verdict, 'stop');
  });

  it('minimum: a Segment already below it that does not shrink is not stopped', () => {
    const settings = { ...NONE, min_segment_members: 500 };
    assert.equal(guardDecision({ segment: 's', before: 50, toRemove: 5, after: 60, settings }).verdict, 'ok');
    assert.equal(guardDecision({ segment: 's', before: 50, toRemove: 0, after: 50, settings }).verdict, 'ok');
    assert.equal(guardDecision({ segment: 's', before: 50, toRemove: 10, after: 40, settings }).verdict, 'stop');
  });

  it('both limits broken: one message with both reasons', () => {
    const decision = guardDecision({
      segment: 'seg_b',
      before: 1_000,
      toRemove: 990,
      after: 10,
      settings: { ...NONE, max_segment_removal_ratio: 0.5, min_segment_members: 100 },
    });
    assert.deepEqual(decision, {
      verdict: 'stop',
      message:
        'Segment seg_b: this run would remove 990 of its 1000 current members (99%), more than max_segment_removal_ratio 0.5 allows (500), and would leave it 10 members (it has 1000), fewer than min_segment_members 100',
    });
    assert.equal(
      guardDecision({
        segment: 'seg_b',
        before: 1_000,
        toRemove: 400,
        after: 600,
        settings: { ...NONE, max_segment_removal_ratio: 0.5, min_segment_members: 100 },
      }).verdict,
      'ok',
    );
  });

  it('force: what would stop is let through and said so', () => {
    const decision = guardDecision({
      segment: 'seg_a',
      before: 100,
      toRemove: 90,
      after: 10,
      settings: { max_segment_removal_ratio: 0.5, min_segment_members: null, force: true },
    });
    assert.deepEqual(decision, {
      verdict: 'overridden',
      message:
        'Segment seg_a: this run would remove 90 of its 100 current members (90%), more than max_segment_removal_ratio 0.5 allows (50); went on because force is set',
    });
    assert.deepEqual(
      guardDecision({
        segment: 'seg_a',
        before: 100,
        toRemove: 1,
        after: 99,
        settings: { max_segment_removal_ratio: 0.5, min_segment_members: null, force: true },
      }),
      { verdict: 'ok' },
    );
  });

  it('a new Segment (no members before) is never stopped', () => {
    const settings = { ...NONE, max_segment_removal_ratio: 0, min_segment_members: 1_000 };
    assert.deepEqual(guardDecision({ segment: 'fresh', before: 0, toRemove: 0, after: 3, settings }), {
      verdict: 'ok',
    });
    assert.deepEqual(guardDecision({ segment: 'fresh', before: 0, toRemove: 0, after: 0, settings }), {
      verdict: 'ok',
    });
  });
});

describe('segmentGuardError', () => {
  it('is a configuration error (exit 2) of the preflight that lists every stopped Segment', () => {
    const error = segmentGuardError(['Segment a: this run would ...', 'Segment b: this run would ...']);
    assert.equal(error.code, 'SEGMENT_GUARD');
    assert.equal(error.exitCode, 2);
    assert.equal(error.stage, 'preflight');
    assert.match(error.message, /^Segment a: .*\nSegment b: .*\nNothing was written\. .*--force/);
  });
});
