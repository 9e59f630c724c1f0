/**
 * Who owns a conversation: the bot, a human, or a ticket. Kept per conversation in the botbuilder
 * Storage (so it survives restarts with a durable store); the handoff gate reads it, adapters write it.
 */
import type { Storage, StoreItem } from 'botbuilder-core';

export type Owner = 'bot' | 'human' | 'ticket';

export interface OwnershipRecord {
  owner: Owner;
  /** Why the owner is what it is (e.g. `status`, `handoff`, `agent_message`, `ticket`). */
  reason: string;
  /** The platform's own status word when known (Nimchat: pending/open/…). */
  platformStatus?: string;
  /** Platform time (ms) of the newest observation applied, to ignore stale out-of-order deliveries. */
  observedAt?: number;
  /** Platform facts the release rules compare against (WOZTELL: the assignee or live-chat flag seen). */
  details?: Record<string, string | number | boolean>;
  updatedAt: string;
}

interface StoredOwnership extends StoreItem, OwnershipRecord {}

export class OwnershipStore {
  constructor(private readonly storage: Storage) {}

  private key(channelId: string, conversationId: string): string {
    return `ownership/${channelId}/${conversationId}`;
  }

  /** The record, or undefined when nothing was recorded (the bot owns a new conversation). */
  async get(channelId: string, conversationId: string): Promise<OwnershipRecord | undefined> {
    const key = this.key(channelId, conversationId);
    const items = await this.storage.read([key]);
    const item = items[key] as StoredOwnership | undefined;
    if (!item) return undefined;
    const { eTag: _eTag, ...record } = item;
    return record;
  }

  async owner(channelId: string, conversationId: string): Promise<Owner> {
    return (await this.get(channelId, conversationId))?.owner ?? 'bot';
  }

  async set(channelId: string, conversationId: string, record: Omit<OwnershipRecord, 'updatedAt'>): Promise<void> {
    const key = this.key(channelId, conversationId);
    await this.storage.write({ [key]: { ...record, updatedAt: new Date().toISOString(), eTag: '*' } });
  }
}
