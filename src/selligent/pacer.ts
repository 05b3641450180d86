/**
 * Client-side pacing against the per-API-key request budget (2,500 per minute by default). It keeps the
 * send times of the last `budget` requests and never lets more than that many fall inside one window,
 * which also satisfies a fixed-window or token-bucket limiter on the server. A small safety margin
 * absorbs the difference between when a request leaves here and when the server counts it. The server's
 * own `X-RateLimit-*` headers, when present, override: `Remaining: 0` means wait for `Reset`.
 */
export class RequestPacer {
  private readonly sent: number[] = [];
  private head = 0;
  private blockedUntil = 0;
  readonly budget: number;

  constructor(
    requestsPerWindow: number,
    private readonly windowMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.budget = Math.max(1, Math.floor(requestsPerWindow * 0.98));
  }

  /** Milliseconds to wait before the next request may be sent (0 = now). */
  delayMs(): number {
    const now = this.now();
    this.prune(now);
    let wait = Math.max(0, this.blockedUntil - now);
    const inWindow = this.sent.length - this.head;
    if (inWindow >= this.budget) {
      const oldest = this.sent[this.sent.length - this.budget]!;
      wait = Math.max(wait, oldest + this.windowMs - now);
    }
    return Math.max(0, Math.ceil(wait));
  }

  /** Records a request being sent now. */
  record(): void {
    const now = this.now();
    this.sent.push(now);
    this.prune(now);
  }

  private prune(now: number): void {
    while (this.head < this.sent.length && this.sent[this.head]! <= now - this.windowMs) this.head++;
    if (this.head > 4096 && this.head * 2 > this.sent.length) {
      this.sent.splice(0, this.head);
      this.head = 0;
    }
  }

  /** Feeds back the server's view from a response. */
  observe(headers: Record<string, string | string[] | undefined>): void {
    const remaining = Number(single(headers['x-ratelimit-remaining']));
    const reset = Number(single(headers['x-ratelimit-reset']));
    if (Number.isFinite(remaining) && remaining <= 0 && Number.isFinite(reset) && reset > 0) {
      this.blockedUntil = Math.max(this.blockedUntil, this.now() + Math.min(reset, 3_600) * 1000);
    }
  }
}

function single(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  // "2500, 2500;w=60" style values: the first number is the one that counts.
  return text?.split(',')[0]?.trim();
}
