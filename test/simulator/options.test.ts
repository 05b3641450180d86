import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseConfigurablePatch, parseSimulatorOptions, SimulatorOptionsError } from '../../src/simulator/options.ts';
import { startSimulator } from '../../src/simulator/index.ts';

function problems(fn: () => unknown): string[] {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SimulatorOptionsError, String(e));
    return e.problems;
  }
  throw new Error('accepted');
}

describe('simulator options schema', () => {
  test('each problem names its path', () => {
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ rateLimit: { limit: 0, windowMs: 1000 } })),
      ['rateLimit.limit must be a positive integer'],
    );
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ credentials: [{ key: 'a:b', secret: 's' }] })),
      ['credentials.0.key must be non-empty and must not contain ":"'],
    );
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ port: 70000 })),
      ['port must be at most 65535'],
    );
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ variants: { notFoundStatus: 401 } })),
      ['variants.notFoundStatus must be one of 404, 400'],
    );
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ variants: { nope: 1 } })),
      [
        `unknown variant nope; known: loadFailureStatus, loadTransientInBody, failedRowDetail, notFoundStatus, segmentsPageSize, businessKey, keyIndexGuard, listBusy429, quotaWindow, serverTimeoutMs, staticSegmentType, stringValues, organizationGet`,
      ],
    );
    assert.match(
      problems(() => parseSimulatorOptions({ colour: 'red' }))[0]!,
      /^unknown option colour; known: host, port, /,
    );
    assert.deepEqual(
      problems(() => parseSimulatorOptions({ latencyMs: -1, segmentSemantics: 'merge' })),
      ["segmentSemantics must be one of 'match', 'upsert'", 'latencyMs must be a non-negative integer'],
    );
    assert.deepEqual(
      problems(() => parseConfigurablePatch({ host: 'x' })),
      [
        'unknown option host; known: rateLimit, segmentSemantics, requireBusinessKey, maxBodyBytes, latencyMs, latencyJitterMs, latencyPerRowMs, variants',
      ],
    );
  });

  test('undefined values count as absent; valid options pass through', () => {
    assert.deepEqual(parseSimulatorOptions({ port: 0, rateLimit: undefined, variants: { segmentsPageSize: null } }), {
      port: 0,
      variants: { segmentsPageSize: null },
    });
    assert.deepEqual(parseConfigurablePatch({ rateLimit: false, latencyPerRowMs: 0.5 }), {
      rateLimit: false,
      latencyPerRowMs: 0.5,
    });
  });

  test('a request log of no entries, or a port that is no number, is refused at start', async () => {
    await assert.rejects(startSimulator({ port: 0, requestLogSize: 0 }), /requestLogSize must be a positive integer/);
    await assert.rejects(startSimulator({ port: '8080' as never }), /port must be a non-negative integer/);
  });
});
