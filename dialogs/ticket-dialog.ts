/**
 * "Leave a message": escalation to a ticket. Ticket creation arrives with the Inbenta integration;
 * until ticketing is configured the dialog says tickets are unavailable and offers a human instead.
 */
import { MessageFactory, type CardAction } from 'botbuilder-core';
import { ComponentDialog, WaterfallDialog, type DialogTurnResult, type WaterfallStepContext } from 'botbuilder-dialogs';

export interface TicketDialogOptions {
  unavailableText?: string;
}

export const HUMAN_CHOICE: CardAction = { type: 'imBack', title: 'Talk to a human', value: 'human' };
export const TICKET_CHOICE: CardAction = { type: 'imBack', title: 'Leave a message', value: 'ticket' };

export class TicketDialog extends ComponentDialog {
  static readonly defaultId = 'handoff.ticketDialog';

  constructor(
    id: string = TicketDialog.defaultId,
    protected readonly options: TicketDialogOptions = {},
  ) {
    super(id);
    this.addDialog(new WaterfallDialog(`${id}.steps`, [(step) => this.unavailableStep(step)]));
    this.initialDialogId = `${id}.steps`;
  }

  /** Says tickets cannot be left now and offers a human. */
  protected async unavailableStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const text =
      this.options.unavailableText ??
      "Sorry, leaving a message isn't available right now. Would you like to talk to a human instead?";
    await step.context.sendActivity(MessageFactory.suggestedActions([HUMAN_CHOICE], text));
    return step.endDialog({ ticketCreated: false });
  }
}
