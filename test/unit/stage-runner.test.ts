/** The stage runner: the stage in progress, the stage named on an error, the time per stage. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, TransientError } from '../../src/errors.ts';
import { Progress } from '../../src/pipeline/progress.ts';
import { emptyPipelineResults } from '../../src/pipeline/results.ts';
import { runStage } from '../../src/pipeline/stage-runner.ts';

const silent = { info() {}, warn() {}, debug() {}, error() {} } as unknown as ConstructorParameters<typeof Progress>[0];

describe('runStage', () => {
  it('records the stage and its duration, and adds up a stage that runs twice', async () => {
    const results = emptyPipelineResults();
    const progress = new Progress(silent);
    assert.equal(await runStage(results, progress, 'preflight', async () => 'first'), 'first');
    assert.equal(results.stage, 'preflight');
    await runStage(results, progress, 'read', async () => undefined);
    await runStage(results, progress, 'preflight', async () => undefined);
    assert.equal(results.stage, 'preflight');
    assert.deepEqual(Object.keys(results.durations), ['preflight', 'read']);
    assert.ok(results.durations.preflight! >= 0);
  });

  it('names its stage on an error that names none, and leaves a stage an error names alone', async () => {
    const results = emptyPipelineResults();
    const progress = new Progress(silent);
    const unnamed = new TransientError('SELLIGENT_TIMEOUT', 'timed out');
    await assert.rejects(
      runStage(results, progress, 'list-load', async () => Promise.reject(unnamed)),
      unnamed,
    );
    assert.equal(unnamed.stage, 'list-load');
    const named = new ConfigError('SETTINGS_INVALID', 'm', { stage: 'settings' });
    await assert.rejects(
      runStage(results, progress, 'segment-load', async () => Promise.reject(named)),
      named,
    );
    assert.equal(named.stage, 'settings');
    assert.deepEqual(Object.keys(results.durations), ['list_load', 'segment_load'], 'a failed stage is timed too');
    assert.equal(results.stage, 'segment-load');
  });
});
