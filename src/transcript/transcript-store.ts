/**
 * The conversation's transcript, independent of the platform APIs (a Nimchat bot token cannot read
 * history): the customer's messages, the bot's and the human agents' replies, so a handoff note or a
 * ticket always has the whole story.
 */
import type { Storage, StoreItem } from 'botbuilder-core';

export type TranscriptRole = 'customer' | 'bot' | 'agent';

export interface TranscriptEntry {
  role: TranscriptRole;
  text: string;
  /** ISO time. */
  at: string;
  /** Who wrote it, when it is not the customer or the bot (a human agent's name). */
  name?: string;
}

export interface TranscriptStore {
  append(channelId: string, conversationId: string, entries: TranscriptEntry[]): Promise<void>;
  list(channelId: string, conversationId: string): Promise<TranscriptEntry[]>;
  clear(channelId: string, conversationId: string): Promise<void>;
}

interface StoredTranscript extends StoreItem {
  entries: TranscriptEntry[];
}

/** A transcript store on a botbuilder Storage; keeps the newest `maxEntries` per conversation. */
export class StorageTranscriptStore implements TranscriptStore {
  constructor(
    private readonly storage: Storage,
    private readonly maxEntries = 500,
  ) {}

  private key(channelId: string, conversationId: string): string {
    return `transcript/${channelId}/${conversationId}`;
  }

  async append(channelId: string, conversationId: string, entries: TranscriptEntry[]): Promise<void> {
    if (entries.length === 0) return;
    const key = this.key(channelId, conversationId);
    // Read-merge-write guarded by the eTag; a concurrent writer makes us read again.
    for (let attempt = 0; ; attempt++) {
      const current = (await this.storage.read([key]))[key] as StoredTranscript | undefined;
      const merged = [...(current?.entries ?? []), ...entries].slice(-this.maxEntries);
      try {
        await this.storage.write({ [key]: { entries: merged, eTag: current?.eTag ?? '*' } });
        return;
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
  }

  async list(channelId: string, conversationId: string): Promise<TranscriptEntry[]> {
    const key = this.key(channelId, conversationId);
    const current = (await this.storage.read([key]))[key] as StoredTranscript | undefined;
    return current?.entries ?? [];
  }

  async clear(channelId: string, conversationId: string): Promise<void> {
    await this.storage.delete([this.key(channelId, conversationId)]);
  }
}
