/**
 * Transcript capture and formatting, independent of the platform APIs (a Nimchat bot token cannot
 * read history): every customer message and every bot message of a conversation is written to the
 * transcript store before the turn ends, so a handoff note or a ticket always has the whole story.
 */
import type { Activity, Middleware, Storage, StoreItem, TurnContext } from 'botbuilder-core';
import { ActivityTypes } from 'botbuilder-core';

export type TranscriptRole = 'customer' | 'bot';

export interface TranscriptEntry {
  role: TranscriptRole;
  text: string;
  /** ISO time. */
  at: string;
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

/** The text a transcript line shows for an activity (text, chosen value, choices, attachments). */
export function describeActivity(activity: Partial<Activity>): string {
  const parts: string[] = [];
  if (activity.text) parts.push(activity.text);
  else if (activity.value !== undefined && activity.value !== null && typeof activity.value !== 'object') {
    parts.push(String(activity.value));
  }
  for (const card of activity.attachments ?? []) {
    const content = card.content as { title?: string; text?: string } | undefined;
    if (card.contentType?.startsWith('application/vnd.microsoft.card')) {
      const cardText = [content?.title, content?.text].filter(Boolean).join(' ');
      if (cardText) parts.push(cardText);
    } else {
      parts.push(`[attachment: ${card.name ?? card.contentType ?? 'file'}]`);
    }
  }
  const choices = (activity.suggestedActions?.actions ?? []).map((a) => a.title ?? String(a.value ?? ''));
  if (choices.length > 0) parts.push(`[${choices.join(' | ')}]`);
  return parts.join(' ').replace(/\s*\n+\s*/g, ' ').trim();
}

/** One line per message: `Customer: …` or `Bot: …`. */
export function formatTranscript(entries: readonly TranscriptEntry[]): string {
  return entries.map((e) => `${e.role === 'customer' ? 'Customer' : 'Bot'}: ${e.text}`).join('\n');
}

/** Turns stored entries into the `{activities}` a `handoff.initiate` transcript attachment carries. */
export function transcriptToActivities(entries: readonly TranscriptEntry[]): Partial<Activity>[] {
  return entries.map((e) => ({
    type: ActivityTypes.Message,
    from: e.role === 'customer' ? { id: 'customer', name: 'Customer', role: 'user' } : { id: 'bot', name: 'Bot', role: 'bot' },
    text: e.text,
    timestamp: new Date(e.at),
  }));
}

/** Formats the activities of a transcript attachment (ours or a bot developer's own). */
export function formatTranscriptActivities(activities: readonly Partial<Activity>[]): string {
  return formatTranscript(
    activities
      .filter((a) => (a.type ?? ActivityTypes.Message) === ActivityTypes.Message)
      .map((a) => ({
        role: a.from?.role === 'user' ? ('customer' as const) : ('bot' as const),
        text: describeActivity(a),
        at: new Date(a.timestamp ?? Date.now()).toISOString(),
      }))
      .filter((e) => e.text !== ''),
  );
}

/**
 * Records the customer's messages and the bot's replies, awaited inside the turn (botbuilder's own
 * TranscriptLoggerMiddleware does not await, so a handoff right after a message could miss it).
 */
export class TranscriptCaptureMiddleware implements Middleware {
  constructor(private readonly store: TranscriptStore) {}

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    const { activity } = context;
    const channelId = activity.channelId;
    const conversationId = activity.conversation.id;
    if (activity.type === ActivityTypes.Message && activity.from?.role !== 'bot') {
      const text = describeActivity(activity);
      if (text) await this.store.append(channelId, conversationId, [{ role: 'customer', text, at: stamp(activity.timestamp) }]);
    }
    context.onSendActivities(async (_ctx, activities, sendNext) => {
      const responses = await sendNext();
      const entries = activities
        .filter((a) => a.type === ActivityTypes.Message)
        .map((a) => ({ role: 'bot' as const, text: describeActivity(a), at: new Date().toISOString() }))
        .filter((e) => e.text !== '');
      await this.store.append(channelId, conversationId, entries);
      return responses;
    });
    await next();
  }
}

function stamp(timestamp: Date | string | undefined): string {
  const d = timestamp ? new Date(timestamp) : new Date();
  return Number.isNaN(d.getTime()) ? new Date().toISOString() : d.toISOString();
}
