/**
 * How many accepted events are processed at once. Every webhook is stored and acked before its turn,
 * so a burst (thousands of conversations writing in the same second) need not start thousands of
 * interleaved turns: those would compete with the acks of the webhooks still arriving (and hold their
 * contexts in memory together), making every ack and every reply late. Past the limit, events wait
 * here in arrival order; they are already durable, so waiting costs nothing but a closure.
 */
export class TurnAdmission {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`the turn limit must be a positive integer (got ${limit})`);
  }

  /** Events admitted and not finished. */
  get active(): number {
    return this.running;
  }

  /** Events waiting for a place. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Runs `fn` once a place is free (at once when one is), first come first served. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    if (this.running < this.limit) this.running++;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    try {
      return await fn();
    } finally {
      // The place passes straight to the next in line, so nobody can overtake it.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}
