/**
 * "I want a human" works in any bot, at any point, without a change to the bot: before the bot's
 * logic sees a customer message, the recognizer decides whether it asks for a human; if so, the
 * handoff dialog runs instead (availability, the offer to leave a message, the confirmation and
 * `handoff.initiate` with the transcript) and the bot does not see the message. While that dialog
 * waits for the customer's choice, their answers go to it too. Its state is kept apart from the
 * bot's (its own namespace on the given storage).
 */
import { ActivityTypes, ConversationState, type Middleware, type Storage, type TurnContext } from 'botbuilder-core';
import { DialogSet, type DialogState } from 'botbuilder-dialogs';
import { HandoffDialog, type HandoffDialogArgs, type HandoffDialogOptions } from './handoff-dialog';
import { isHandoffRequest, type HandoffRecognizer } from './handoff-recognizer';

export interface HandoffRequestMiddlewareOptions {
  /** Where the handoff dialog's state is kept (give it the adapter's storage: committed with each turn). */
  storage: Storage;
  handoff: HandoffDialogOptions;
  /** Decides whether a message asks for a human (default: `recognizeHandoffRequest`). */
  recognizer?: HandoffRecognizer;
}

export class HandoffRequestMiddleware implements Middleware {
  static readonly dialogId = 'handoffRequest.handoff';
  private readonly state: ConversationState;
  private readonly dialogs: DialogSet;

  constructor(private readonly options: HandoffRequestMiddlewareOptions) {
    this.state = new ConversationState(options.storage, 'handoff-request');
    this.dialogs = new DialogSet(this.state.createProperty<DialogState>('dialogState'));
    this.dialogs.add(this.createHandoffDialog(HandoffRequestMiddleware.dialogId, options.handoff));
  }

  /** Override to use your own handoff dialog subclass. */
  protected createHandoffDialog(id: string, options: HandoffDialogOptions): HandoffDialog {
    return new HandoffDialog(id, options);
  }

  async onTurn(context: TurnContext, next: () => Promise<void>): Promise<void> {
    if (context.activity.type !== ActivityTypes.Message) return next();
    const dc = await this.dialogs.createContext(context);
    if (dc.activeDialog) {
      await dc.continueDialog();
    } else if (await isHandoffRequest(context, this.options.recognizer)) {
      await dc.beginDialog(HandoffRequestMiddleware.dialogId, { reason: 'The customer asked for a human.' } satisfies HandoffDialogArgs);
    } else {
      return next();
    }
    await this.state.saveChanges(context, false);
  }
}
