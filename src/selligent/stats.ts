/**
 * What the client counts about its own requests. It is the client's to fill; the run report copies
 * it, so the client needs to know nothing of the report.
 */
export interface ClientStats {
  /** Requests sent, retries included. */
  requests: number;
  by_route: Record<string, number>;
  /** Answers by HTTP status, or by network error code when there was no answer. */
  by_status: Record<string, number>;
  retries: number;
  rate_limited: number;
  rate_limit_waits: number;
  rate_limit_wait_seconds: number;
  pacing_wait_seconds: number;
  /** 429s taken as "another bulk operation holds the List", and the time waited for them. */
  list_busy_waits: number;
  list_busy_wait_seconds: number;
}

export function emptyClientStats(): ClientStats {
  return {
    requests: 0,
    by_route: {},
    by_status: {},
    retries: 0,
    rate_limited: 0,
    rate_limit_waits: 0,
    rate_limit_wait_seconds: 0,
    pacing_wait_seconds: 0,
    list_busy_waits: 0,
    list_busy_wait_seconds: 0,
  };
}
