/**
 * The inbox of accepted webhook events: an event is stored (with its idempotency keys, atomically)
 * before the platform gets its 2xx, processed from there, and marked done after its turn. At start the
 * unfinished ones are processed again, per conversation in their original order.
 */
import type { DedupeStore } from './dedupe-store';
import { systemClock, type Clock } from '../clock';

export interface InboxEvent {
  id: number;
  platform: string;
  conversationId: string;
  payload: unknown;
  receivedAt: number;
  /** How many times processing started (a crash mid-turn leaves it above 0). */
  attempts: number;
}

export interface AcceptInput {
  platform: string;
  conversationId: string;
  dedupeKeys: string[];
  ttlMs: number;
  payload: unknown;
}

export type AcceptResult = { duplicate: true } | { duplicate: false; id: number };

export interface EventInbox {
  /** One atomic step: refuse a duplicate, else remember its keys and store the event. */
  accept(input: AcceptInput): Promise<AcceptResult>;
  /**
   * Processing starts (counted, so an event that keeps crashing the process can be set aside). May be
   * left unawaited: it is stored before the same event's later done mark.
   */
  started(id: number): Promise<void>;
  markDone(id: number): Promise<void>;
  /** Unfinished events of a platform, oldest first. */
  unfinished(platform: string): Promise<InboxEvent[]>;
}

/** In process memory (`memory:`): the same contract, nothing survives a restart. */
export class MemoryEventInbox implements EventInbox {
  private readonly events = new Map<number, InboxEvent>();
  private nextId = 1;

  constructor(
    private readonly dedupe: DedupeStore,
    private readonly clock: Clock = systemClock,
  ) {}

  async accept(input: AcceptInput): Promise<AcceptResult> {
    if (input.dedupeKeys.length > 0 && (await this.dedupe.checkAndRemember(input.dedupeKeys, input.ttlMs))) return { duplicate: true };
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
    return [...this.events.values()].filter((e) => e.platform === platform);
  }
}
