import type { DryRunPlan, DryRunStep } from '../report/types.js';
import type { RunContext } from './context.js';
import { listBatches } from './list-load.js';
import type { PreflightResult } from './preflight.js';
import type { ReadResult } from './read.js';
import type { ListCounts } from './results.js';
import { add } from './send-batches.js';
import type { SegmentSpool } from './segment-spool.js';
import { dryRunReplacePlan, type ReplacePlan } from './replace-plan.js';

/**
 * The dry run, after preflight: deduplicates and batches the List rows as a real run would, then counts
 * the requests the run would make. Nothing is sent; every row counts as not applied (`dry_run`).
 */
export async function planDryRun(
  ctx: RunContext,
  read: ReadResult,
  checked: PreflightResult,
  segmentSpool: SegmentSpool,
  counts: ListCounts,
  replacements: ReadonlyArray<ReplacePlan | undefined> = [],
): Promise<DryRunPlan> {
  const { settings } = ctx;
  let listRequests = 0;
  let listRows = 0;
  for await (const batch of listBatches(ctx, read, checked.segments, segmentSpool, counts)) {
    listRequests++;
    listRows += batch.rows.length;
  }
  add(counts.tally.notApplied, 'dry_run', listRows);
  counts.complete = true;
  const segments = checked.segments.map((segment, i) => {
    const rows = segmentSpool.rows(i);
    const replace = replacements[i];
    if (replace) {
      const figures = dryRunReplacePlan(replace, settings.segment_batch_rows);
      const removeAfter = replace.strategy === 'load_then_remove';
      return {
        api_name: segment.apiName,
        rows,
        create: false,
        clear: !removeAfter,
        requests: removeAfter
          ? Math.ceil(figures.to_add / settings.segment_batch_rows) + figures.removal_requests
          : Math.ceil(rows / settings.segment_batch_rows),
        replace: figures,
      };
    }
    return {
      api_name: segment.apiName,
      rows,
      create: !segment.exists,
      clear: settings.segment_data_import_option === 'replace' && segment.exists && !ctx.sync?.comparing,
      requests: Math.ceil(rows / settings.segment_batch_rows),
    };
  });
  const setup = !checked.listExists || checked.resumeSetup;
  const list = settings.list_api_name;
  const steps: DryRunStep[] = [];
  if (!checked.listExists) steps.push({ action: 'create List', target: list, requests: 1 });
  if (setup && checked.fieldsToCreate.length > 0) steps.push({ action: 'create fields', target: list, requests: 1 });
  if (setup) steps.push({ action: 'set business key', target: list, requests: 1 });
  steps.push({ action: 'load List rows', target: list, requests: listRequests, rows: listRows });
  for (const segment of segments) {
    const replace = segment.replace;
    if (replace) {
      // The search pages were read for the plan; a real run reads them again before its first write.
      steps.push({
        action: 'read Segment members',
        target: segment.api_name,
        requests: replace.search_requests,
        rows: replace.members_now,
      });
    }
    if (segment.create) steps.push({ action: 'create Segment', target: segment.api_name, requests: 1 });
    if (segment.clear) steps.push({ action: 'clear Segment', target: segment.api_name, requests: 1 });
    if (replace?.strategy === 'load_then_remove') {
      const loads = segment.requests - replace.removal_requests;
      steps.push({ action: 'load Segment members', target: segment.api_name, requests: loads, rows: replace.to_add });
      steps.push({
        action: 'remove Segment members',
        target: segment.api_name,
        requests: replace.removal_requests,
        rows: replace.to_remove,
      });
      continue;
    }
    steps.push({
      action: 'load Segment members',
      target: segment.api_name,
      requests: segment.requests,
      rows: segment.rows,
    });
  }
  return {
    list_to_create: !checked.listExists,
    fields_to_create: checked.fieldsToCreate.map((field) => ({
      name: field.name,
      data_type: field.data_type,
      ...(field.length ? { length: field.length } : {}),
    })),
    business_key_to_set: setup ? read.plan.keys.map((key) => key.field) : null,
    list_rows: listRows,
    list_requests: listRequests,
    segments,
    steps,
    requests: steps.reduce((sum, step) => sum + step.requests, 0),
  };
}
