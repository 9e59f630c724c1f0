/**
 * The inbox of accepted webhook events: an event is stored (with its idempotency keys, atomically)
 * before the platform gets its 2xx, processed from there, and marked done after its turn. At start the
 * unfinished ones are processed again, per conversation in their original order.
 */
import type { Claim } from '../replicas/replica-coordination';
import type { DedupeStore } from './dedupe-store';
import { systemClock, type Clock } from '../clock';
import type { MemoryTimeline, TimelineStep } from './timeline';

export interface InboxEvent {
  id: number;
  platform: string;
  conversationId: string;
  payload: unknown;
  receivedAt: number;
  /** How many times processing started (a crash mid-turn leaves it above 0). */
  attempts: number;
  /** When it was set aside (its processing never finished), and why. */
  setAsideAt?: number;
  setAsideReason?: string;
}

export interface AcceptInput {
  platform: string;
  conversationId: string;
  dedupeKeys: string[];
  ttlMs: number;
  payload: unknown;
  /** The timeline's "webhook received" step, recorded with the accept (marked duplicate or not). */
  timeline?: TimelineStep;
  /**
   * Replicas: take the conversation's lease in the same statement when it is free, as `holder` (see
   * ReplicaCoordination.claim); engines without replicas ignore it.
   */
  claim?: AcceptClaim;
}

/** The lease an accept may take with it, and the state keys to read when it does. */
export interface AcceptClaim {
  holder: string;
  ttlMs: number;
  stateKeys: readonly string[];
}

/**
 * `claim`: the lease was free and the accept took it: the conversation's unfinished events (this one
 * last), the one whose processing is marked started, its pending actions.
 */
export type AcceptResult = { duplicate: true } | { duplicate: false; id: number; claim?: Claim };

export interface EventInbox {
  /** One atomic step: refuse a duplicate, else remember its keys and store the event. */
  accept(input: AcceptInput): Promise<AcceptResult>;
  /**
   * Processing starts (counted, so an event that keeps crashing the process can be set aside). May be
   * left unawaited: it is stored before the same event's later done mark.
   */
  started(id: number): Promise<void>;
  markDone(id: number): Promise<void>;
  /** Unfinished events of a platform, oldest first (set-aside ones excluded). */
  unfinished(platform: string): Promise<InboxEvent[]>;
  /** Processing never finished: kept, not processed again, until an operator retries or discards it. */
  setAside(id: number, reason: string, step?: TimelineStep): Promise<void>;
  /** Set-aside events, the most recent first; `tenant`: only that tenant's conversations' (`acme/…`). */
  listSetAside(limit: number, tenant?: string): Promise<InboxEvent[]>;
  /** Unfinished again with its attempts reset (returned), or undefined when it is not set aside. */
  reviveSetAside(id: number, step?: TimelineStep): Promise<InboxEvent | undefined>;
  /** Marked done without processing; false when it is not set aside. */
  discardSetAside(id: number, step?: TimelineStep): Promise<boolean>;
}

/** In process memory (`memory:`): the same contract, nothing survives a restart. */
export class MemoryEventInbox implements EventInbox {
  private readonly events = new Map<number, InboxEvent>();
  private nextId = 1;

  constructor(
    private readonly dedupe: DedupeStore,
    private readonly clock: Clock = systemClock,
    private readonly timeline?: MemoryTimeline,
  ) {}

  async accept(input: AcceptInput): Promise<AcceptResult> {
    const duplicate = input.dedupeKeys.length > 0 && (await this.dedupe.checkAndRemember(input.dedupeKeys, input.ttlMs));
    if (input.timeline) this.timeline?.recordNow([{ ...input.timeline, detail: { ...input.timeline.detail, duplicate } }]);
    if (duplicate) return { duplicate: true };
    const id = this.nextId++;
    this.events.set(id, { id, platform: input.platform, conversationId: input.conversationId, payload: input.payload, receivedAt: this.clock.now(), attempts: 0 });
    return { duplicate: false, id };
  }

  async started(id: number): Promise<void> {
    const event = this.events.get(id);
    if (event) event.attempts += 1;
  }

  async markDone(id: number): Promise<void> {
    this.markDoneNow(id);
  }

  /** Synchronous, for a turn's commit (nothing may run between its parts). */
  markDoneNow(id: number): void {
    this.events.delete(id);
  }

  async unfinished(platform: string): Promise<InboxEvent[]> {
    return [...this.events.values()].filter((e) => e.platform === platform && e.setAsideAt === undefined);
  }

  async setAside(id: number, reason: string, step?: TimelineStep): Promise<void> {
    const event = this.events.get(id);
    if (!event) return;
    event.setAsideAt = this.clock.now();
    event.setAsideReason = reason;
    if (step) this.timeline?.recordNow([step]);
  }

  async listSetAside(limit: number, tenant?: string): Promise<InboxEvent[]> {
    return [...this.events.values()]
      .filter((e) => e.setAsideAt !== undefined && (tenant === undefined || e.conversationId.startsWith(`${tenant}/`)))
      .sort((a, b) => b.setAsideAt! - a.setAsideAt! || b.id - a.id)
      .slice(0, limit)
      .map((e) => ({ ...e }));
  }

  async reviveSetAside(id: number, step?: TimelineStep): Promise<InboxEvent | undefined> {
    const event = this.events.get(id);
    if (event?.setAsideAt === undefined) return undefined;
    event.setAsideAt = undefined;
    event.setAsideReason = undefined;
    event.attempts = 0;
    if (step) this.timeline?.recordNow([step]);
    return { ...event };
  }

  async discardSetAside(id: number, step?: TimelineStep): Promise<boolean> {
    const event = this.events.get(id);
    if (event?.setAsideAt === undefined) return false;
    this.events.delete(id);
    if (step) this.timeline?.recordNow([step]);
    return true;
  }
}
