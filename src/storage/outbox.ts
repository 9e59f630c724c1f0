/**
 * The outbox of platform actions that must happen (handoffs, status changes): written before the first
 * attempt, retried with backoff across restarts until they succeed or fail for good.
 */
import { systemClock, type Clock } from '../clock';
import type { NewOutboxAction } from './turn-writes';

export interface OutboxAction {
  id: number;
  platform: string;
  conversationId: string;
  kind: string;
  payload: unknown;
  attempts: number;
  nextAttemptAt: number;
}

export interface Outbox {
  add(action: NewOutboxAction): Promise<number>;
  /** Pending actions whose next attempt is due, oldest first. */
  due(now: number, limit: number): Promise<OutboxAction[]>;
  /** All pending actions, oldest first, whatever their next attempt time. */
  pending(): Promise<OutboxAction[]>;
  /** An attempt starts: counted before it runs, so a crash mid-attempt still counts it. */
  attempt(id: number): Promise<number>;
  /** Replaces the payload: a multi-step action remembers which of its steps are done. */
  markProgress(id: number, payload: unknown): Promise<void>;
  markDone(id: number): Promise<void>;
  markRetry(id: number, nextAttemptAt: number, error: string): Promise<void>;
  markFailed(id: number, error: string): Promise<void>;
  pendingCount(): Promise<number>;
}

export class MemoryOutbox implements Outbox {
  private readonly actions = new Map<number, OutboxAction & { status: 'pending' | 'done' | 'failed'; lastError?: string }>();
  private nextId = 1;

  constructor(private readonly clock: Clock = systemClock) {}

  async add(action: NewOutboxAction): Promise<number> {
    return this.addNow(action);
  }

  /** Synchronous, for a turn's commit (nothing may run between its parts). */
  addNow(action: NewOutboxAction): number {
    const id = this.nextId++;
    this.actions.set(id, { ...action, id, attempts: 0, nextAttemptAt: this.clock.now(), status: 'pending' });
    return id;
  }

  async due(now: number, limit: number): Promise<OutboxAction[]> {
    return [...this.actions.values()].filter((a) => a.status === 'pending' && a.nextAttemptAt <= now).slice(0, limit);
  }

  async pending(): Promise<OutboxAction[]> {
    return [...this.actions.values()].filter((a) => a.status === 'pending');
  }

  async markProgress(id: number, payload: unknown): Promise<void> {
    const a = this.actions.get(id);
    if (a) a.payload = payload;
  }

  async attempt(id: number): Promise<number> {
    const a = this.actions.get(id);
    if (!a) return 0;
    a.attempts += 1;
    return a.attempts;
  }

  async markDone(id: number): Promise<void> {
    this.actions.delete(id);
  }

  async markRetry(id: number, nextAttemptAt: number, error: string): Promise<void> {
    const a = this.actions.get(id);
    if (a) Object.assign(a, { nextAttemptAt, lastError: error });
  }

  async markFailed(id: number, error: string): Promise<void> {
    const a = this.actions.get(id);
    if (a) Object.assign(a, { status: 'failed', lastError: error });
  }

  async pendingCount(): Promise<number> {
    return [...this.actions.values()].filter((a) => a.status === 'pending').length;
  }
}
