/** Bounds guessing at the login: past `limit` wrong tokens within a window, every login waits for the next one. */
export class LoginThrottle {
  private failures: number[] = [];

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limit = 10,
    private readonly windowMs = 60_000,
  ) {}

  /** Milliseconds to wait before another try, 0 when allowed. */
  retryAfterMs(): number {
    const cutoff = this.now() - this.windowMs;
    this.failures = this.failures.filter((t) => t > cutoff);
    return this.failures.length >= this.limit ? this.failures[0]! + this.windowMs - this.now() : 0;
  }

  failed(): void {
    this.failures.push(this.now());
  }
}
