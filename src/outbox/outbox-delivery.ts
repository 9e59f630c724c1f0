/**
 * Delivers outbox actions (a turn's replies, handoffs and control actions; relayed ticket messages):
 * per conversation one at a time in the order they were committed, different conversations
 * concurrently. A retryable failure (network, 429, 5xx) holds the conversation's later actions back
 * and is retried with backoff (across restarts: the actions are in the store); a final failure is
 * logged, counted and handed to the executor's `failed` (which tells the bot), and the next action goes.
 */
import { systemClock, type Clock } from '../clock';
import { PlatformApiError } from '../errors';
import { backoffDelay, isRetryableError, requestedDelay } from '../http/retry-policy';
import { silentLogger, type Logger } from '../log';
import type { Metrics } from '../metrics';
import { outsideTurn } from '../turn-scope';
import { SettledElsewhereError, type StepProgress } from './step-progress';
import type { DiscardOutcome, Outbox, OutboxAction } from '../storage/outbox';
import type { NewOutboxAction } from '../storage/turn-writes';
import type { TimelineRole, TimelineStep } from '../storage/timeline';
import { deliveryStep } from '../timeline/timeline-steps';
import { carriedContext, carryTrace, inSpan } from '../tracing/tracer';
import { platformLabels } from '../tenants/tenant-scope';

/** How many earlier results a look before repeating rules out (older echoes have long been dropped). */
/**
 * How long after its turn's commit a fresh action's first attempt may go unwritten. The commit proved
 * the conversation's lease; later, a replica that lost it (a database outage) must not send what the
 * replica that took the conversation over may have delivered already.
 */
const FRESH_MS = 1000;
const EARLIER_RESULTS = 50;

export interface OutboxExecutor {
  /** Carries the action out; steps marked done in `progress` are skipped on a retry. */
  execute(action: OutboxAction, progress: StepProgress): Promise<unknown>;
  succeeded?(action: OutboxAction, result: unknown): Promise<void> | void;
  failed?(action: OutboxAction, message: string): Promise<void> | void;
  /** The message the action carries to a reader, for the conversation's timeline (a relayed answer). */
  describe?(action: OutboxAction): { role: TimelineRole; text: string } | undefined;
}

export interface OutboxDeliveryOptions {
  clock?: Clock;
  logger?: Logger;
  metrics?: Metrics;
  /** Attempts before an action fails for good (default 12: about 8 minutes of retrying). */
  maxAttempts?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** How long an operator's discard waits for an attempt under way to end (default 15 s). */
  discardWaitMs?: number;
}

interface Lane {
  actions: OutboxAction[];
  running: boolean;
  timer?: NodeJS.Timeout;
  /** Told when the lane has nothing left (whenConversationIdle), and whether its last done mark gave the lease up. */
  idle?: Array<(outcome: { released: boolean }) => void>;
  /** Its last done mark gave the conversation's lease up (nothing was left). */
  released?: boolean;
  /** An action of the lane had to wait for a retry: those behind it waited too (none is fresh). */
  delayed?: boolean;
}

