import type { SelligentClient } from '../selligent/client.js';
import type { LoadAnswer, LoadResult } from '../selligent/types.js';
import type { Settings } from '../config/settings.js';

/**
 * A member removal answers the load model with `number_of_deleted_records` where a load has inserted
 * and updated counts. Read as a load answer, each removed member counts as one applied row, so the load
 * path's accounting (`accountAnswer`), splitting and retries serve removals unchanged: applied =
 * removed; not found = not a member (harmless); failed and invalid rows as for a load.
 */
export function removalAsLoad(answer: LoadAnswer): LoadAnswer {
  const result: LoadResult = {
    ...answer.result,
    number_of_inserted_records: count(answer.result.number_of_deleted_records),
    number_of_updated_records: 0,
  };
  return { ...answer, result };
}

function count(value: unknown): number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : 0;
}

/** Sends one batch of member removals from `segment`, answered as a load (see removalAsLoad). */
export function removalSender(
  client: SelligentClient,
  settings: Settings,
  segment: string,
  keyFields: string[],
): (body: Buffer, rows: number) => Promise<LoadAnswer> {
  return async (body, rows) =>
    removalAsLoad(
      await client.removeSegmentMembers(
        settings.organization,
        settings.list_api_name,
        segment,
        { keyFields, fields: keyFields, mode: settings.mode },
        body,
        rows,
      ),
    );
}
