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
  /** A bot message that asked for an answer (a prompt: botbuilder's `inputHint: expectingInput`). */
  expectingInput?: true;
}

/** What an append found: whether the conversation had no transcript yet, and its newest entry before. */
export interface AppendResult {
  /** The conversation had no transcript: this is its start. */
  created: boolean;
  /** The newest entry before the ones appended. */
  previous?: TranscriptEntry;
}

export interface TranscriptStore {
  append(channelId: string, conversationId: string, entries: TranscriptEntry[]): Promise<AppendResult | void>;
  list(channelId: string, conversationId: string): Promise<TranscriptEntry[]>;
  clear(channelId: string, conversationId: string): Promise<void>;
  /** The storage key a conversation's next `append` reads first (prefetched with a turn), when there is one. */
  headKey?(channelId: string, conversationId: string): string;
}

/**
 * Stored in pages so that a turn rewrites a bounded amount whatever the conversation's length: the
 * head (the conversation's key) holds the newest entries; each time it passes a page's worth, the
 * oldest of them move to a page of their own (`<key>/<n>`), which is never rewritten.
 */
interface StoredTranscript extends StoreItem {
  entries: TranscriptEntry[];
  /** Pages written so far (absent in transcripts stored before paging: none). */
  pages?: number;
  /** The oldest page still kept (older ones were dropped past the size bound). */
  firstPage?: number;
}

interface StoredPage extends StoreItem {
  entries: TranscriptEntry[];
}

/**
 * Small, because the head is read and rewritten by every turn (the customer's line, then the bot's):
 * a turn handles about five entries on average instead of a long array. Listing the whole transcript
 * (a handoff note, a ticket) reads one key per page, which is rare. A head written with bigger pages
 * is split at its next append; its older pages stay readable as they are.
 */
export const TRANSCRIPT_PAGE_SIZE = 10;

/** A transcript store on a botbuilder Storage; keeps about the newest `maxEntries` per conversation. */
export class StorageTranscriptStore implements TranscriptStore {
  private readonly maxPages: number;

  constructor(
    private readonly storage: Storage,
    private readonly maxEntries = 500,
  ) {
    this.maxPages = Math.max(1, Math.ceil(maxEntries / TRANSCRIPT_PAGE_SIZE));
  }

  private key(channelId: string, conversationId: string): string {
    return `transcript/${channelId}/${conversationId}`;
  }

  headKey(channelId: string, conversationId: string): string {
    return this.key(channelId, conversationId);
  }

  async append(channelId: string, conversationId: string, entries: TranscriptEntry[]): Promise<AppendResult> {
    if (entries.length === 0) return { created: false };
    const key = this.key(channelId, conversationId);
    // Read-merge-write guarded by the head's eTag; a concurrent writer makes us read again.
    for (let attempt = 0; ; attempt++) {
      const head = (await this.storage.read([key]))[key] as StoredTranscript | undefined;
      const recent = [...(head?.entries ?? []), ...entries];
      let pages = head?.pages ?? 0;
      let firstPage = head?.firstPage ?? 0;
      const changes: Record<string, StoredPage> = {};
      while (recent.length > TRANSCRIPT_PAGE_SIZE) changes[`${key}/${pages++}`] = { entries: recent.splice(0, TRANSCRIPT_PAGE_SIZE) };
      const dropped: string[] = [];
      while (pages - firstPage > this.maxPages) dropped.push(`${key}/${firstPage++}`);
      for (const k of dropped) delete changes[k];
      try {
        // Pages first: a head that names a page is only ever written once the page is.
        if (Object.keys(changes).length > 0) await this.storage.write(changes);
        await this.storage.write({ [key]: { entries: recent, pages, firstPage, eTag: head?.eTag ?? '*' } satisfies StoredTranscript });
        const stale = dropped.filter((k) => !(k in changes));
        if (stale.length > 0) await this.storage.delete(stale);
        return { created: head === undefined, previous: head?.entries.at(-1) };
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
  }

  async list(channelId: string, conversationId: string): Promise<TranscriptEntry[]> {
    const key = this.key(channelId, conversationId);
    const head = (await this.storage.read([key]))[key] as StoredTranscript | undefined;
    if (!head) return [];
    const pageKeys: string[] = [];
    for (let n = head.firstPage ?? 0; n < (head.pages ?? 0); n++) pageKeys.push(`${key}/${n}`);
    // A page dropped by retention leaves a gap; what is left is still in order.
    const pages = pageKeys.length > 0 ? await this.storage.read(pageKeys) : {};
    const older = pageKeys.flatMap((k) => (pages[k] as StoredPage | undefined)?.entries ?? []);
    return [...older, ...head.entries].slice(-this.maxEntries);
  }

  async clear(channelId: string, conversationId: string): Promise<void> {
    const key = this.key(channelId, conversationId);
    const head = (await this.storage.read([key]))[key] as StoredTranscript | undefined;
    const keys = [key];
    for (let n = head?.firstPage ?? 0; n < (head?.pages ?? 0); n++) keys.push(`${key}/${n}`);
    await this.storage.delete(keys);
  }
}
