/**
 * Cases: the ways one invocation exports the generated input into a fresh simulator. Every case runs
 * once per `--runs`, the cases of one run in turn, so a change in the machine's load touches them all.
 *
 * Today there is one case (the exporter's settings), or, under `--realistic`, two: fixed Segment
 * batches (segment_batch_rows_max = segment_batch_rows) and adaptive ones. The document's `runs` and
 * `median` are those of the last case; main.ts puts the realistic pair side by side.
 *
 * Adding a case (for example "replace": a Segment of N members exists before the run and a churn
 * fraction of them changes; or "changes-only": a second run after a first, with `--churn F`):
 *  1. options.ts: its flag(s) in USAGE, `Params` and `parseOptions`;
 *  2. here: a `BenchCase` from `benchCases`, whose `settings` are the result_settings it changes and whose
 *     `prepare` puts the simulator in the state the measured run starts from (a seed through the
 *     simulator's control routes, or a first, unmeasured export);
 *  3. data.ts when it needs other input (the churned file beside the generated one), and figures.ts,
 *     targets.ts and tables.ts for figures of its own.
 */
import { DEFAULT_BATCH_ROWS } from './common.js';
import type { Params } from './options.js';
import { replaceCases } from './replace-case.js';
import type { RequestLogEntry, SimulatorProcess } from './simulator-process.js';
import type { BenchEnv, ExporterReport, RunFigures } from './types.js';

export interface CasePreparation {
  env: BenchEnv;
  /** The fresh simulator of this run, before the exporter starts. */
  sim: SimulatorProcess;
  /** The run's directory, for any file the preparation writes. */
  runDir: string;
}

export interface BenchCase {
  /**
   * Names the case's run directories (`NAME-run-N`) and its runs in the log; `null` for the single case
   * of a plain invocation (`run-N`).
   */
  name: string | null;
  /** Logged before each of its runs; absent for the single case. */
  title?: string;
  /** The options this case runs with (a case may override some of the invocation's). */
  params: Params;
  /** Added to each of the case's run figures in the document. */
  tag: Record<string, unknown>;
  /** result_settings of this case on top of those the options give. */
  settings: Record<string, unknown>;
  /** Brings the fresh simulator to the state the measured run starts from. */
  prepare?: (preparation: CasePreparation) => Promise<void>;
  /** Figures of the case's own, read once the exporter is done and before the simulator stops; added to the run's. */
  finish?: (completion: CaseCompletion) => Promise<RunFigures>;
}

export interface CaseCompletion {
  sim: SimulatorProcess;
  report: ExporterReport;
  /** The simulator's request log of the run. */
  requests: RequestLogEntry[];
}

/**
 * The cases of an invocation. `adaptiveBuild`: the build under test has the segment_batch_rows_max
 * setting (an older build has fixed Segment batches only, so `--realistic` then runs the fixed case).
 */
export function benchCases(p: Params, adaptiveBuild: boolean): BenchCase[] {
  if (p.replaceMembers !== undefined) return replaceCases(p, { members: p.replaceMembers, churn: p.replaceChurn });
  if (!p.realistic) return [{ name: null, params: p, tag: {}, settings: {} }];
  const fixed: BenchCase = {
    name: 'fixed',
    params: { ...p, segmentBatchRowsMax: p.batchRows ?? DEFAULT_BATCH_ROWS },
    title: 'fixed Segment batches',
    tag: { segmentBatches: 'fixed' },
    settings: {},
  };
  if (!adaptiveBuild) return [{ ...fixed, params: p }];
  return [
    fixed,
    {
      name: 'adaptive',
      title: 'adaptive Segment batches',
      params: p,
      tag: { segmentBatches: 'adaptive' },
      settings: {},
    },
  ];
}
