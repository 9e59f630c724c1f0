/**
 * Durable per-conversation timers (the no-answer ladder's alarms): one row per key with its due time,
 * claimed when due by whichever process (or replica) polls first, and removed once its work is done.
 * A claim lasts a while: when its holder dies, the timer is due again for someone else. A timer is a
 * wake-up call, not the truth: its handler checks the conversation's state in the conversation's turn.
 */
import { randomUUID } from 'node:crypto';

export interface NewTimer {
  /** One timer per key: setting it again replaces it (and ends any claim on it). */
  key: string;
  channelId: string;
  conversationId: string;
  kind: string;
  dueAt: number;
  payload: unknown;
}

export interface ClaimedTimer extends NewTimer {
  /** Claims so far, this one included. */
  attempts: number;
  /** Identifies this claim: `finish` removes the timer only while it is still this claim's. */
  claim: string;
}

export interface TimerStore {
  /** Creates or replaces the timer of `key`. */
  set(timer: NewTimer): Promise<void>;
  /** Removes the timer of `key`, if any. */
  cancel(key: string): Promise<void>;
  /** Timers due at `now` and not claimed (or whose claim ran out), oldest first, claimed until `now + claimMs`. */
  claimDue(now: number, claimMs: number, limit: number): Promise<ClaimedTimer[]>;
  /** Removes the timer if it still carries that claim (one set again meanwhile stays). */
  finish(key: string, claim: string): Promise<void>;
  /** The timer of `key` (tests, the console). */
  get(key: string): Promise<NewTimer | undefined>;
}

interface MemoryTimer extends NewTimer {
  attempts: number;
  claim?: string;
  claimedUntil?: number;
}

export class MemoryTimerStore implements TimerStore {
  private readonly timers = new Map<string, MemoryTimer>();

  async set(timer: NewTimer): Promise<void> {
    this.timers.set(timer.key, { ...timer, payload: JSON.parse(JSON.stringify(timer.payload ?? null)) as unknown, attempts: 0 });
  }

  async cancel(key: string): Promise<void> {
    this.timers.delete(key);
  }

  async claimDue(now: number, claimMs: number, limit: number): Promise<ClaimedTimer[]> {
    const due = [...this.timers.values()]
      .filter((t) => t.dueAt <= now && (t.claimedUntil === undefined || t.claimedUntil <= now))
      .sort((a, b) => a.dueAt - b.dueAt)
      .slice(0, limit);
    const claim = randomUUID();
    return due.map((t) => {
      t.attempts += 1;
      t.claim = claim;
      t.claimedUntil = now + claimMs;
      return { key: t.key, channelId: t.channelId, conversationId: t.conversationId, kind: t.kind, dueAt: t.dueAt, payload: t.payload, attempts: t.attempts, claim };
    });
  }

  async finish(key: string, claim: string): Promise<void> {
    if (this.timers.get(key)?.claim === claim) this.timers.delete(key);
  }

  async get(key: string): Promise<NewTimer | undefined> {
    const t = this.timers.get(key);
    return t ? { key: t.key, channelId: t.channelId, conversationId: t.conversationId, kind: t.kind, dueAt: t.dueAt, payload: t.payload } : undefined;
  }

  /** How many timers are set (tests). */
  get size(): number {
    return this.timers.size;
  }
}
