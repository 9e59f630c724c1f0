/**
 * Base for dialogs in which "talk to a human" must work at any step (the samples'
 * CancelAndHelpDialog pattern): before a child dialog sees the message (and before the first step,
 * when the message that starts the dialog is already the request), it is checked, and a request for
 * a human cancels what was running and starts the handoff dialog. While a prompt waits for an answer,
 * only an explicit request counts: a customer who gives their name as "Agent Smith" is answering.
 */
import { ActivityTypes } from 'botbuilder-core';
import { ComponentDialog, Prompt, type DialogContext, type DialogTurnResult } from 'botbuilder-dialogs';
import { HandoffDialog, type HandoffDialogOptions } from './handoff-dialog';
import { isHandoffRequest, type HandoffRecognizer } from './handoff-recognizer';
import { promptInView } from '../src/control/prompt-in-view';

export interface HandoffInterruptibleOptions {
  handoff: HandoffDialogOptions;
  /** Decides whether a message asks for a human (default: `recognizeHandoffRequest`, with the prompt in view). */
  recognizer?: HandoffRecognizer;
  /** Older form of `recognizer`: the message's text only. */
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

  protected override async onBeginDialog(innerDc: DialogContext, options?: object): Promise<DialogTurnResult> {
    const interrupted = await this.interrupt(innerDc, 'The customer asked for a human.');
    return interrupted ?? super.onBeginDialog(innerDc, options);
  }

  protected override async onContinueDialog(innerDc: DialogContext): Promise<DialogTurnResult> {
    const interrupted = await this.interrupt(innerDc);
    return interrupted ?? super.onContinueDialog(innerDc);
  }

  /** Returns a result when the message was handled as an interruption. */
  protected async interrupt(innerDc: DialogContext, reason = 'The customer asked for a human during a conversation with the bot.'): Promise<DialogTurnResult | undefined> {
    const { activity } = innerDc.context;
    if (activity.type !== ActivityTypes.Message) return undefined;
    if (innerDc.activeDialog?.id === this.handoffDialogId) return undefined;
    if (!(await this.asksForHuman(innerDc))) return undefined;
    await innerDc.cancelAllDialogs();
    return innerDc.beginDialog(this.handoffDialogId, { reason });
  }

  /** The recognizer's verdict, with a prompt in view when one of the running dialogs is a prompt (or the adapter says the bot asked). */
  protected async asksForHuman(innerDc: DialogContext): Promise<boolean> {
    const { isHandoffRequest: legacy, recognizer } = this.interruptOptions;
    if (legacy && !recognizer) return legacy(innerDc.context.activity.text);
    const atPrompt = waitsAtPrompt(innerDc) || promptInView(innerDc.context)?.expectingInput === true;
    return isHandoffRequest(innerDc.context, recognizer, atPrompt);
  }
}

/** Whether the innermost running dialog is a prompt. */
function waitsAtPrompt(dc: DialogContext): boolean {
  let leaf: DialogContext = dc;
  while (leaf.child) leaf = leaf.child;
  const active = leaf.activeDialog;
  return active !== undefined && leaf.findDialog(active.id) instanceof Prompt;
}
