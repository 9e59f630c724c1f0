/**
 * Platform-neutral handoff. First it asks whether a human can answer now (`availability`: business
 * hours, agents online); when nobody can, it tells the customer (the platform's out-of-office text,
 * else when the team is back) and offers to leave a message (the ticket dialog) or to wait in the
 * queue. Then it tells the customer a human is coming and sends botbuilder's standard
 * `handoff.initiate` event with the conversation's transcript; the adapter carries it out on its
 * platform and later reports `handoff.status` to the bot. An unknown answer ("maybe") hands off as
 * before. Override any step or text to change it.
 */
import { EventFactory } from 'botbuilder';
import { ActivityTypes, MessageFactory, type Activity, type CardAction, type TurnContext } from 'botbuilder-core';
import { ComponentDialog, Dialog, WaterfallDialog, type DialogContext, type DialogTurnResult, type WaterfallStepContext } from 'botbuilder-dialogs';
import type { AvailabilityVerdict, Unavailable } from '../src/availability/availability-verdict';
import { describeOpening } from '../src/availability/describe-opening';
import type { HumanAvailability } from '../src/availability/human-availability';
import { systemClock, type Clock } from '../src/clock';
import type { HandoffRequest } from '../src/control/vocabulary';
import type { HandoffWaits } from './handoff-wait/handoff-waits';
import { asksForHuman, asksToLeaveMessage } from './intents';
import { TICKET_CHOICE, TicketDialog, type TicketDialogOptions } from './ticket-dialog';
import { deskServes } from './ticket-desk';
import { transcriptToActivities, type TranscriptStore } from './transcript';

export const HANDOFF_CONFIRMATION = "Sure — I'm connecting you with a human agent. Someone will reply here shortly.";
/** `{next}` is the next opening, e.g. "Monday at 09:00". */
export const CLOSED_TEXT = "Our team is away right now. We're back {next}.";
export const CLOSED_NO_OPENING_TEXT = 'Our team is away right now.';
export const NOBODY_ONLINE_TEXT = 'All our agents are busy or away right now.';
export const OFFER_TEXT = 'You can leave a message (we will answer you here), or wait in the queue for the next agent.';
export const OFFER_WAIT_ONLY_TEXT = 'You can wait in the queue for the next agent.';
export const QUEUED_TEXT = "OK, you're in the queue. Someone will answer you here as soon as they can.";
/** `{next}` as above. */
export const QUEUED_UNTIL_TEXT = "OK, you're in the queue. Someone will answer you here when we're back, {next}.";
export const DECLINED_TEXT = 'OK. Write "human" whenever you want to talk to a person.';
export const WAIT_CHOICE: CardAction = { type: 'imBack', title: 'Wait for an agent', value: 'wait' };

export interface HandoffDialogOptions {
  /** Where the conversation's transcript is read from (the adapter's transcript store). */
  transcripts: TranscriptStore;
  /** Defaults for every handoff (team, agent, folder, priority, labels …). */
  request?: HandoffRequest;
  /** What the customer is told; it should mention a human. */
  confirmation?: string;
  /** Asked before handing off; without it the dialog hands off at once. */
  availability?: HumanAvailability;
  /** Leaving a message when nobody can answer; without a desk only waiting is offered. */
  ticket?: TicketDialogOptions;
  /** Where a wait chosen while closed is recorded, so the no-answer ladder counts from the opening. */
  waits?: HandoffWaits;
  /** Texts when nobody can answer (`{next}`: the next opening in words); a function: per conversation (a tenant's own). */
  closedText?: ClosedText;
  nobodyOnlineText?: string;
  clock?: Clock;
}

/** What a customer asking for a human while closed is told: one text, or one per conversation (undefined: the default). */
export type ClosedText = string | ((context: TurnContext) => string | undefined);

/** Options a caller may pass to `beginDialog(HandoffDialog.id, …)`. */
export interface HandoffDialogArgs {
  reason?: string;
  request?: HandoffRequest;
  /** Set by the dialog itself: the customer chose to wait while nobody could answer. */
  queuedWhile?: Unavailable;
}