export class OutboxDelivery {
  private readonly executors = new Map<string, OutboxExecutor>();
  private readonly lanes = new Map<string, Lane>();
  /** Ids waiting or being attempted: an action is queued once, however it is announced (commit, resume). */
  private readonly queuedIds = new Set<number>();
  private readonly idleWaiters: Array<() => void> = [];
  /** Conversations whose last done mark is to give the lease up, and as whom. */
  private readonly releaseAs = new Map<string, string>();
  /** Done marks under way that may give a lease up: whether they did. */
  private readonly releasing = new Map<string, Promise<boolean>>();
  /** Conversations whose lease a done mark gave up since it was asked for. */
  private readonly releasedLeases = new Set<string>();
  /** Ids whose attempt is running now. */
  private readonly attempting = new Set<number>();
  /** Told when an attempt under way ends (an operator's discard waits for it). */
  private readonly attemptEnded = new Map<number, Array<() => void>>();
  /**
   * Ids just committed into a lane that is not held back by a retry: attempted at once, so their first
   * attempt is not written (it is on the hot path). Every other attempt is, and only runs if the store
   * still holds the action pending: an operator may have discarded it meanwhile (maybe through another
   * replica sharing the store). Kept with the time it was committed: one that waited longer than
   * FRESH_MS (behind a slow send, or a done mark the store could not take) is written like any other,
   * because meanwhile the conversation may have passed to a replica that delivered it already.
   */
  private readonly fresh = new Map<number, number>();
  /** Ids whose first attempt was not written: the stored count is one short. */
  private readonly uncounted = new Set<number>();
  /**
   * Ids read back from the store (at start, or from a replica that held the conversation) that may have
   * been attempted without their outcome being recorded. Only the oldest pending action of a
   * conversation can be: the ones behind it waited for its done mark.
   */
  private readonly uncertain = new Set<number>();
  /** Ids whose last failed attempt here got an answer from the platform (an error status), not silence. */
  private readonly answered = new Set<number>();
  private readonly clock: Clock;
  private readonly logger: Logger;
  private stopped = false;
  private queued = 0;
  private running = 0;

  constructor(
    readonly outbox: Outbox,
    private readonly options: OutboxDeliveryOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    this.logger = (options.logger ?? silentLogger).child({ component: 'outbox' });
  }

  register(platform: string, kind: string, executor: OutboxExecutor): void {
    this.executors.set(`${platform}:${kind}`, executor);
  }

  /** Actions waiting or being delivered. */
  get backlog(): number {
    return this.queued;
  }

  /** Writes an action to the outbox and queues it behind its conversation's earlier actions. */
  async submit(action: NewOutboxAction): Promise<number> {
    // attempts 0: a fresh action (see `attempt`).
    action = { ...action, payload: carryTrace(action.payload) };
    const id = await this.outbox.add(action);
    this.enqueue([{ ...action, id, attempts: 0, nextAttemptAt: this.clock.now() }], { justCommitted: true });
    return id;
  }

  /**
   * Queues actions already in the outbox, in their order: `justCommitted` when they were written a
   * moment ago (with a turn), not read back from the store.
   */
  enqueue(actions: readonly OutboxAction[], options: { justCommitted?: boolean } = {}): void {
    for (const action of actions) {
      if (this.queuedIds.has(action.id)) continue;
      this.queuedIds.add(action.id);
      let lane = this.lanes.get(action.conversationId);
      if (!lane) this.lanes.set(action.conversationId, (lane = { actions: [], running: false }));
      if (options.justCommitted && action.attempts === 0 && !lane.delayed) this.fresh.set(action.id, this.clock.now());
      // Read back, with nothing of its conversation ahead of it: its last attempt's outcome is unknown.
      if (!options.justCommitted && lane.actions.length === 0) this.uncertain.add(action.id);
      lane.actions.push(action);
      this.queued++;
      // Outside the caller's turn: the lane outlives it, and its callbacks must not run in its scope.
      if (!lane.running && !lane.timer && !this.stopped) outsideTurn(() => void this.run(action.conversationId, lane));
    }
  }

  /** Queues every pending action of the outbox (at start). Returns how many. */
  async resume(): Promise<number> {
    const pending = await this.outbox.pending();
    this.enqueue(pending);
    if (pending.length > 0) this.logger.info('pending platform actions resumed', { count: pending.length });
    return pending.length;
  }

  /** Stops delivering (timers cleared; an attempt in flight finishes). */
  stop(): void {
    this.stopped = true;
    for (const lane of this.lanes.values()) if (lane.timer) clearTimeout(lane.timer);
  }

  /** Conversations whose actions are being attempted now (retries scheduled for later do not count). */
  get active(): number {
    return this.running;
  }

