/**
 * Runs the durable timers when they are due: every `pollMs` it claims the due ones (any process or
 * replica sharing the store may claim them; one claim at a time per timer) and hands each to the
 * handler of its kind. A handler that succeeds finishes its timer; one that fails leaves it to be
 * claimed again once the claim runs out, at most `maxAttempts` times.
 */
import { systemClock, type Clock } from '../clock';
import { silentLogger, type Logger } from '../log';
import type { ClaimedTimer, TimerStore } from '../storage/timer-store';
import { ROOT_CONTEXT } from '@opentelemetry/api';
import { inSpan } from '../tracing/tracer';

export type TimerHandler = (timer: ClaimedTimer) => Promise<void>;

export interface TimerRunnerOptions {
  clock?: Clock;
  logger?: Logger;
  /** How often due timers are looked for (default 1 s). */
  pollMs?: number;
  /** How long a claim lasts before another poller may take the timer (default 60 s). */
  claimMs?: number;
  /** Timers claimed per poll (default 50). */
  batch?: number;
  /** Claims of one timer before it is dropped (default 5). */
  maxAttempts?: number;
}

export class TimerRunner {
  private readonly handlers = new Map<string, TimerHandler>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private interval?: NodeJS.Timeout;
  private polling?: Promise<number>;
  private stopped = false;

  constructor(
    private readonly timers: TimerStore,
    private readonly options: TimerRunnerOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'timers' });
  }

  /** The handler of a kind of timer. */
  on(kind: string, handler: TimerHandler): void {
    this.handlers.set(kind, handler);
  }

  start(): void {
    if (this.interval || this.stopped) return;
    this.interval = setInterval(() => void this.runDue(), this.options.pollMs ?? 1000);
    this.interval.unref();
  }

  /** Stops polling and waits for the handlers running now. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.interval) clearInterval(this.interval);
    this.interval = undefined;
    await this.polling?.catch(() => undefined);
  }

  /** Claims what is due now and runs it; resolves with how many ran, once they are done. One poll at a time. */
  runDue(): Promise<number> {
    if (this.stopped) return Promise.resolve(0);
    if (this.polling) return this.polling;
    this.polling = this.poll().finally(() => (this.polling = undefined));
    return this.polling;
  }

  private async poll(): Promise<number> {
    let due: ClaimedTimer[];
    try {
      due = await this.timers.claimDue(this.clock.now(), this.options.claimMs ?? 60_000, this.options.batch ?? 50);
    } catch (error) {
      this.logger.error('could not claim due timers', { error });
      return 0;
    }
    await Promise.all(due.map((timer) => this.run(timer)));
    return due.length;
  }

  private async run(timer: ClaimedTimer): Promise<void> {
    const handler = this.handlers.get(timer.kind);
    try {
      if (!handler) throw new Error(`no handler for timers of kind ${timer.kind}`);
      // A trace of its own: what the timer does (a turn, its replies) is under it.
      const attributes = { 'handoff.timer.kind': timer.kind, 'handoff.conversation.id': timer.conversationId, 'handoff.timer.attempts': timer.attempts };
      await inSpan(`timer ${timer.kind}`, { parent: ROOT_CONTEXT, attributes }, () => handler(timer));
    } catch (error) {
      if (timer.attempts < (this.options.maxAttempts ?? 5)) {
        this.logger.warn('a timer failed; it runs again once its claim runs out', { key: timer.key, conversationId: timer.conversationId, attempts: timer.attempts, error });
        return;
      }
      this.logger.error('a timer failed too often and is dropped', { key: timer.key, conversationId: timer.conversationId, attempts: timer.attempts, error });
    }
    await this.timers.finish(timer.key, timer.claim).catch((error: unknown) => this.logger.error('could not finish a timer', { key: timer.key, error }));
  }
}
