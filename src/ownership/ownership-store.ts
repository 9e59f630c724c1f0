/**
 * Ownership records in a botbuilder Storage (inside a turn, the turn's own writes: committed with it).
 * The only writer of ownership: every change is an event through the reducer.
 */
import type { Storage } from 'botbuilder-core';
import type { OwnershipEvent } from './ownership-event';
import { NEW_CONVERSATION, OwnershipRecordSchema, type Owner, type OwnershipRecord } from './ownership-record';
import { reduceOwnership, type OwnershipDecision } from './reduce-ownership';

/** A change of owner, reason or platform status, as `apply` wrote it. */
export interface OwnershipChange {
  channelId: string;
  conversationId: string;
  before: OwnershipRecord;
  after: OwnershipRecord;
  transition: OwnershipDecision['transition'];
}

export class OwnershipStore {
  constructor(
    private readonly storage: Storage,
    /** Told of every change of owner, reason or platform status, right after its write (the timeline). */
    private readonly onChange?: (change: OwnershipChange) => void,
  ) {}

  private key(channelId: string, conversationId: string): string {
    return `ownership/${channelId}/${conversationId}`;
  }

  /** The storage key of a conversation's record (prefetched with a turn). */
  storageKey(channelId: string, conversationId: string): string {
    return this.key(channelId, conversationId);
  }

  /** The record, or undefined when nothing was recorded (the bot owns a new conversation). */
  async get(channelId: string, conversationId: string): Promise<OwnershipRecord | undefined> {
    const key = this.key(channelId, conversationId);
    const item = (await this.storage.read([key]))[key];
    if (!item) return undefined;
    const parsed = OwnershipRecordSchema.safeParse(item);
    return parsed.success ? parsed.data : undefined;
  }

  async owner(channelId: string, conversationId: string): Promise<Owner> {
    return (await this.get(channelId, conversationId))?.owner ?? 'bot';
  }

  /** Applies events in order; writes once when anything changed. `known`: the record the caller has just read. The transition is the net one. */
  async apply(channelId: string, conversationId: string, events: readonly OwnershipEvent[], known?: OwnershipRecord): Promise<OwnershipDecision> {
    const before = known ?? (await this.get(channelId, conversationId));
    let record = before;
    let changed = false;
    for (const event of events) {
      const decision = reduceOwnership(record, event);
      record = decision.record;
      changed ||= decision.changed;
    }
    const after = record ?? NEW_CONVERSATION;
    const beforeOwner = before?.owner ?? 'bot';
    const transition = beforeOwner !== 'bot' && after.owner === 'bot' ? 'released' : beforeOwner === 'bot' && after.owner !== 'bot' ? 'taken' : undefined;
    if (changed) {
      const key = this.key(channelId, conversationId);
      await this.storage.write({ [key]: { ...after, updatedAt: new Date().toISOString(), eTag: '*' } });
      const previous = before ?? NEW_CONVERSATION;
      if (previous.owner !== after.owner || previous.reason !== after.reason || previous.platformStatus !== after.platformStatus) {
        this.onChange?.({ channelId, conversationId, before: previous, after, transition });
      }
    }
    return { record: after, transition, changed };
  }
}
