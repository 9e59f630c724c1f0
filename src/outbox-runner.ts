/**
 * Runs outbox actions: the first attempt inline (inside the turn that asked for it), later attempts
 * from a poller, each inside its conversation's queue so it never overlaps a turn of that
 * conversation. Retryable failures (network, 429, 5xx) back off exponentially across restarts; a final
 * failure is logged, counted and handed to the executor's `failed` (which tells the bot).
 */
import { PlatformApiError, PlatformNetworkError } from './errors';
import type { ConversationQueue } from './conversation-queue';
import { systemClock, type Clock } from './clock';
import { silentLogger, type Logger } from './log';
import type { Metrics } from './metrics';
import type { Outbox, OutboxAction } from './storage/outbox';

export interface OutboxExecutor {
  /** Carries the action out on the platform; what it returns is handed to `succeeded`. */
  execute(payload: unknown): Promise<unknown>;
  succeeded(payload: unknown, result: unknown): Promise<void>;
  failed(payload: unknown, message: string): Promise<void>;
}

export type OutboxOutcome = { state: 'done' } | { state: 'retrying'; error: string } | { state: 'failed'; error: string };

export interface OutboxRunnerOptions {
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Attempts before an action fails for good (default 8: about 21 minutes of retrying). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  pollMs?: number;
}

export function isRetryable(error: unknown): boolean {
  if (error instanceof PlatformNetworkError) return true;
  return error instanceof PlatformApiError && (error.status === 429 || error.status >= 500);
}

export class OutboxRunner {
  private readonly executors = new Map<string, OutboxExecutor>();
  private readonly inFlight = new Set<number>();
  private timer?: NodeJS.Timeout;
  private readonly clock: Clock;
  private readonly logger: Logger;

  constructor(
    readonly outbox: Outbox,
    private readonly queue: ConversationQueue,
    private readonly options: OutboxRunnerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'outbox' });
  }

  register(platform: string, kind: string, executor: OutboxExecutor): void {
    this.executors.set(`${platform}:${kind}`, executor);
  }

  /** Writes the action durably, then makes the first attempt now (call it from inside the turn). */
  async run(action: { platform: string; conversationId: string; kind: string; payload: unknown }): Promise<OutboxOutcome> {
    const id = await this.outbox.add(action);
    this.inFlight.add(id);
    try {
      return await this.attempt({ ...action, id, attempts: 0, nextAttemptAt: this.clock.now() });
    } finally {
      this.inFlight.delete(id);
    }
  }

  /** Polls for due actions until `stop`. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.options.pollMs ?? 1000);
    this.timer.unref();
    void this.poll();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One pass over due actions (tests call it directly). Resolves when they have run. */
  async poll(): Promise<void> {
    if (this.queue.isClosed) return;
    const due = (await this.outbox.due(this.clock.now(), 100)).filter((a) => !this.inFlight.has(a.id));
    await Promise.all(
      due.map((action) => {
        this.inFlight.add(action.id);
        return this.queue
          .enqueue(action.conversationId, () => this.attempt(action))
          .catch((error: unknown) => this.logger.error('outbox attempt crashed', { id: action.id, error }))
          .finally(() => this.inFlight.delete(action.id));
      }),
    );
  }

  private async attempt(action: OutboxAction): Promise<OutboxOutcome> {
    const key = `${action.platform}:${action.kind}`;
    const executor = this.executors.get(key);
    const labels = { platform: action.platform, kind: action.kind };
    if (!executor) {
      await this.outbox.markFailed(action.id, `no executor for ${key}`);
      this.options.metrics?.outboxFailed.inc(labels);
      this.logger.error('outbox action has no executor', { id: action.id, kind: key });
      return { state: 'failed', error: `no executor for ${key}` };
    }
    const attempts = await this.outbox.attempt(action.id);
    let result: unknown;
    try {
      result = await executor.execute(action.payload);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const maxAttempts = this.options.maxAttempts ?? 8;
      if (isRetryable(error) && attempts < maxAttempts) {
        const base = this.options.baseDelayMs ?? 5000;
        const delay = Math.min(base * 2 ** (attempts - 1), this.options.maxDelayMs ?? 10 * 60_000) * (0.8 + 0.4 * this.clock.random());
        await this.outbox.markRetry(action.id, this.clock.now() + Math.round(delay), message);
        this.options.metrics?.outboxRetries.inc(labels);
        this.logger.warn('platform action failed; will retry', { id: action.id, kind: key, conversationId: action.conversationId, attempts, delayMs: Math.round(delay), error });
        return { state: 'retrying', error: message };
      }
      await this.outbox.markFailed(action.id, message);
      this.options.metrics?.outboxFailed.inc(labels);
      this.logger.error('platform action failed for good', { id: action.id, kind: key, conversationId: action.conversationId, attempts, error });
      await executor.failed(action.payload, message);
      return { state: 'failed', error: message };
    }
    await this.outbox.markDone(action.id);
    await executor.succeeded(action.payload, result);
    return { state: 'done' };
  }
}
