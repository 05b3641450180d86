import { ExporterError, type Stage } from '../errors.js';
import type { StageDurations } from '../report/types.js';
import type { Progress } from './progress.js';
import type { PipelineResults } from './results.js';
import { roundSeconds } from '../rounding.js';

/**
 * Runs one stage: records it as the stage in progress, names it on an error that does not name its own,
 * and adds the time it took to the stage's duration (a stage may run more than once, e.g. preflight).
 */
export async function runStage<T>(
  results: PipelineResults,
  progress: Progress,
  stage: Stage,
  work: () => Promise<T>,
): Promise<T> {
  results.stage = stage;
  progress.enter(stage);
  const started = performance.now();
  try {
    return await work();
  } catch (error) {
    if (error instanceof ExporterError && error.stage === undefined) error.stage = stage;
    throw error;
  } finally {
    const key = durationKey(stage);
    results.durations[key] = roundSeconds((results.durations[key] ?? 0) + (performance.now() - started) / 1000);
  }
}

function durationKey(stage: Stage): keyof StageDurations {
  return stage.replace('-', '_') as keyof StageDurations;
}
