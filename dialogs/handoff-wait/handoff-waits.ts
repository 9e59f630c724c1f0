/**
 * What is known about a customer waiting for a human, per conversation: from the handoff the platform
 * accepted until a human writes publicly (answered), or the wait ends (released, a ticket, resolved).
 * Kept in the bot's Storage: inside a turn, written with the turn.
 */
import type { Storage } from 'botbuilder-core';
import { z } from 'zod';

export const HandoffWaitSchema = z.object({
  /** `requested`: a handoff is on its way (made while closed: `opensAt` is set); `waiting`: no human answered yet. */
  phase: z.enum(['requested', 'waiting', 'answered', 'ended']),
  /** When the platform accepted the handoff (ms). */
  since: z.number().optional(),
  /** From when the no-answer ladder counts: the handoff, or the next opening when it was made while closed. */
  countFrom: z.number().optional(),
  /** The next opening of the business hours, when the customer chose to wait while closed. */
  opensAt: z.number().optional(),
  /** The time zone of those business hours (the opening time is said on their clock). */
  timeZone: z.string().optional(),
  /** The ladder's steps done (0–2). */
  step: z.number().int().min(0).max(2).default(0),
  /** Identifies one wait: an alarm of another one is ignored. */
  generation: z.string().optional(),
  /** When the customer was last told they are waiting (ms). */
  lastNoticeAt: z.number().optional(),
  /** The bot is talking with the waiting customer (after the no-answer offer): their messages reach it. */
  conversing: z.boolean().default(false),
  /** Why the wait ended. */
  why: z.string().optional(),
});

export type HandoffWait = z.infer<typeof HandoffWaitSchema>;

export class HandoffWaits {
  constructor(private readonly storage: Storage) {}

  private key(channelId: string, conversationId: string): string {
    return `handoff-wait/${channelId}/${conversationId}`;
  }

  async get(channelId: string, conversationId: string): Promise<HandoffWait | undefined> {
    const key = this.key(channelId, conversationId);
    const item = (await this.storage.read([key]))[key];
    if (!item) return undefined;
    const parsed = HandoffWaitSchema.safeParse(item);
    return parsed.success ? parsed.data : undefined;
  }

  async put(channelId: string, conversationId: string, wait: HandoffWait): Promise<void> {
    await this.storage.write({ [this.key(channelId, conversationId)]: { ...HandoffWaitSchema.parse(wait), eTag: '*' } });
  }

  /** The customer chose to wait while closed: the ladder will count from `opensAt`. */
  async expectOpening(channelId: string, conversationId: string, opensAt: number | undefined, timeZone?: string): Promise<void> {
    await this.put(channelId, conversationId, { phase: 'requested', opensAt, timeZone, step: 0, conversing: false });
  }

  /** Whether the waiting customer's messages reach the bot (it offered them something to answer). */
  async setConversing(channelId: string, conversationId: string, conversing: boolean): Promise<void> {
    const wait = await this.get(channelId, conversationId);
    if (!wait || wait.conversing === conversing) return;
    await this.put(channelId, conversationId, { ...wait, conversing });
  }

  /** The wait is over (a ticket took the conversation, …): no more notices or ladder steps. */
  async finish(channelId: string, conversationId: string, why: string): Promise<void> {
    const wait = await this.get(channelId, conversationId);
    if (!wait || (wait.phase !== 'waiting' && wait.phase !== 'requested')) return;
    await this.put(channelId, conversationId, { ...wait, phase: 'ended', why, conversing: false });
  }
}
