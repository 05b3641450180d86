import type { Settings } from '../config/settings.js';
import { ConfigError } from '../errors.js';

/**
 * The blast-radius guard: before the first write, each Segment's planned change is held against
 * `max_segment_removal_ratio` and `min_segment_members`, so a broken upstream query that suddenly
 * returns a fraction of an audience does not quietly replace it. Pure: numbers in, a verdict out.
 */

export type GuardSettings = Pick<Settings, 'max_segment_removal_ratio' | 'min_segment_members' | 'force'>;

export interface GuardInput {
  segment: string;
  /** Members the Segment has now (0 for a Segment this run creates). */
  before: number;
  /** What `before` counts, as the message names it: `current members` unless said otherwise. */
  members?: string;
  /** Current members the run would take out. */
  toRemove: number;
  /** Members the Segment would have once the run is done. */
  after: number;
  settings: GuardSettings;
}

export type GuardDecision =
  | { verdict: 'ok' }
  | { verdict: 'stop'; message: string }
  /** The guard would have stopped the run; `force` let it through. */
  | { verdict: 'overridden'; message: string };

/**
 * A removal exactly at the ratio passes; one member more stops. The minimum stops only a run that
 * shrinks a Segment below it: a Segment that is new, or small and growing, has no audience to lose.
 */
export function guardDecision({
  segment,
  before,
  members = 'current members',
  toRemove,
  after,
  settings,
}: GuardInput): GuardDecision {
  const reasons: string[] = [];
  const ratio = settings.max_segment_removal_ratio;
  if (ratio !== null && before > 0) {
    // The tolerance keeps a product such as 0.29 x 100 = 28.999... from refusing the 29 removals it allows.
    const allowed = Math.floor(ratio * before + 1e-9);
    if (toRemove > allowed) {
      reasons.push(
        `would remove ${toRemove} of its ${before} ${members} (${percent(toRemove / before)}), more than max_segment_removal_ratio ${ratio} allows (${allowed})`,
      );
    }
  }
  const minimum = settings.min_segment_members;
  if (minimum !== null && after < minimum && after < before) {
    reasons.push(`would leave it ${after} members (it has ${before}), fewer than min_segment_members ${minimum}`);
  }
  if (reasons.length === 0) return { verdict: 'ok' };
  const message = `Segment ${segment}: this run ${reasons.join(', and ')}`;
  return settings.force
    ? { verdict: 'overridden', message: `${message}; went on because force is set` }
    : { verdict: 'stop', message };
}

/** The run's stop: every Segment the guard stopped, named with its numbers. Exit code 2, nothing written. */
export function segmentGuardError(stops: string[]): ConfigError {
  const fix =
    'Nothing was written. Check the input; if the change is intended, run once with --force (or set force: true)';
  return new ConfigError('SEGMENT_GUARD', `${stops.join('\n')}\n${fix}`, {
    stage: 'preflight',
    details: { segments: stops.length },
  });
}

/** Rounded down, so a removal short of everyone never reads as 100%. */
function percent(share: number): string {
  return `${Math.floor(share * 1000 + 1e-9) / 10}%`;
}
