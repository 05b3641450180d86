import { RefusedError } from '../errors.js';
import type { Logger } from '../log.js';

/**
 * Creating is not idempotent: when an attempt did the work but its answer was lost (connection dropped,
 * time-out, 5xx from a proxy), the retry is refused because the thing now exists. A refusal after a retry
 * is therefore checked: if the List, fields or static Segment now exist, the create succeeded.
 */
export async function createOnce(
  logger: Logger,
  what: string,
  create: () => Promise<void>,
  exists: () => Promise<boolean>,
): Promise<void> {
  try {
    await create();
  } catch (error) {
    const attempts = error instanceof RefusedError ? Number(error.details?.attempts ?? 1) : 1;
    if (attempts < 2 || !(await exists().catch(() => false))) throw error;
    logger.info({ what, attempts }, `${what}: a retried create was refused as existing; an earlier attempt created it`);
  }
}