export class HandoffDialog extends ComponentDialog {
  static readonly defaultId = 'handoff.handoffDialog';
  protected static readonly waterfallId = 'handoff.handoffDialog.steps';
  /** Availability, then the customer's choice when nobody can answer. */
  protected readonly checkStepsId: string;
  /** The confirmation, then `handoff.initiate`. */
  protected readonly handoffStepsId: string;
  protected readonly ticketDialogId: string;
  protected readonly clock: Clock;

  constructor(
    id: string = HandoffDialog.defaultId,
    protected readonly options: HandoffDialogOptions,
  ) {
    super(id);
    this.clock = options.clock ?? systemClock;
    this.checkStepsId = `${id}.check`;
    this.handoffStepsId = `${id}.steps`;
    this.ticketDialogId = `${id}.ticket`;
    this.addDialog(new WaterfallDialog(this.checkStepsId, [(step) => this.availabilityStep(step), (step) => this.choiceStep(step)]));
    this.addDialog(new WaterfallDialog(this.handoffStepsId, [(step) => this.confirmStep(step), (step) => this.initiateStep(step)]));
    if (options.ticket) this.addDialog(new TicketDialog(this.ticketDialogId, options.ticket));
    this.initialDialogId = this.checkStepsId;
  }

  protected args(step: WaterfallStepContext): HandoffDialogArgs {
    return (step.options ?? {}) as HandoffDialogArgs;
  }

  /** Whether leaving a message can be offered (a desk serves this conversation). */
  protected canLeaveMessage(context: TurnContext): boolean {
    return deskServes(this.options.ticket?.desk, context);
  }

  /** Can a human answer now? Unknown (or a failed check) hands off as usual. */
  protected async checkAvailability(step: WaterfallStepContext): Promise<AvailabilityVerdict> {
    if (!this.options.availability) return { state: 'unknown', source: 'none', why: 'no availability is configured' };
    try {
      return await this.options.availability.check({ activity: step.context.activity, request: this.buildRequest(step) });
    } catch (error) {
      return { state: 'unknown', source: 'error', why: error instanceof Error ? error.message : String(error) };
    }
  }

