/**
 * The example support bot's root dialog: a request for a human → handoff; "ticket" /
 * "leave a message" → the ticket dialog; anything else → the menu.
 */
import { MessageFactory } from 'botbuilder-core';
import { WaterfallDialog, type DialogTurnResult, type WaterfallStepContext } from 'botbuilder-dialogs';
import { HandoffInterruptibleDialog, type HandoffInterruptibleOptions } from '../../dialogs/handoff-interruptible-dialog';
import { asksForHuman, asksToLeaveMessage } from '../../dialogs/intents';
import { HUMAN_CHOICE, TICKET_CHOICE, TicketDialog, type TicketDialogOptions } from '../../dialogs/ticket-dialog';

export const MENU_TEXT = 'How can I help you today?';

export interface SupportDialogOptions extends HandoffInterruptibleOptions {
  ticket?: TicketDialogOptions;
}

export class SupportDialog extends HandoffInterruptibleDialog {
  static readonly defaultId = 'support.root';
  private readonly ticketDialogId: string;

  constructor(options: SupportDialogOptions, id: string = SupportDialog.defaultId) {
    super(id, options);
    this.ticketDialogId = `${id}.ticket`;
    this.addDialog(new TicketDialog(this.ticketDialogId, options.ticket));
    this.addDialog(new WaterfallDialog(`${id}.route`, [(step) => this.routeStep(step)]));
    this.initialDialogId = `${id}.route`;
  }

  /** Routes one customer message. */
  protected async routeStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const text = step.context.activity.text;
    if (asksForHuman(text)) {
      return step.beginDialog(this.handoffDialogId, { reason: 'The customer asked for a human.' });
    }
    if (asksToLeaveMessage(text)) return step.beginDialog(this.ticketDialogId);
    await step.context.sendActivity(MessageFactory.suggestedActions([HUMAN_CHOICE, TICKET_CHOICE], MENU_TEXT));
    return step.endDialog();
  }
}
