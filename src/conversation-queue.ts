/**
 * Runs tasks of one key (a conversation) strictly one at a time in arrival order, different keys
 * concurrently. Memory is bounded by the work in flight: a key's entry disappears once it is idle.
 */
export interface QueueObserver {
  depthChanged?(depth: number): void;
}

export class ConversationQueue {
  private readonly tails = new Map<string, Promise<void>>();
  private pending = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];

  constructor(private readonly observer: QueueObserver = {}) {}

  /** Turns waiting or running. */
  get depth(): number {
    return this.pending;
  }

  /** Keys with work in flight (idle keys are forgotten). */
  get activeKeys(): number {
    return this.tails.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Appends a task to the key's chain. The returned promise settles when the task has run; a task's
   * failure never stops the tasks behind it.
   */
  enqueue<T>(key: string, task: () => Promise<T>): Promise<T> {
    if (this.closed) return Promise.reject(new Error('queue is closed'));
    this.pending++;
    this.observer.depthChanged?.(this.pending);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const run = previous.then(task);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.tails.set(key, tail);
    void tail.then(() => {
      this.pending--;
      this.observer.depthChanged?.(this.pending);
      if (this.tails.get(key) === tail) this.tails.delete(key);
      if (this.pending === 0) this.flushIdle();
    });
    return run;
  }

  /** Resolves once nothing is waiting or running. */
  onIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new work and waits (at most `timeoutMs`) for the work in flight. Resolves true when drained. */
  async drain(timeoutMs: number): Promise<boolean> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const drained = await Promise.race([this.onIdle().then(() => true), timedOut]);
    if (timer) clearTimeout(timer);
    return drained;
  }

  private flushIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
