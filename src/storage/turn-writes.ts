/**
 * A turn's unit of work: its state writes and deletes, the outbox actions it adds and the inbox event
 * it finishes are buffered, then committed together in one transaction (Stores.beginTurn). Each
 * engine supplies how stored items are read and how the buffered changes are applied.
 */
import type { StoreItems } from 'botbuilder-core';
import { HandoffError } from '../errors';
import type { TimelineStep } from './timeline';
import { carryTrace } from '../tracing/tracer';

export interface NewOutboxAction {
  platform: string;
  conversationId: string;
  kind: string;
  payload: unknown;
}

export interface TurnWrites {
  /** botbuilder Storage semantics; reads see this unit's own buffered writes and deletes first. */
  read(keys: string[]): Promise<StoreItems>;
  /**
   * Reads keys the turn will read (the ownership record, the transcript head, the bot's conversation
   * state) in one round trip; their later reads in this unit are served from it.
   */
  prefetch(keys: string[]): Promise<void>;
  /** Buffered. An eTag other than '*'/absent is checked at commit against the stored row (stale → the commit rejects, nothing of this unit is written). */
  write(changes: StoreItems): Promise<void>;
  delete(keys: string[]): Promise<void>;
  /** An outbox row added by the commit, in call order. Returns the copy that will be committed. */
  addOutbox(action: NewOutboxAction): NewOutboxAction;
  /** An inbox event marked done by the commit. */
  markInboxDone(id: number): void;
  /** A timeline step recorded by the commit, in call order (serialised at commit: it may still be completed until then). */
  addTimeline(step: TimelineStep): void;
  /** Everything above in one transaction (group-committed with whatever else is pending). Resolves with the new outbox ids in addOutbox order. */
  commit(): Promise<{ outboxIds: number[] }>;
}

/**
 * A buffered change of one state key. `json` is the item without its eTag; `expectedETag`, when set,
 * is the eTag the stored row must still have (a missing row is written anyway, as MemoryStorage does).
 */
export type StateChange = { kind: 'write'; json: string; expectedETag?: string } | { kind: 'delete' };

/** What a commit applies, all or nothing. */
export interface TurnChanges {
  /** Per key, the unit's last change (keys in the order first touched). */
  state: Map<string, StateChange>;
  outbox: NewOutboxAction[];
  inboxDone: number[];
  timeline: TimelineStep[];
}

/** The eTag a write is conditional on, or undefined when it writes unconditionally. */
export function conditionOf(eTag: unknown): string | undefined {
  return typeof eTag === 'string' && eTag !== '' && eTag !== '*' ? eTag : undefined;
}

/** StoreItems as state changes: each item's eTag becomes its condition. */
export function stateChangesOf(changes: StoreItems): Map<string, StateChange> {
  const state = new Map<string, StateChange>();
  for (const [key, item] of Object.entries(changes)) {
    const { eTag, ...rest } = (item ?? {}) as { eTag?: unknown };
    state.set(key, { kind: 'write', json: JSON.stringify(rest), expectedETag: conditionOf(eTag) });
  }
  return state;
}

export class BufferedTurnWrites implements TurnWrites {
  private readonly changes: TurnChanges = { state: new Map(), outbox: [], inboxDone: [], timeline: [] };
  /** Prefetched rows (JSON, or undefined for none), served to this unit's reads of their keys. */
  private readonly fetched = new Map<string, string | undefined>();
  private finished = false;

  constructor(
    private readonly readStored: (keys: string[]) => Promise<StoreItems>,
    private readonly apply: (changes: TurnChanges) => Promise<{ outboxIds: number[] }>,
  ) {}

  async prefetch(keys: string[]): Promise<void> {
    const missing = keys.filter((key) => !this.changes.state.has(key) && !this.fetched.has(key));
    if (missing.length === 0) return;
    const stored = await this.readStored(missing);
    for (const key of missing) this.fetched.set(key, stored[key] === undefined ? undefined : JSON.stringify(stored[key]));
  }

  async read(keys: string[]): Promise<StoreItems> {
    const unbuffered = keys.filter((key) => !this.changes.state.has(key) && !this.fetched.has(key));
    const stored: StoreItems = unbuffered.length > 0 ? await this.readStored(unbuffered) : {};
    for (const key of keys) {
      // A fresh copy each time: the caller may change the object it gets.
      const json = this.changes.state.has(key) ? undefined : this.fetched.get(key);
      if (json !== undefined) stored[key] = JSON.parse(json) as StoreItems[string];
    }
    const items: StoreItems = {};
    for (const key of keys) {
      const change = this.changes.state.get(key);
      if (change?.kind === 'write') {
        // Read back as written; its eTag is still the one checked at commit ('*' when unconditional).
        items[key] = { ...(JSON.parse(change.json) as object), eTag: change.expectedETag ?? '*' };
      } else if (!change && stored[key] !== undefined) {
        items[key] = stored[key];
      }
    }
    return items;
  }

  async write(changes: StoreItems): Promise<void> {
    this.assertOpen();
    for (const [key, change] of stateChangesOf(changes)) {
      if (change.kind !== 'write') continue;
      const previous = this.changes.state.get(key);
      // Only the first write of a key refers to the stored row: a later one builds on the unit's own
      // version (keeping that first condition), and a write after a delete writes unconditionally.
      const expectedETag = previous === undefined ? change.expectedETag : previous.kind === 'write' ? previous.expectedETag : undefined;
      this.changes.state.set(key, { kind: 'write', json: change.json, expectedETag });
    }
  }

  async delete(keys: string[]): Promise<void> {
    this.assertOpen();
    for (const key of keys) this.changes.state.set(key, { kind: 'delete' });
  }

  addOutbox(action: NewOutboxAction): NewOutboxAction {
    this.assertOpen();
    // Serialised now, as a direct add would store it: later changes to the object are not committed.
    // The delivery's span is a child of this turn's.
    const copy = { ...action, payload: carryTrace(JSON.parse(JSON.stringify(action.payload ?? null)) as unknown) };
    this.changes.outbox.push(copy);
    return copy;
  }

  markInboxDone(id: number): void {
    this.assertOpen();
    this.changes.inboxDone.push(id);
  }

  addTimeline(step: TimelineStep): void {
    this.assertOpen();
    this.changes.timeline.push(step);
  }

  commit(): Promise<{ outboxIds: number[] }> {
    try {
      this.assertOpen();
    } catch (error) {
      return Promise.reject(error);
    }
    this.finished = true;
    return this.apply(this.changes);
  }

  private assertOpen(): void {
    if (this.finished) throw new HandoffError('turn_committed', 'this unit of work was already committed; begin another one');
  }
}
