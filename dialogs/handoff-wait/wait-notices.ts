/**
 * While a customer waits for a human (handed off, nobody answered yet), what they write gets at most
 * one gentle message per period instead of silence: their place in the queue where the platform can
 * tell it, else that someone is being looked for (or when the humans are back, after hours). Once a
 * human has written, nothing. Used as the adapters' `onSilencedMessage` for human-owned conversations;
 * while the bot is talking with the waiting customer (the no-answer offer) their messages reach the bot.
 */
import type { TurnContext } from 'botbuilder-core';
import type { Clock } from '../../src/clock';
import { describeOpening } from '../../src/availability/describe-opening';
import type { QueuePosition } from '../../src/availability/queue-position';
import type { Owner } from '../../src/ownership';
import type { HandoffWait, HandoffWaits } from './handoff-waits';

export const STILL_LOOKING_TEXT = 'Still looking for someone for you. Thanks for waiting: you keep your place in the queue.';

export function queuePositionText(position: number): string {
  return `You're number ${position} in the queue. Someone will be with you as soon as they can.`;
}

export function waitingForOpeningText(when: string): string {
  return `You're in the queue: we're back ${when}, and someone will answer you here then.`;
}

export interface WaitNoticesOptions {
  waits: HandoffWaits;
  clock: Clock;
  /** At most one notice per this many minutes (0: none); a function: per conversation (a tenant's own). */
  minutes: number | ((conversationId: string) => number);
  queue?: QueuePosition;
}

export class WaitNotices {
  constructor(protected readonly options: WaitNoticesOptions) {}

  /** A message kept from the bot: `deliver` when it should reach the bot after all. */
  async onSilenced(context: TurnContext, owner: Owner): Promise<'deliver' | undefined> {
    if (owner !== 'human') return undefined;
    const { channelId, conversation } = context.activity;
    const wait = await this.options.waits.get(channelId, conversation.id);
    if (!wait || wait.phase !== 'waiting') return undefined;
    if (wait.conversing) return 'deliver';
    const { minutes } = this.options;
    const every = typeof minutes === 'function' ? minutes(conversation.id) : minutes;
    if (every <= 0) return undefined;
    const now = this.options.clock.now();
    if (wait.lastNoticeAt !== undefined && now - wait.lastNoticeAt < every * 60_000) return undefined;
    await this.options.waits.put(channelId, conversation.id, { ...wait, lastNoticeAt: now });
    await context.sendActivity(await this.noticeText(context, wait, now));
    return undefined;
  }

  /** The notice's words. Override to say it your way. */
  protected async noticeText(context: TurnContext, wait: HandoffWait, now: number): Promise<string> {
    if (wait.opensAt !== undefined && wait.opensAt > now) return waitingForOpeningText(describeOpening(wait.opensAt, now, wait.timeZone ?? 'UTC'));
    const position = await this.options.queue?.position(context.activity);
    return position !== undefined ? queuePositionText(position) : STILL_LOOKING_TEXT;
  }
}
