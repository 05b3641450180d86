import type { SegmentReport } from '../report/types.js';
import type { RunContext } from './context.js';
import { createOnce } from './create-once.js';
import type { SegmentTarget } from './preflight.js';
import type { ReplacePlan } from './replace-plan.js';

/** One target Segment: what preflight found, its member file's index, and its figures. */
export interface SegmentLoad {
  segment: SegmentTarget;
  /** The Segment's index in the member spool. */
  index: number;
  entry: SegmentReport;
  /** The replacement plan of an existing Segment of a replace run, when one was made before the first write. */
  replace?: ReplacePlan;
}

/**
 * The Segment set-up: missing Segments are created after the List load and before any Segment is
 * loaded, all in one go: creating is not a bulk operation, and done up front it leaves no pause between
 * one Segment's load and the next. Each target's `entry` is marked as its Segment is created.
 */
export async function createMissingSegments(ctx: RunContext, targets: SegmentLoad[]): Promise<void> {
  const { client, settings, logger } = ctx;
  const org = settings.organization;
  const listName = settings.list_api_name;
  for (const { segment, entry } of targets) {
    if (segment.exists) continue;
    await createOnce(
      logger,
      `Segment ${segment.apiName}`,
      () =>
        client.createStaticSegment(org, listName, {
          api_name: segment.apiName,
          name: segment.apiName,
          description: 'Created by selligent-export',
        }),
      // A static Segment may report External or Unknown (the service's variants): anything but Dynamic is ours.
      async () => {
        const found = await client.getSegment(org, listName, segment.apiName);
        return found !== undefined && found.type?.toLowerCase() !== 'dynamic';
      },
    );
    entry.created = true;
    logger.info({ segment: segment.apiName }, `created static Segment ${segment.apiName}`);
  }
}

/** A Segment's figures before set-up and load; `rows` are its members after deduplication. */
export function emptySegmentReport(segment: SegmentTarget, rows: number): SegmentReport {
  return {
    api_name: segment.apiName,
    existed: segment.exists,
    created: false,
    cleared: false,
    rows,
    rows_sent: 0,
    members_loaded: 0,
    not_found: 0,
    failed: 0,
    failed_without_detail: 0,
    skipped_rejected_keys: 0,
    requests: 0,
    status: 'pending',
    ...(segment.values.length > 1 ? { routing_values: segment.values } : {}),
  };
}
