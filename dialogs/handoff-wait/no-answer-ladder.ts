/**
 * The no-answer ladder. Once a handoff is accepted, a durable alarm is set: when no human has written
 * publicly within `minutes`, step 1 re-routes the conversation (a `conversation.control` `reroute`:
 * the platform's note and fallback team or folder); after as long again, step 2 hands the bot a
 * `handoff.waiting` event to tell the customer and offer a ticket. The bot hears `handoff.waiting
 * {minutes, step}` after each step. A human's first public message, a release back to the bot, a
 * ticket or the conversation resolved ends the ladder.
 *
 * The alarm only wakes the conversation up: in the conversation's own turn (a proactive turn through
 * its adapter) the wait kept with the conversation decides whether a step is still due, so an alarm
 * that outlived its wait (or ran twice after a crash) does nothing.
 */
import { randomUUID } from 'node:crypto';
import { ActivityTypes, TurnContext, type Activity, type ConversationReference, type Middleware } from 'botbuilder-core';
import { z } from 'zod';
import type { Clock } from '../../src/clock';
import { ConversationEvents, HandoffEvents, HandoffStatusSchema, type ConversationControl, type HandoffWaiting } from '../../src/control/vocabulary';
import { silentLogger, type Logger } from '../../src/log';
import type { OwnershipRecord } from '../../src/ownership';
import type { ClaimedTimer, TimerStore } from '../../src/storage/timer-store';
import type { HandoffWait, HandoffWaits } from './handoff-waits';

/** The kind of the ladder's timers. */
export const NO_ANSWER_TIMER = 'handoff.noAnswer';

/** What a ladder alarm carries. */
export const NoAnswerAlarmSchema = z.object({
  reference: z.record(z.string(), z.unknown()),
  generation: z.string(),
  step: z.union([z.literal(1), z.literal(2)]),
  minutes: z.number().int().nonnegative(),
});
export type NoAnswerAlarm = z.infer<typeof NoAnswerAlarmSchema>;

type Logic = (context: TurnContext) => Promise<void>;

/** How an alarm reaches its conversation: a proactive turn through the channel's adapter. */
export interface ProactiveChannel {
  emitToBot(reference: Partial<ConversationReference>, activity: Partial<Activity>, logic?: Logic): Promise<void>;
}

export interface NoAnswerLadderOptions {
  waits: HandoffWaits;
  timers: TimerStore;
  ownership: { get(channelId: string, conversationId: string): Promise<OwnershipRecord | undefined> };
  clock: Clock;
  /** Minutes without a human's public answer before each step (0: the ladder is off); a function: per conversation (a tenant's own). */
  minutes: number | ((conversationId: string) => number);
  logger?: Logger;
}

export class NoAnswerLadder implements Middleware {
  private readonly logger: Logger;

  constructor(protected readonly options: NoAnswerLadderOptions) {
    this.logger = (options.logger ?? silentLogger).child({ component: 'no-answer-ladder' });
  }

  private minutesFor(conversationId: string): number {
    const { minutes } = this.options;
    return typeof minutes === 'function' ? minutes(conversationId) : minutes;
  }

  static timerKey(channelId: string, conversationId: string): string {
    return `${NO_ANSWER_TIMER}:${channelId}:${conversationId}`;
  }

