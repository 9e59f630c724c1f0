/**
 * Step 2 of the no-answer ladder, for the customer: nobody has answered yet, so the bot says so and
 * offers to leave a message instead (the ticket dialog: the conversation so far goes with the ticket)
 * or to keep waiting. While the offer is open the customer's messages reach the bot, though the
 * conversation stays in the humans' queue; a human who writes meanwhile takes over at once. Begin it
 * when the bot hears `handoff.waiting` with `step: 2`. Override any step or text.
 */
import { MessageFactory, type CardAction, type TurnContext } from 'botbuilder-core';
import { ComponentDialog, Dialog, WaterfallDialog, type DialogTurnResult, type WaterfallStepContext } from 'botbuilder-dialogs';
import { asksToLeaveMessage } from '../intents';
import { TICKET_CHOICE, TicketDialog, type TicketDialogOptions, type TicketDialogResult } from '../ticket-dialog';
import type { HandoffWaits } from './handoff-waits';
import { deskServes } from '../ticket-desk';

export const KEEP_WAITING_CHOICE: CardAction = { type: 'imBack', title: 'Keep waiting', value: 'wait' };

export const NO_ANSWER_OFFER_TEXT =
  "I'm sorry: nobody has been able to answer you yet. You can leave a message instead (our team gets everything you wrote and answers you here), or keep waiting.";
export const NO_ANSWER_NO_TICKET_TEXT = "I'm sorry: nobody has been able to answer you yet. You keep your place in the queue: someone will answer you here.";
export const KEEP_WAITING_TEXT = 'OK: you keep your place in the queue. Someone will answer you here.';

export interface NoAnswerDialogOptions {
  waits: HandoffWaits;
  /** Leaving a message (its desk and transcripts); without a desk only waiting is offered. */
  ticket?: TicketDialogOptions;
  offerText?: string;
  noTicketText?: string;
  keepWaitingText?: string;
}

export class NoAnswerDialog extends ComponentDialog {
  static readonly defaultId = 'handoff.noAnswerDialog';
  protected readonly ticketDialogId: string;

  constructor(
    id: string = NoAnswerDialog.defaultId,
    protected readonly options: NoAnswerDialogOptions,
  ) {
    super(id);
    this.ticketDialogId = `${id}.ticket`;
    this.addDialog(new TicketDialog(this.ticketDialogId, options.ticket));
    this.addDialog(new WaterfallDialog(`${id}.steps`, [(s) => this.offerStep(s), (s) => this.choiceStep(s), (s) => this.afterTicketStep(s)]));
    this.initialDialogId = `${id}.steps`;
  }

  /** Whether leaving a message can be offered (a desk serves this conversation). */
  protected canLeaveMessage(context: TurnContext): boolean {
    return deskServes(this.options.ticket?.desk, context);
  }

  /** Says nobody answered yet and offers a message or waiting (the customer's answer reaches the bot). */
  protected async offerStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    if (!this.canLeaveMessage(step.context)) {
      await step.context.sendActivity(this.options.noTicketText ?? NO_ANSWER_NO_TICKET_TEXT);
      return step.endDialog();
    }
    await this.setConversing(step.context, true);
    await step.context.sendActivity(MessageFactory.suggestedActions([TICKET_CHOICE, KEEP_WAITING_CHOICE], this.options.offerText ?? NO_ANSWER_OFFER_TEXT));
    return Dialog.EndOfTurn;
  }

  /** "Leave a message" → the ticket dialog; anything else → keep waiting. */
  protected async choiceStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    if (asksToLeaveMessage(step.context.activity.text)) return this.leaveMessageStep(step);
    return this.keepWaitingStep(step);
  }

  protected async leaveMessageStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    return step.beginDialog(this.ticketDialogId);
  }

  protected async keepWaitingStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await this.setConversing(step.context, false);
    await step.context.sendActivity(this.options.keepWaitingText ?? KEEP_WAITING_TEXT);
    return step.endDialog();
  }

  /** After the ticket dialog: a ticket ends the wait (the ticket owns the conversation); without one the customer keeps waiting. */
  protected async afterTicketStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await this.setConversing(step.context, false);
    const result = step.result as TicketDialogResult | undefined;
    if (result?.ticketCreated) await this.options.waits.finish(step.context.activity.channelId, step.context.activity.conversation.id, 'the customer left a message');
    else await step.context.sendActivity(this.options.keepWaitingText ?? KEEP_WAITING_TEXT);
    return step.endDialog(result);
  }

  protected setConversing(context: TurnContext, conversing: boolean): Promise<void> {
    return this.options.waits.setConversing(context.activity.channelId, context.activity.conversation.id, conversing);
  }
}
