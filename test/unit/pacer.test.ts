import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RequestPacer } from '../../src/selligent/pacer.js';

/** A pacer on a fake clock; `send()` waits as told, then records. */
function paced(perWindow: number, windowMs = 60_000) {
  const clock = { now: 0 };
  const pacer = new RequestPacer(perWindow, windowMs, () => clock.now);
  const sent: number[] = [];
  return {
    clock,
    pacer,
    sent,
    send(): number {
      const wait = pacer.delayMs();
      clock.now += wait;
      assert.equal(pacer.delayMs(), 0, 'after waiting as told, the request may go');
      pacer.record();
      sent.push(clock.now);
      return wait;
    },
  };
}

/** The most send times falling inside any window [t, t + windowMs). */
function busiestWindow(times: number[], windowMs: number): number {
  let most = 0;
  for (let end = 0, start = 0; end < times.length; end++) {
    while (times[end]! - times[start]! >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

describe('RequestPacer', () => {
  it('the budget is 98% of the limit, at least 1', () => {
    assert.equal(new RequestPacer(2_500).budget, 2_450);
    assert.equal(new RequestPacer(100).budget, 98);
    assert.equal(new RequestPacer(1).budget, 1);
    assert.equal(new RequestPacer(50).budget, 49);
  });

  it('sends a burst up to the budget at once, then waits for the window', () => {
    const { pacer, clock } = paced(100);
    let sent = 0;
    while (pacer.delayMs() === 0) {
      pacer.record();
      sent++;
      assert.ok(sent <= 98, 'never more than 98% of the limit in one window');
    }
    assert.equal(sent, 98);
    assert.equal(pacer.delayMs(), 60_000);
    clock.now = 59_999;
    assert.equal(pacer.delayMs(), 1);
    clock.now = 60_000;
    assert.equal(pacer.delayMs(), 0);
  });

  it('waits exactly until the oldest request in the window leaves it', () => {
    const { pacer, clock } = paced(10, 1_000);
    const budget = pacer.budget;
    assert.equal(budget, 9);
    for (let i = 0; i < budget; i++) {
      clock.now = i * 10;
      pacer.record();
    }
    clock.now = 200;
    assert.equal(pacer.delayMs(), 800, 'first request at 0 leaves at 1000');
    clock.now = 1_000;
    assert.equal(pacer.delayMs(), 0);
    pacer.record();
    assert.equal(pacer.delayMs(), 10, 'next oldest (at 10) leaves at 1010');
  });

  it('rounds a fractional wait up', () => {
    const { pacer, clock } = paced(1, 1_000);
    clock.now = 0.4;
    pacer.record();
    clock.now = 500;
    assert.equal(pacer.delayMs(), 501);
  });

  it('never lets more than the budget fall inside any sliding window over a long run', () => {
    const { send, sent, pacer } = paced(100, 60_000);
    for (let i = 0; i < 1_000; i++) send();
    assert.equal(busiestWindow(sent, 60_000), pacer.budget);
    // ~10 windows for 1000 requests at 98 a window, not more.
    assert.ok(sent.at(-1)! <= Math.ceil(1_000 / 98) * 60_000, String(sent.at(-1)));
  });

  it('stays under the budget when requests trickle in irregularly', () => {
    const { pacer, clock, sent } = paced(50, 10_000);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 2_000; i++) {
      clock.now += Math.floor(random() * 300);
      clock.now += pacer.delayMs();
      pacer.record();
      sent.push(clock.now);
    }
    assert.ok(busiestWindow(sent, 10_000) <= pacer.budget);
  });

  it('does not slow requests that are already spread out', () => {
    const { pacer, clock } = paced(100, 60_000);
    for (let i = 0; i < 500; i++) {
      clock.now = i * 1_000;
      assert.equal(pacer.delayMs(), 0);
      pacer.record();
    }
  });

  it('observe: Remaining 0 with Reset blocks until the reset', () => {
    const { pacer, clock } = paced(2_500);
    clock.now = 1_000;
    pacer.observe({ 'x-ratelimit-limit': '2500, 2500;w=60', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '7' });
    assert.equal(pacer.delayMs(), 7_000);
    clock.now = 4_000;
    assert.equal(pacer.delayMs(), 4_000);
    clock.now = 8_000;
    assert.equal(pacer.delayMs(), 0);
  });

  it('observe: a later, shorter reset does not shorten the block', () => {
    const { pacer, clock } = paced(2_500);
    pacer.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '30' });
    clock.now = 1_000;
    pacer.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2' });
    assert.equal(pacer.delayMs(), 29_000);
  });

  it('observe: the first of a list value counts, and arrays are read', () => {
    const { pacer } = paced(2_500);
    pacer.observe({ 'x-ratelimit-remaining': '0, 0;w=60', 'x-ratelimit-reset': ['3'] });
    assert.equal(pacer.delayMs(), 3_000);
  });

  it('observe: caps the block at one hour', () => {
    const { pacer } = paced(2_500);
    pacer.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '999999' });
    assert.equal(pacer.delayMs(), 3_600_000);
  });

  it('observe: does not block on remaining requests, missing or unreadable headers', () => {
    const { pacer } = paced(2_500);
    pacer.observe({ 'x-ratelimit-remaining': '5', 'x-ratelimit-reset': '7' });
    pacer.observe({ 'x-ratelimit-remaining': '0' });
    pacer.observe({ 'x-ratelimit-reset': '7' });
    pacer.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '0' });
    pacer.observe({ 'x-ratelimit-remaining': 'none', 'x-ratelimit-reset': 'soon' });
    pacer.observe({});
    assert.equal(pacer.delayMs(), 0);
  });

  it('a block and a full window: the longer wait applies', () => {
    const { pacer, clock } = paced(2, 1_000);
    pacer.record();
    assert.equal(pacer.delayMs(), 1_000);
    pacer.observe({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '3' });
    assert.equal(pacer.delayMs(), 3_000);
    clock.now = 2_000;
    assert.equal(pacer.delayMs(), 1_000);
  });

  it('keeps its memory bounded over many requests', () => {
    const { pacer, clock } = paced(10, 100);
    for (let i = 0; i < 20_000; i++) {
      clock.now += pacer.delayMs();
      pacer.record();
    }
    const state = pacer as unknown as { sent: number[]; head: number };
    assert.ok(state.sent.length - state.head <= pacer.budget);
    assert.ok(state.sent.length < 10_000, `kept ${state.sent.length} timestamps`);
  });

  it('uses a real clock by default', () => {
    const pacer = new RequestPacer(10);
    assert.equal(pacer.delayMs(), 0);
    pacer.record();
    assert.equal(pacer.delayMs(), 0);
  });
});
