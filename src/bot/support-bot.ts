/**
 * The example support bot that `npm start` serves: an ordinary botbuilder ActivityHandler that runs
 * the support dialog and reacts to `handoff.status` (a failed handoff is explained; the way back is
 * greeted once) and to `handoff.waiting` (after the second period without an answer it offers to leave
 * a message instead).
 */
import { ActivityHandler, ConversationState, MessageFactory, type Storage, type TurnContext } from 'botbuilder-core';
import { DialogSet, DialogTurnStatus, type DialogState } from 'botbuilder-dialogs';
import { HandoffEvents, HandoffStatusSchema, HandoffWaitingSchema, type HandoffStatus, type HandoffWaiting } from '../control/vocabulary';
import type { TranscriptStore } from '../../dialogs/transcript';
import type { HandoffRequest } from '../control/vocabulary';
import type { HumanAvailability } from '../availability/human-availability';
import type { Clock } from '../clock';
import { HandoffWaits } from '../../dialogs/handoff-wait/handoff-waits';
import { NoAnswerDialog } from '../../dialogs/handoff-wait/no-answer-dialog';
import { SupportDialog } from './support-dialog';
import { HUMAN_CHOICE, TICKET_CHOICE, type TicketDialogOptions } from '../../dialogs/ticket-dialog';
import type { ClosedText } from '../../dialogs/handoff-dialog';

export interface SupportBotOptions {
  storage: Storage;
  /** The transcript store of the adapter(s) the bot runs on. */
  transcripts: TranscriptStore;
  /** Defaults of every handoff (team, agent, folder …). */
  handoffRequest?: HandoffRequest;
  /** The ticket dialog's desk and close-out; without a desk tickets are unavailable. */
  ticket?: TicketDialogOptions;
  /** Asked before every handoff: can a human answer now? Without it the bot hands off at once. */
  availability?: HumanAvailability;
  /** The waits after a handoff (shared with the no-answer ladder and the wait notices); default: on `storage`. */
  waits?: HandoffWaits;
  /** Texts of the handoff when nobody can answer (`{next}`: the next opening); a function: per conversation. */
  closedText?: ClosedText;
  clock?: Clock;
}

export const HANDOFF_FAILED_TEXT =
  "Sorry, I couldn't reach a human agent right now. Please try again in a few minutes, or leave a message.";
export const WELCOME_BACK_TEXT = 'Anything else I can help with?';

/** The example bot's dialogs, whichever SDK runs it: the support dialog (menu, handoff, ticket) and the no-answer offer. */
export function supportBotDialogs(options: SupportBotOptions, waits: HandoffWaits): [SupportDialog, NoAnswerDialog] {
  const ticket: TicketDialogOptions = { transcripts: options.transcripts, ...options.ticket };
  const handoff = { transcripts: options.transcripts, request: options.handoffRequest, availability: options.availability, ticket, waits, closedText: options.closedText, clock: options.clock };
  return [new SupportDialog({ handoff, ticket }), new NoAnswerDialog(NoAnswerDialog.defaultId, { waits, ticket })];
}

/** A `handoff.status` worth telling the customer about: a failed handoff (not a failed follow-up action, the agents' business). */
export function handoffFailedForCustomer(status: HandoffStatus | undefined): boolean {
  return status?.state === 'failed' && !status.message?.startsWith('conversation.control failed');
}

export class SupportBot extends ActivityHandler {
  /** Its dialogs recognise a request for a human at any step, so the host adds no recognizer of its own. */
  readonly handlesHandoffRequests = true;
  readonly conversationState: ConversationState;
  readonly waits: HandoffWaits;
  private readonly dialogs: DialogSet;
  private readonly dialogStateAccessor;

  constructor(options: SupportBotOptions) {
    super();
    this.conversationState = new ConversationState(options.storage);
    this.dialogStateAccessor = this.conversationState.createProperty<DialogState>('dialogState');
    this.waits = options.waits ?? new HandoffWaits(options.storage);
    this.dialogs = new DialogSet(this.dialogStateAccessor);
    for (const dialog of supportBotDialogs(options, this.waits)) this.dialogs.add(dialog);

    this.onMessage(async (context, next) => {
      const dc = await this.dialogs.createContext(context);
      const result = await dc.continueDialog();
      if (result.status === DialogTurnStatus.empty) await dc.beginDialog(SupportDialog.defaultId);
      await next();
    });

    this.onEvent(async (context, next) => {
      if (context.activity.name === HandoffEvents.Status) {
        const status = HandoffStatusSchema.safeParse(context.activity.value);
        await this.onHandoffStatus(context, status.success ? status.data : undefined);
      }
      if (context.activity.name === HandoffEvents.Waiting) {
        const waiting = HandoffWaitingSchema.safeParse(context.activity.value);
        if (waiting.success) await this.onHandoffWaiting(context, waiting.data);
      }
      await next();
    });
  }

  /** `failed` → tell the customer; `completed` → greet them back. */
  protected async onHandoffStatus(context: TurnContext, status: HandoffStatus | undefined): Promise<void> {
    if (handoffFailedForCustomer(status)) await context.sendActivity(HANDOFF_FAILED_TEXT);
    if (status?.state === 'completed') await this.welcomeBack(context);
  }

  /**
   * The human stretch is over: whatever dialog the human interrupted is not picked up again (the
   * customer's next message starts afresh), and the customer is greeted once.
   */
  protected async welcomeBack(context: TurnContext): Promise<void> {
    await this.dialogStateAccessor.delete(context);
    await context.sendActivity(MessageFactory.suggestedActions([HUMAN_CHOICE, TICKET_CHOICE], WELCOME_BACK_TEXT));
  }

  /** Step 2 of the no-answer ladder: the customer is told and offered to leave a message or keep waiting. */
  protected async onHandoffWaiting(context: TurnContext, waiting: HandoffWaiting): Promise<void> {
    if (waiting.step !== 2) return;
    const dc = await this.dialogs.createContext(context);
    await dc.cancelAllDialogs();
    await dc.beginDialog(NoAnswerDialog.defaultId);
  }

  /** Saves dialog state at the end of every turn. */
  override async run(context: TurnContext): Promise<void> {
    await super.run(context);
    await this.conversationState.saveChanges(context, false);
  }
}
