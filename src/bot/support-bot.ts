/**
 * The example support bot that `npm start` serves: an ordinary botbuilder ActivityHandler that runs
 * the support dialog and reacts to `handoff.status`.
 */
import { ActivityHandler, ConversationState, type Storage, type TurnContext } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus, type DialogState } from 'botbuilder-dialogs';
import { HandoffEvents, type HandoffStatus } from '../control/vocabulary';
import type { TranscriptStore } from '../../dialogs/transcript';
import type { HandoffRequest } from '../control/vocabulary';
import { SupportDialog } from './support-dialog';
import type { TicketDialogOptions } from '../../dialogs/ticket-dialog';

export interface SupportBotOptions {
  storage: Storage;
  /** The transcript store of the adapter(s) the bot runs on. */
  transcripts: TranscriptStore;
  /** Defaults of every handoff (team, agent, folder …). */
  handoffRequest?: HandoffRequest;
  /** The ticket dialog's desk and close-out; without a desk tickets are unavailable. */
  ticket?: TicketDialogOptions;
}

export const HANDOFF_FAILED_TEXT =
  "Sorry, I couldn't reach a human agent right now. Please try again in a few minutes, or leave a message.";

export class SupportBot extends ActivityHandler {
  readonly conversationState: ConversationState;
  private readonly dialogs: DialogSet;
  private readonly dialogStateAccessor;

  constructor(options: SupportBotOptions) {
    super();
    this.conversationState = new ConversationState(options.storage);
    this.dialogStateAccessor = this.conversationState.createProperty<DialogState>('dialogState');
    this.dialogs = new DialogSet(this.dialogStateAccessor);
    this.dialogs.add(
      new SupportDialog({
        handoff: { transcripts: options.transcripts, request: options.handoffRequest },
        ticket: { transcripts: options.transcripts, ...options.ticket },
      }),
    );

    this.onMessage(async (context, next) => {
      const dc = await this.dialogs.createContext(context);
      const result = await dc.continueDialog();
      if (result.status === DialogTurnStatus.empty) await dc.beginDialog(SupportDialog.defaultId);
      await next();
    });

    this.onEvent(async (context, next) => {
      if (context.activity.name === HandoffEvents.Status) await this.onHandoffStatus(context, context.activity.value as HandoffStatus);
      await next();
    });
  }

  /** `failed` → tell the customer; `completed` → start afresh next time the customer writes. */
  protected async onHandoffStatus(context: TurnContext, status: HandoffStatus | undefined): Promise<void> {
    if (status?.state === 'failed') await context.sendActivity(HANDOFF_FAILED_TEXT);
    if (status?.state === 'completed') await this.dialogStateAccessor.delete(context);
  }

  /** Saves dialog state at the end of every turn. */
  override async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.conversationState.saveChanges(context, false);
  }
}