  /** Resolves once no attempt is running or due now (retries scheduled for later stay in the store), or after `timeoutMs`. */
  async whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
      timer.unref();
    });
    const result = await Promise.race([idle, timeout]);
    clearTimeout(timer);
    return result;
  }

  /** Whether the conversation has actions waiting or being delivered here. */
  isBusy(conversationId: string): boolean {
    return this.lanes.has(conversationId);
  }

  /**
   * Resolves once the conversation has no action waiting or being delivered here. With `releaseAs`
   * (replicas: the lease holder has nothing else to do), the lane's last done mark also gives the
   * conversation's lease up when the store shows nothing left, in the same statement (`released`).
   */
  whenConversationIdle(conversationId: string, releaseAs?: string): Promise<{ released: boolean }> {
    const lane = this.lanes.get(conversationId);
    if (!lane) return Promise.resolve({ released: false });
    if (releaseAs && this.outbox.markDoneAndRelease) {
      this.releaseAs.set(conversationId, releaseAs);
      this.releasedLeases.delete(conversationId);
    }
    return new Promise((resolve) => (lane.idle ??= []).push(resolve));
  }

  /** Whether a done mark of the conversation is giving its lease up now, or gave it up since it was asked. */
  mayHaveReleased(conversationId: string): boolean {
    return this.releasing.has(conversationId) || this.releasedLeases.has(conversationId);
  }

  /**
   * The holder has work again: no done mark gives the lease up from now on. Resolves once a mark that
   * may have already is answered: true when it did (the lease must be taken again first).
   */
  async keepLease(conversationId: string): Promise<boolean> {
    this.releaseAs.delete(conversationId);
    const released = (await this.releasing.get(conversationId)) ?? false;
    return this.releasedLeases.delete(conversationId) || released;
  }

  /**
   * An operator's retry: a failed action is pending again with its attempts reset and queued behind its
   * conversation's actions; a pending one waiting for its backoff is attempted now. False when the
   * action is neither pending nor failed.
   */
  async retry(id: number): Promise<boolean> {
    const record = await this.outbox.get(id);
    if (!record || (record.status !== 'pending' && record.status !== 'failed')) return false;
    const now = this.clock.now();
    const action = await this.outbox.revive(id, now, deliveryStep(record, 'retried', { by: 'operator' }));
    if (!action) return false;
    const lane = this.lanes.get(action.conversationId);
    const queued = lane?.actions.find((a) => a.id === id);
    if (lane && queued) {
      queued.nextAttemptAt = now;
      if (lane.actions[0] === queued && lane.timer && !this.stopped) {
        clearTimeout(lane.timer);
        lane.timer = undefined;
        outsideTurn(() => void this.run(action.conversationId, lane));
      }
    } else if (this.revivedElsewhere) {
      // Replicas share the store: the conversation's lease holder delivers it (maybe another replica).
      this.revivedElsewhere(action.conversationId);
    } else {
      this.enqueue([action]);
    }
    return true;
  }

  /**
   * How many attempts an action has had as an operator should read it: the stored count, plus a
   * first attempt made without a write that no mark has stored yet; and whether one is under way now.
   */
  attemptsOf(id: number, stored: number): { attempts: number; attempting: boolean } {
    const attempting = this.attempting.has(id);
    return { attempts: stored + (this.uncounted.has(id) ? 1 : 0), attempting };
  }

  private attemptEnd(id: number, timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      const waiters = this.attemptEnded.get(id) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.attemptEnded.set(id, waiters);
    });
  }

  /**
   * With replicas sharing the store, an action an operator revives for a conversation this replica
   * has no lane for is announced here instead of being queued (so it is delivered in the lease holder's order).
   */
  revivedElsewhere?: (conversationId: string) => void;

  /**
   * An operator gives a pending or failed action up. A pending one is taken out of its lane (the
   * conversation's next actions go on) and its executor's `failed` tells the bot, as a final failure
   * would; a failed one was told already. An attempt under way on this process is waited for (at
   * most `discardWaitMs`): delivered meanwhile, the action is `not_found`. Refused (`in_flight`) while
   * it is still being attempted, here or (replicas) elsewhere.
   */
  async discard(id: number, reason: string): Promise<DiscardOutcome> {
    // An attempt under way here ends first (bounded): the operator's one click then acts on its outcome.
    if (this.attempting.has(id)) await this.attemptEnd(id, this.options.discardWaitMs ?? 15_000);
    const record = await this.outbox.get(id);
    if (!record || (record.status !== 'pending' && record.status !== 'failed')) return 'not_found';
    if (this.attempting.has(id)) return 'in_flight';
    const outcome = await this.outbox.discard(id, reason, deliveryStep(record, 'discarded', { by: 'operator', error: reason }));
    if (outcome !== 'discarded') return outcome;
    const lane = this.lanes.get(record.conversationId);
    const index = lane?.actions.findIndex((a) => a.id === id) ?? -1;
    if (lane && index >= 0) {
      lane.actions.splice(index, 1);
      this.forget(id);
      if (index === 0 && lane.timer) {
        clearTimeout(lane.timer);
        lane.timer = undefined;
        if (lane.actions.length > 0 && !this.stopped) outsideTurn(() => void this.run(record.conversationId, lane));
        else if (this.lanes.get(record.conversationId) === lane) {
          this.lanes.delete(record.conversationId);
          this.releaseAs.delete(record.conversationId);
          for (const resolve of lane.idle?.splice(0) ?? []) resolve({ released: false });
        }
      }
    }
    if (record.status === 'pending') {
      const executor = this.executors.get(`${record.platform}:${record.kind}`);
      await Promise.resolve(executor?.failed?.(record, reason)).catch((failure: unknown) =>
        this.logger.error('could not report a discarded platform action', { id, kind: record.kind, error: failure }),
      );
    }
    this.logger.info('platform action discarded by an operator', { id, kind: record.kind, conversationId: record.conversationId });
    return 'discarded';
  }

  private async run(key: string, lane: Lane): Promise<void> {
    lane.running = true;
    this.running++;
    lane.timer = undefined;
    while (lane.actions.length > 0 && !this.stopped) {
      const action = lane.actions[0]!;
      const wait = action.nextAttemptAt - this.clock.now();
      if (wait > 0) {
        lane.timer = setTimeout(() => void this.run(key, lane), wait);
        lane.timer.unref();
        break;
      }
      this.attempting.add(action.id);
      const retryAt = await this.attempt(action)
        .catch((error: unknown) => {
          // The store could not record the attempt: the action keeps its place and is tried again.
          this.logger.error('outbox attempt crashed', { id: action.id, error });
          return this.clock.now() + (this.options.baseDelayMs ?? 500);
        })
        .finally(() => {
          this.attempting.delete(action.id);
          for (const ended of this.attemptEnded.get(action.id)?.splice(0) ?? []) ended();
          this.attemptEnded.delete(action.id);
        });
      if (retryAt !== undefined) {
        action.nextAttemptAt = retryAt;
        lane.delayed = true;
        for (const waiting of lane.actions) this.fresh.delete(waiting.id);
        continue;
      }
      lane.actions.shift();
      this.forget(action.id);
    }
    lane.running = false;
    this.running--;
    if (lane.actions.length === 0 && this.lanes.get(key) === lane) {
      this.lanes.delete(key);
      this.releaseAs.delete(key);
      for (const resolve of lane.idle?.splice(0) ?? []) resolve({ released: lane.released === true });
    }
    if (this.running === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }

  /** The action left its lane. */
  private forget(id: number): void {
    this.queuedIds.delete(id);
    this.fresh.delete(id);
    this.uncounted.delete(id);
    this.uncertain.delete(id);
    this.answered.delete(id);
    this.queued--;
  }

  /**
   * One attempt; returns when to retry, or undefined when the action is finished (done or failed).
   * Traced as a span under the span of the turn that asked for the action.
   */
  private attempt(action: OutboxAction): Promise<number | undefined> {
    const attributes = { 'handoff.platform': action.platform, 'handoff.conversation.id': action.conversationId, 'handoff.action.kind': action.kind, 'handoff.action.id': action.id };
    return inSpan(`${action.platform} ${action.kind}`, { parent: carriedContext(action.payload), attributes }, async (span) => {
      const retryAt = await this.attemptTraced(action);
      span.setAttribute('handoff.action.attempt', action.attempts);
      span.setAttribute('handoff.action.outcome', retryAt === undefined ? 'finished' : 'retry');
      return retryAt;
    });
  }

  private async attemptTraced(action: OutboxAction): Promise<number | undefined> {
    const key = `${action.platform}:${action.kind}`;
    const labels = { ...platformLabels(action.platform), kind: action.kind };
    const executor = this.executors.get(key);
    if (!executor) {
      await this.outbox.markFailed(action.id, `no executor for ${key}`, deliveryStep(action, 'failed', { error: `no executor for ${key}` }));
      this.options.metrics?.outboxFailed.inc(labels);
      this.logger.error('outbox action has no executor', { id: action.id, kind: key });
      return undefined;
    }
    // An action whose first attempt kills the process before anything is written is not counted.
    let attempts: number | undefined = 1;
    const committedAt = this.fresh.get(action.id);
    this.fresh.delete(action.id);
    if (committedAt !== undefined && this.clock.now() - committedAt <= FRESH_MS) this.uncounted.add(action.id);
    else {
      const stored = await this.outbox.attempt(action.id);
      attempts = stored === undefined ? undefined : stored + (this.uncounted.has(action.id) ? 1 : 0);
    }
    if (attempts === undefined) {
      this.logger.info('platform action no longer pending (discarded); not attempted', { id: action.id, kind: key, conversationId: action.conversationId });
      return undefined;
    }
    action.attempts = attempts;
    let result: unknown;
    let progress: (StepProgress & { createdIds: string[] }) | undefined;
    const started = performance.now();
    const took = () => Math.round((performance.now() - started) * 10) / 10;
    try {
      // Tried before here (a retry), or maybe before the restart or on another replica.
      const repeated = attempts > 1 || this.uncertain.has(action.id);
      progress = this.progressOf(action, repeated, repeated && !this.answered.has(action.id));
      result = await executor.execute(action, progress);
    } catch (error) {
      if (error instanceof SettledElsewhereError) {
        // Its earlier attempt (another replica's, which held the conversation) finished it: its outcome is recorded there.
        this.logger.info('platform action finished by another attempt meanwhile; not sent again', { id: action.id, kind: key, conversationId: action.conversationId });
        return undefined;
      }
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof PlatformApiError) this.answered.add(action.id);
      else this.answered.delete(action.id);
      if (isRetryableError(error) && action.attempts < (this.options.maxAttempts ?? 12)) {
        // The platform's own Retry-After wins over a shorter backoff.
        const backoff = backoffDelay(action.attempts, { baseDelayMs: this.options.baseDelayMs ?? 500, maxDelayMs: this.options.maxDelayMs ?? 120_000 }, this.clock.random());
        const delay = Math.max(backoff, requestedDelay(error) ?? 0);
        const at = this.clock.now() + delay;
        if (!(await this.outbox.markRetry(action.id, at, message, deliveryStep(action, 'retry', { attempt: action.attempts, durationMs: took(), error: message, nextAttemptAt: at }), action.attempts))) {
          return this.discardedMeanwhile(action, message);
        }
        // The stored count now includes a first attempt made without a write.
        this.uncounted.delete(action.id);
        this.options.metrics?.outboxRetries.inc(labels);
        this.logger.warn('platform action failed; will retry', { id: action.id, kind: key, conversationId: action.conversationId, attempts: action.attempts, delayMs: delay, error });
        return at;
      }
      if (!(await this.outbox.markFailed(action.id, message, deliveryStep(action, 'failed', { attempt: action.attempts, durationMs: took(), error: message }), action.attempts))) {
        return this.discardedMeanwhile(action, message);
      }
      this.options.metrics?.outboxFailed.inc(labels);
      this.logger.error('platform action failed for good', { id: action.id, kind: key, conversationId: action.conversationId, attempts: action.attempts, error });
      await Promise.resolve(executor.failed?.(action, message)).catch((failure: unknown) =>
        this.logger.error('could not report a failed platform action', { id: action.id, kind: key, error: failure }),
      );
      return undefined;
    }
    // What the success implies (ownership, the bot told) first: a crash before the done mark repeats
    // the action, whose steps are all marked done, and so only its success.
    const durationMs = took();
    await executor.succeeded?.(action, result);
    const done = deliveryStep(action, 'done', { attempt: action.attempts, durationMs, result, message: executor.describe?.(action) });
    // The platform's ids of what it created: the executor's answer, else the messages it said it created
    // (a handoff's note), so that a later look never takes their echoes.
    const created = typeof result === 'string' && result !== '' ? result : progress?.createdIds.join(' ') || undefined;
    await this.markDoneUntilWritten(action, done, created);
    return undefined;
  }

  /**
   * The done mark, tried again until the store takes it: the action leaves its lane only then. Sent
   * before it, the conversation's next actions would be followed, after a restart or by a replica
   * taking the conversation over, by this one again (found pending): a duplicate, out of order.
   */
  private async markDoneUntilWritten(action: OutboxAction, step: TimelineStep, result?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const lane = this.lanes.get(action.conversationId);
        // The lane's last action, and its holder has nothing else to do: the lease goes with the mark.
        const holder = lane && lane.actions.length === 1 && lane.actions[0] === action ? this.releaseAs.get(action.conversationId) : undefined;
        if (holder && this.outbox.markDoneAndRelease) {
          const mark = this.outbox.markDoneAndRelease(action.id, holder, step, result);
          this.releasing.set(action.conversationId, mark.catch(() => false));
          try {
            if (await mark) {
              lane!.released = true;
              this.releasedLeases.add(action.conversationId);
              // Read by a holder woken meanwhile (keepLease); the others never ask: bounded.
              if (this.releasedLeases.size > 10_000) this.releasedLeases.delete(this.releasedLeases.values().next().value!);
              this.releaseAs.delete(action.conversationId);
            }
          } finally {
            this.releasing.delete(action.conversationId);
          }
        } else await this.outbox.markDone(action.id, step, result);
        if (attempt > 1) this.logger.info('outbox action marked done at last; its conversation goes on', { id: action.id, conversationId: action.conversationId, attempts: attempt });
        return;
      } catch (error) {
        if (this.stopped) {
          this.logger.error('could not mark an outbox action done before stopping: it is attempted again after the next start', { id: action.id, conversationId: action.conversationId, error });
          return;
        }
        const delay = backoffDelay(attempt, { baseDelayMs: this.options.baseDelayMs ?? 500, maxDelayMs: 10_000 }, this.clock.random());
        this.logger.error("could not mark an outbox action done; the conversation's next actions wait for the mark", { id: action.id, conversationId: action.conversationId, attempt, delayMs: delay, error });
        await this.clock.sleep(delay);
      }
    }
  }

  /** An operator discarded the action during its failed attempt (the discard told the bot): it leaves its lane. */
  private discardedMeanwhile(action: OutboxAction, error: string): undefined {
    this.logger.info('platform action discarded during its attempt; not retried', { id: action.id, kind: action.kind, conversationId: action.conversationId, error });
    return undefined;
  }

  /** Steps done so far, kept in the action's payload (`steps`) and written before the next step runs. */
  private progressOf(action: OutboxAction, repeated: boolean, unanswered: boolean): StepProgress & { createdIds: string[] } {
    const payload = action.payload as { steps?: string[] };
    const done = new Set(payload.steps ?? []);
    const createdIds: string[] = [];
    return {
      repeated,
      unanswered,
      createdIds,
      created: (messageId) => void createdIds.push(messageId),
      earlierResults: () => this.outbox.resultsBefore(action.conversationId, action.id, EARLIER_RESULTS),
      settledElsewhere: async () => (await this.outbox.get(action.id))?.status !== 'pending',
      done: (step) => done.has(step),
      mark: async (step) => {
        done.add(step);
        action.payload = { ...payload, steps: [...done] };
        await this.outbox.markProgress(action.id, action.payload, deliveryStep(action, 'step', { attempt: action.attempts, step }));
      },
    };
  }
}