  /** Asks, then hands off, or tells the customer nobody can answer now. */
  protected async availabilityStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const verdict = await this.checkAvailability(step);
    if (verdict.state !== 'unavailable') return step.replaceDialog(this.handoffStepsId, this.args(step));
    return this.nobodyCanAnswerStep(step, verdict);
  }

  /** Nobody can answer: why (and when they are back), and the choices. */
  protected async nobodyCanAnswerStep(step: WaterfallStepContext, verdict: Unavailable): Promise<DialogTurnResult> {
    const offer = this.canLeaveMessage(step.context) ? OFFER_TEXT : OFFER_WAIT_ONLY_TEXT;
    const choices = this.canLeaveMessage(step.context) ? [TICKET_CHOICE, WAIT_CHOICE] : [WAIT_CHOICE];
    await step.context.sendActivity(MessageFactory.suggestedActions(choices, `${this.unavailableText(verdict, step.context)} ${offer}`));
    return Dialog.EndOfTurn;
  }

  /** What the customer is told when nobody can answer. */
  protected unavailableText(verdict: Unavailable, context?: TurnContext): string {
    if (verdict.reason === 'nobody_online') return this.options.nobodyOnlineText ?? NOBODY_ONLINE_TEXT;
    if (verdict.message) return verdict.message;
    const next = this.nextOpeningWords(verdict);
    const closed = this.options.closedText;
    const text = typeof closed === 'function' ? (context ? closed(context) : undefined) : closed;
    return next ? (text ?? CLOSED_TEXT).replace(/\{next\}/g, next) : CLOSED_NO_OPENING_TEXT;
  }

  /** "Monday at 09:00", on the business's clock; undefined when the opening is not known. */
  protected nextOpeningWords(verdict: Unavailable): string | undefined {
    if (verdict.nextOpening === undefined) return undefined;
    return describeOpening(verdict.nextOpening, this.clock.now(), verdict.timeZone ?? 'UTC');
  }

  /**
   * The customer's choice: leave a message, wait in the queue, or neither. Waiting, or asking for a
   * human again, is a new request: availability is asked again (time has passed since the offer), so
   * a human who can answer now gets the conversation as usual, and the agents' note says what is true.
   */
  protected async choiceStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const text = (step.context.activity.text ?? '').trim();
    if (this.canLeaveMessage(step.context) && asksToLeaveMessage(text)) return this.leaveMessageStep(step);
    if (/^(wait|yes|y|ok|okay|sure|queue)\b/i.test(text) || asksForHuman(text)) {
      const verdict = await this.checkAvailability(step);
      if (verdict.state !== 'unavailable') return step.replaceDialog(this.handoffStepsId, this.args(step));
      return this.handOffAnywayStep(step, verdict);
    }
    return this.declinedStep(step);
  }

  /** "Leave a message": the ticket dialog (its result ends this dialog). */
  protected async leaveMessageStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    return step.replaceDialog(this.ticketDialogId);
  }

  /** "Wait": handed off all the same; the conversation waits in the queue (the ladder counts from the opening). */
  protected async handOffAnywayStep(step: WaterfallStepContext, verdict: Unavailable): Promise<DialogTurnResult> {
    const { activity } = step.context;
    await this.options.waits?.expectOpening(activity.channelId, activity.conversation.id, verdict.nextOpening, verdict.timeZone);
    return step.replaceDialog(this.handoffStepsId, { ...this.args(step), queuedWhile: verdict } satisfies HandoffDialogArgs);
  }

  /** Neither: nothing happens, and the customer knows how to ask again. */
  protected async declinedStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await step.context.sendActivity(DECLINED_TEXT);
    return step.endDialog({ handoffRequested: false });
  }

  /** Tells the customer what happens next. */
  protected async confirmStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const queued = this.args(step).queuedWhile;
    if (queued) {
      const next = queued.reason === 'nobody_online' ? undefined : this.nextOpeningWords(queued);
      await step.context.sendActivity(next ? QUEUED_UNTIL_TEXT.replace(/\{next\}/g, next) : QUEUED_TEXT);
      return step.next();
    }
    await step.context.sendActivity(this.options.confirmation ?? HANDOFF_CONFIRMATION);
    return step.next();
  }

  /** What the handoff asks for: defaults, then the caller's request, then the reason. */
  protected buildRequest(step: WaterfallStepContext): HandoffRequest {
    const args = this.args(step);
    const reason = args.reason ?? args.request?.reason ?? this.options.request?.reason ?? 'The customer asked for a human.';
    return {
      ...this.options.request,
      ...args.request,
      reason: args.queuedWhile ? `${reason} ${this.queuedNote(args.queuedWhile)}` : reason,
    };
  }

  /** For the agents: nobody could answer when the customer asked, and they chose to wait. */
  protected queuedNote(verdict: Unavailable): string {
    const why = verdict.reason === 'nobody_online' ? 'no agent was online' : verdict.reason === 'holiday' ? 'it was a holiday' : 'it was outside business hours';
    return `(Asked while ${why}; the customer chose to wait in the queue.)`;
  }

  /** Sends `handoff.initiate` with the transcript so far. */
  protected async initiateStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { activity } = step.context;
    const entries = await this.options.transcripts.list(activity.channelId, activity.conversation.id);
    const initiation = EventFactory.createHandoffInitiation(step.context, this.buildRequest(step), {
      activities: transcriptToActivities(entries) as Activity[],
    });
    await step.context.sendActivity(initiation);
    return step.endDialog({ handoffRequested: true });
  }

  /** Inside "leave a message", a request for a human goes back to the choice (nobody can answer yet). */
  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const { activity } = innerDc.context;
    if (innerDc.activeDialog?.id === this.ticketDialogId && activity.type === ActivityTypes.Message && asksForHuman(activity.text)) {
      await innerDc.cancelAllDialogs();
      return innerDc.beginDialog(this.checkStepsId, { reason: 'The customer asked for a human while leaving a message.' } satisfies HandoffDialogArgs);
    }
    return super.onContinueDialog(innerDc);
  }
}
