import type { LoadAnswer, LoadResult } from '../selligent/types.js';

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
