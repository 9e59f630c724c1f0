/**
 * Base for dialogs in which "talk to a human" must work at any step (the samples'
 * CancelAndHelpDialog pattern): before a child dialog sees the message, it is checked, and a request
 * for a human cancels what was running and starts the handoff dialog.
 */
import { ActivityTypes } from 'botbuilder-core';
import { ComponentDialog, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import { HandoffDialog, type HandoffDialogOptions } from './handoff-dialog';
import { asksForHuman } from './intents';

export interface HandoffInterruptibleOptions {
  handoff: HandoffDialogOptions;
  /** Decides whether a message asks for a human (default: the keyword intent). */
  isHandoffRequest?: (text: string | undefined) => boolean;
}

export class HandoffInterruptibleDialog extends ComponentDialog {
  protected readonly handoffDialogId: string;

  constructor(
    id: string,
    protected readonly interruptOptions: HandoffInterruptibleOptions,
  ) {
    super(id);
    this.handoffDialogId = `${id}.handoff`;
    this.addDialog(this.createHandoffDialog(this.handoffDialogId, interruptOptions.handoff));
  }

  /** Override to use your own handoff dialog subclass. */
  protected createHandoffDialog(id: string, options: HandoffDialogOptions): HandoffDialog {
    return new HandoffDialog(id, options);
  }

  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const interrupted = await this.interrupt(innerDc);
    return interrupted ?? super.onContinueDialog(innerDc);
  }

  /** Returns a result when the message was handled as an interruption. */
  protected async interrupt(innerDc: DialogContext): Promise<DialogTurnResult | undefined> {
    const { activity } = innerDc.context;
    if (activity.type !== ActivityTypes.Message) return undefined;
    const isRequest = this.interruptOptions.isHandoffRequest ?? asksForHuman;
    if (!isRequest(activity.text)) return undefined;
    if (innerDc.activeDialog?.id === this.handoffDialogId) return undefined;
    await innerDc.cancelAllDialogs();
    return innerDc.beginDialog(this.handoffDialogId, { reason: 'The customer asked for a human during a conversation with the bot.' });
  }
}
