/**
 * Transcript capture for bots on adapters other than ours (ours record the transcript themselves, in
 * the turn's own writes). The store and the formatting live in the core and are re-exported here.
 */
import type { Middleware, TurnContext } from 'botbuilder-core';
import { botEntries, customerEntry, type TranscriptStore } from '../src/transcript';

export * from '../src/transcript';

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
    const entry = customerEntry(activity);
    if (entry) await this.store.append(channelId, conversationId, [entry]);
    context.onSendActivities(async (_ctx, activities, sendNext) => {
      const responses = await sendNext();
      await this.store.append(channelId, conversationId, botEntries(activities));
      return responses;
    });
    await next();
  }
}
