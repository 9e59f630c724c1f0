/**
 * The outbox of platform actions that must happen (handoffs, status changes): written before the first
 * attempt, retried with backoff across restarts until they succeed or fail for good.
 */
import { systemClock, type Clock } from '../clock';
import type { NewOutboxAction } from './turn-writes';
import type { MemoryTimeline, TimelineStep } from './timeline';

export interface OutboxAction {
  id: number;
  platform: string;
  conversationId: string;
  kind: string;
  payload: unknown;
  attempts: number;
  nextAttemptAt: number;
}

/** `discarded`: an operator gave up on it (the console). */
export type OutboxStatus = 'pending' | 'done' | 'failed' | 'discarded';

export type DiscardOutcome = 'discarded' | 'not_found' | 'in_flight';

/** An action as the store keeps it (what the console lists). */
export interface OutboxRecord extends OutboxAction {
  status: OutboxStatus;
  lastError?: string;
  createdAt: number;
  finishedAt?: number;
}

/**
 * The marks take an optional timeline step, recorded in the same write (the attempt's outcome as the
 * conversation's timeline shows it).
 */
export interface Outbox {
  add(action: NewOutboxAction): Promise<number>;
  /** All pending actions, oldest first, whatever their next attempt time. */
  pending(): Promise<OutboxAction[]>;
  /**
   * An attempt starts: counted before it runs, so a crash mid-attempt still counts it. Undefined when
   * the action is no longer pending (an operator discarded it, maybe through another replica): it must
   * not run. Where replicas share the store, the attempt also marks the action in flight until it is
   * marked done, retried or failed, so that a discard elsewhere is refused meanwhile.
   */
  attempt(id: number): Promise<number | undefined>;
  /** Replaces the payload: a multi-step action remembers which of its steps are done. */
  markProgress(id: number, payload: unknown, step?: TimelineStep): Promise<void>;
  /**
   * A delivered action is done whatever happened to it meanwhile (delivered is a fact). `result`: the
   * platform's id of what it created (a message), kept for `resultsBefore`.
   */
  markDone(id: number, step?: TimelineStep, result?: string): Promise<void>;
  /**
   * With replicas sharing the store: the done mark, and in the same statement the conversation's lease
   * given up by `holder` when nothing is left to do (no unfinished event, no other pending action).
   * True when nothing was left (the lease released, or no longer the holder's).
   */
  markDoneAndRelease?(id: number, holder: string, step?: TimelineStep, result?: string): Promise<boolean>;
  /**
   * The `result`s of the conversation's latest done actions older than `beforeId`, newest first, at most
   * `limit`: what the platform created before (a look before repeating must not take their evidence).
   */
  resultsBefore(conversationId: string, beforeId: number, limit: number): Promise<string[]>;
  /**
   * False (nothing written, no step) when the action is no longer pending: an operator discarded it
   * meanwhile. `attempts`: how many attempts there were, the first one included when it was made
   * without a write (a just-committed action); the stored count never goes down.
   */
  markRetry(id: number, nextAttemptAt: number, error: string, step?: TimelineStep, attempts?: number): Promise<boolean>;
  /** As `markRetry`, for an action that failed for good. */
  markFailed(id: number, error: string, step?: TimelineStep, attempts?: number): Promise<boolean>;
  /** Actions in the given statuses, the newest first; `tenant`: only that tenant's conversations' (`acme/…`). */
  list(filter: { statuses: OutboxStatus[]; limit: number; tenant?: string }): Promise<OutboxRecord[]>;
  get(id: number): Promise<OutboxRecord | undefined>;
  /** Due again at `now`: a failed action becomes pending with its attempts reset; a pending one is due now. Undefined when neither. */
  revive(id: number, now: number, step?: TimelineStep): Promise<OutboxAction | undefined>;
  /**
   * A pending or failed action given up (`discarded`). `not_found` when it is neither; `in_flight`
   * when another replica is attempting it now (stores that replicas share).
   */
  discard(id: number, reason: string, step?: TimelineStep): Promise<DiscardOutcome>;
}

/** Results kept per conversation in memory: as many as a look before repeating asks for. */
const KEPT_RESULTS = 50;