  /** Watches the events of every turn: the handoff accepted, a human's message, a release, a resolved conversation. */
  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    try {
      await next();
    } finally {
      // Whatever the bot did with the event, the wait follows it.
      await this.observe(context).catch((error: unknown) => this.logger.error('could not follow a wait', { conversationId: context.activity.conversation?.id, error }));
    }
  }

  private async observe(context: TurnContext): Promise<void> {
    const { activity } = context;
    if (activity.type !== ActivityTypes.Event) return;
    if (activity.name === HandoffEvents.Status) {
      const status = HandoffStatusSchema.safeParse(activity.value);
      if (status.success && status.data.state === 'accepted') await this.start(context);
      if (status.success && status.data.state === 'completed') await this.end(context, 'ended', 'the conversation is back with the bot');
    } else if (activity.name === ConversationEvents.AgentMessage) {
      await this.end(context, 'answered', 'a human answered');
    } else if (activity.name === ConversationEvents.Updated && (activity.value as { status?: unknown } | undefined)?.status === 'resolved') {
      await this.end(context, 'ended', 'the conversation was resolved');
    }
  }

  /** The handoff was accepted: the wait starts, and the first alarm is set (before the turn commits: an alarm without its wait does nothing). */
  protected async start(context: TurnContext): Promise<void> {
    const { channelId, conversation } = context.activity;
    const now = this.options.clock.now();
    const before = await this.options.waits.get(channelId, conversation.id);
    const opensAt = before?.phase === 'requested' && before.opensAt !== undefined && before.opensAt > now ? before.opensAt : undefined;
    const wait: HandoffWait = {
      phase: 'waiting',
      since: now,
      countFrom: opensAt ?? now,
      opensAt,
      timeZone: opensAt !== undefined ? before?.timeZone : undefined,
      step: 0,
      generation: randomUUID(),
      conversing: false,
    };
    if (this.minutesFor(conversation.id) > 0) await this.setAlarm(context.activity, wait, 1);
    await this.options.waits.put(channelId, conversation.id, wait);
  }

  protected async end(context: TurnContext, phase: 'answered' | 'ended', why: string): Promise<void> {
    const { channelId, conversation } = context.activity;
    const wait = await this.options.waits.get(channelId, conversation.id);
    if (!wait || (wait.phase !== 'waiting' && wait.phase !== 'requested')) return;
    await this.options.waits.put(channelId, conversation.id, { ...wait, phase, why, conversing: false });
    await this.options.timers.cancel(NoAnswerLadder.timerKey(channelId, conversation.id)).catch((error: unknown) => this.logger.warn('could not cancel an alarm', { error }));
  }

  private async setAlarm(activity: Partial<Activity>, wait: HandoffWait, step: 1 | 2): Promise<void> {
    const channelId = activity.channelId!;
    const conversationId = activity.conversation!.id;
    const period = this.minutesFor(conversationId) * 60_000;
    const dueAt = step === 1 ? (wait.countFrom ?? this.options.clock.now()) + period : this.options.clock.now() + period;
    const alarm: NoAnswerAlarm = {
      reference: TurnContext.getConversationReference(activity) as Record<string, unknown>,
      generation: wait.generation!,
      step,
      minutes: this.minutesFor(conversationId) * step,
    };
    await this.options.timers.set({ key: NoAnswerLadder.timerKey(channelId, conversationId), channelId, conversationId, kind: NO_ANSWER_TIMER, dueAt, payload: alarm });
  }

  /** The timer handler: wakes the alarm's conversation up with `handoff.waiting`, in its order. */
  async fire(timer: ClaimedTimer, channelFor: (channelId: string, conversationId: string) => ProactiveChannel | undefined, logic: Logic): Promise<void> {
    const alarm = NoAnswerAlarmSchema.parse(timer.payload);
    const channel = channelFor(timer.channelId, timer.conversationId);
    if (!channel) {
      this.logger.warn('an alarm belongs to no running channel; dropped', { channelId: timer.channelId });
      return;
    }
    const activity: Partial<Activity> = { type: ActivityTypes.Event, name: HandoffEvents.Waiting, value: { minutes: alarm.minutes, step: alarm.step } satisfies HandoffWaiting };
    await channel.emitToBot(alarm.reference as Partial<ConversationReference>, activity, (context) => this.step(context, alarm, logic));
  }

  /**
   * In the conversation's turn: the next step, if the wait is still the alarm's and still unanswered.
   * A step that was missed (its turn never committed) runs first: the ladder never skips a step.
   */
  protected async step(context: TurnContext, alarm: NoAnswerAlarm, logic: Logic): Promise<void> {
    const { channelId, conversation } = context.activity;
    const wait = await this.options.waits.get(channelId, conversation.id);
    if (!wait || wait.phase !== 'waiting' || wait.generation !== alarm.generation || wait.step >= alarm.step) return;
    const owner = await this.options.ownership.get(channelId, conversation.id);
    if (owner?.owner !== 'human' || owner.platformStatus === 'resolved') {
      // A ticket, a release the bot has not been told of, a resolved conversation: nobody waits any more.
      await this.options.waits.put(channelId, conversation.id, { ...wait, phase: 'ended', why: `the conversation is with the ${owner?.owner ?? 'bot'}`, conversing: false });
      return;
    }
    const step = (wait.step + 1) as 1 | 2;
    const minutes = alarm.minutes;
    const next: HandoffWait = { ...wait, step };
    if (step === 1) {
      await this.reroute(context, minutes);
      await this.setAlarm(context.activity, next, 2);
    }
    await this.options.waits.put(channelId, conversation.id, next);
    this.logger.info('no human answered: a step of the ladder ran', { conversationId: conversation.id, step, minutes });
    context.activity.value = { minutes, step } satisfies HandoffWaiting;
    await logic(context);
  }

  /** Step 1 on the platform: the conversation goes to the fallback, with a note saying why. */
  protected async reroute(context: TurnContext, minutes: number): Promise<void> {
    const control: ConversationControl = { reroute: { reason: this.rerouteReason(minutes) } };
    try {
      await context.sendActivity({ type: ActivityTypes.Event, name: ConversationEvents.Control, value: control });
    } catch (error) {
      this.logger.warn('the platform cannot re-route; the ladder goes on', { conversationId: context.activity.conversation.id, error });
    }
  }

  /** The note's words (the platform adds what it did). */
  protected rerouteReason(minutes: number): string {
    return `No human agent has answered the customer for ${minutes} minute${minutes === 1 ? '' : 's'}.`;
  }
}
