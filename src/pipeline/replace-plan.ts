import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Settings } from '../config/settings.js';
import type { DryRunReplacePlan, SegmentReplaceReport } from '../report/types.js';
import type { RunContext } from './context.js';
import { MembershipSpool, type MembershipCounts } from './membership-spool.js';
import type { SegmentTarget } from './preflight.js';
import type { ReadResult } from './read.js';
import { guardDecision, segmentGuardError, type GuardDecision } from './segment-guard.js';
import { spoolNewMembers } from './spooled-members.js';

/**
 * The replacement plans of a replace run, made before the first write: each existing target Segment's
 * members now (read with the segment search) compared with its new members, and the guard's verdict on
 * the change. Under `clear_then_load` a plan is made only to feed the guard.
 */

export interface ReplacePlan {
  /** Names the plan's files in the run's work directory. */
  name: string;
  strategy: Settings['segment_replace_strategy'];
  spool: MembershipSpool;
  counts: MembershipCounts;
  /** Search requests made to read the members now. */
  searchRequests: number;
  guard: GuardDecision;
}

/** Whether a target gets a plan: an existing Segment of a replace run, under load_then_remove or a guard. */
export function needsPlan(settings: Settings, segment: SegmentTarget): boolean {
  return (
    settings.segment_data_import_option === 'replace' &&
    segment.exists &&
    (settings.segment_replace_strategy === 'load_then_remove' ||
      settings.max_segment_removal_ratio !== null ||
      settings.min_segment_members !== null)
  );
}

/** Reads only: per target, its plan, or undefined when it needs none. */
export async function planReplacements(
  ctx: RunContext,
  read: ReadResult,
  segments: readonly SegmentTarget[],
): Promise<Array<ReplacePlan | undefined>> {
  const { settings, client } = ctx;
  // A changes run that compares with its state removes only the memberships it had added that left the
  // input, never the Segment's other members: the comparison plans that, and the guard is held against
  // it before the removals are sent (segment-removals.ts).
  if (ctx.sync?.comparing || !segments.some((segment) => needsPlan(settings, segment)))
    return segments.map(() => undefined);
  const dir = join(ctx.workDir, 'replace');
  await mkdir(dir, { recursive: true });
  const keyFields = read.plan.keys.map((key) => key.field);
  const keyTypes = read.plan.keys.map((key) => key.sendType);
  const spools = segments.map((segment, i) => {
    if (!needsPlan(settings, segment)) return undefined;
    const rows = segment.values.reduce((sum, value) => sum + (read.segments.get(value) ?? 0), 0);
    return new MembershipSpool(dir, `seg-${i}`, keyTypes, 2 * rows);
  });
  const searchRequests = segments.map(() => 0);
  for (let i = 0; i < segments.length; i++) {
    const spool = spools[i];
    if (!spool) continue;
    const segment = segments[i]!;
    const before = client.stats.by_route.searchSegment ?? 0;
    for await (const rows of client.segmentMemberPages(
      settings.organization,
      settings.list_api_name,
      segment.apiName,
      keyFields,
    )) {
      await spool.addCurrent(rows);
    }
    searchRequests[i] = (client.stats.by_route.searchSegment ?? 0) - before;
  }
  const segmentOf = new Map(
    segments.flatMap((segment, i) => segment.values.map((value): [string, number] => [value, i])),
  );
  await spoolNewMembers(read.spooled, read.plan, segmentOf, spools);
  const plans: Array<ReplacePlan | undefined> = [];
  for (let i = 0; i < segments.length; i++) {
    const spool = spools[i];
    if (!spool) {
      plans.push(undefined);
      continue;
    }
    const counts = await spool.compare();
    plans.push({
      name: `seg-${i}`,
      strategy: settings.segment_replace_strategy,
      spool,
      counts,
      searchRequests: searchRequests[i]!,
      guard: guardDecision({
        segment: segments[i]!.apiName,
        before: counts.before,
        toRemove: counts.removed,
        after: counts.after,
        settings,
      }),
    });
  }
  return plans;
}

/** The guard's stop for the whole run, if any Segment's plan stops it. */
export function guardStop(plans: ReadonlyArray<ReplacePlan | undefined>): Error | undefined {
  const stops = plans.flatMap((plan) => (plan?.guard.verdict === 'stop' ? [plan.guard.message] : []));
  return stops.length > 0 ? segmentGuardError(stops) : undefined;
}

/** A plan's figures for the Segment's report, before anything is sent: nothing added or removed yet. */
export function replaceReport(plan: ReplacePlan): SegmentReplaceReport {
  const { counts, guard } = plan;
  return {
    strategy: plan.strategy,
    members_before: counts.before,
    added: 0,
    kept: counts.kept,
    removed: 0,
    after: counts.before,
    planned_after: counts.after,
    search_requests: plan.searchRequests,
    removal_requests: 0,
    guard: guard.verdict === 'stop' ? 'stopped' : guard.verdict,
    ...(guard.verdict === 'ok' ? {} : { guard_message: guard.message }),
  };
}

/** A plan as the dry run reports it; removal requests at `batchRows` members each. */
export function dryRunReplacePlan(plan: ReplacePlan, batchRows: number): DryRunReplacePlan {
  const { counts, guard } = plan;
  return {
    strategy: plan.strategy,
    members_now: counts.before,
    to_add: counts.added,
    to_keep: counts.kept,
    to_remove: counts.removed,
    after: counts.after,
    search_requests: plan.searchRequests,
    removal_requests: plan.strategy === 'load_then_remove' ? Math.ceil(counts.removed / batchRows) : 0,
    guard: guard.verdict === 'stop' ? 'would_stop' : guard.verdict,
    ...(guard.verdict === 'ok' ? {} : { guard_message: guard.message }),
  };
}