export class MemoryOutbox implements Outbox {
  private readonly actions = new Map<number, OutboxRecord>();
  /** The latest done actions' results per conversation (done actions are not kept). */
  private readonly results = new Map<string, Array<{ id: number; result: string }>>();
  private nextId = 1;

  constructor(
    private readonly clock: Clock = systemClock,
    private readonly timeline?: MemoryTimeline,
  ) {}

  async add(action: NewOutboxAction): Promise<number> {
    return this.addNow(action);
  }

  /** Synchronous, for a turn's commit (nothing may run between its parts). */
  addNow(action: NewOutboxAction): number {
    const id = this.nextId++;
    const now = this.clock.now();
    this.actions.set(id, { ...action, id, attempts: 0, nextAttemptAt: now, status: 'pending', createdAt: now });
    return id;
  }

  async pending(): Promise<OutboxAction[]> {
    return [...this.actions.values()].filter((a) => a.status === 'pending');
  }

  async markProgress(id: number, payload: unknown, step?: TimelineStep): Promise<void> {
    const a = this.actions.get(id);
    if (a) a.payload = payload;
    this.note(step);
  }

  async attempt(id: number): Promise<number | undefined> {
    const a = this.actions.get(id);
    if (a?.status !== 'pending') return undefined;
    a.attempts += 1;
    return a.attempts;
  }

  async markDone(id: number, step?: TimelineStep, result?: string): Promise<void> {
    const a = this.actions.get(id);
    if (a && result !== undefined) {
      this.results.set(a.conversationId, [...(this.results.get(a.conversationId) ?? []).slice(-(KEPT_RESULTS - 1)), { id, result }]);
      if (this.results.size > 10_000) this.results.delete(this.results.keys().next().value!);
    }
    this.actions.delete(id);
    this.note(step);
  }

  async resultsBefore(conversationId: string, beforeId: number, limit: number): Promise<string[]> {
    return (this.results.get(conversationId) ?? [])
      .filter((r) => r.id < beforeId)
      .map((r) => r.result)
      .reverse()
      .slice(0, limit);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    const a = this.actions.get(id);
    if (a?.status !== 'pending') return false;
    Object.assign(a, { nextAttemptAt, lastError: error, attempts: Math.max(a.attempts, attempts) });
    this.note(step);
    return true;
  }

  async markFailed(id: number, error: string, step?: TimelineStep, attempts = 0): Promise<boolean> {
    const a = this.actions.get(id);
    if (a?.status !== 'pending') return false;
    Object.assign(a, { status: 'failed', lastError: error, finishedAt: this.clock.now(), attempts: Math.max(a.attempts, attempts) });
    this.note(step);
    return true;
  }

  async list(filter: { statuses: OutboxStatus[]; limit: number; tenant?: string }): Promise<OutboxRecord[]> {
    return [...this.actions.values()]
      .filter((a) => filter.statuses.includes(a.status) && (filter.tenant === undefined || a.conversationId.startsWith(`${filter.tenant}/`)))
      .sort((a, b) => b.id - a.id)
      .slice(0, filter.limit)
      .map((a) => ({ ...a }));
  }

  async get(id: number): Promise<OutboxRecord | undefined> {
    const a = this.actions.get(id);
    return a ? { ...a } : undefined;
  }

  async revive(id: number, now: number, step?: TimelineStep): Promise<OutboxAction | undefined> {
    const a = this.actions.get(id);
    if (!a || (a.status !== 'pending' && a.status !== 'failed')) return undefined;
    if (a.status === 'failed') Object.assign(a, { status: 'pending', attempts: 0, finishedAt: undefined });
    a.nextAttemptAt = now;
    this.note(step);
    const { status: _s, lastError: _e, createdAt: _c, finishedAt: _f, ...action } = a;
    return action;
  }

  async discard(id: number, reason: string, step?: TimelineStep): Promise<DiscardOutcome> {
    const a = this.actions.get(id);
    if (!a || (a.status !== 'pending' && a.status !== 'failed')) return 'not_found';
    Object.assign(a, { status: 'discarded', lastError: reason, finishedAt: this.clock.now() });
    this.note(step);
    return 'discarded';
  }

  private note(step: TimelineStep | undefined): void {
    if (step) this.timeline?.recordNow([step]);
  }
}
