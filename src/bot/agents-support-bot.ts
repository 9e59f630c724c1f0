/**
 * The example support bot on the Microsoft 365 Agents SDK: an `AgentApplication` with the same
 * behaviour as the botbuilder `SupportBot` (the same dialogs, run through `AgentDialogs`, and the same
 * texts). `EXAMPLE_BOT_SDK=agents-sdk` makes `npm start` serve it. Loaded only then: it needs
 * `@microsoft/agents-hosting` installed.
 */
import { AgentApplication, CloudAdapter, MessageFactory, type AuthConfiguration, type TurnContext, type TurnState } from '@microsoft/agents-hosting';
import { HandoffEvents, HandoffStatusSchema, HandoffWaitingSchema, type HandoffStatus, type HandoffWaiting } from '../control/vocabulary';
import { HandoffWaits } from '../../dialogs/handoff-wait/handoff-waits';
import { NoAnswerDialog } from '../../dialogs/handoff-wait/no-answer-dialog';
import { HUMAN_CHOICE, TICKET_CHOICE } from '../../dialogs/ticket-dialog';
import { AgentDialogs } from '../agents-sdk/agent-dialogs';
import { HANDOFF_FAILED_TEXT, WELCOME_BACK_TEXT, handoffFailedForCustomer, supportBotDialogs, type SupportBotOptions } from './support-bot';
import { SupportDialog } from './support-dialog';

export class AgentsSupportBot extends AgentApplication<TurnState> {
  /** Its dialogs recognise a request for a human at any step, so the host adds no recognizer of its own. */
  readonly handlesHandoffRequests = true;
  readonly waits: HandoffWaits;
  protected readonly dialogs: AgentDialogs;

  constructor(options: SupportBotOptions) {
    // No storage of the agent's own: the dialogs' stack lives in the engine's storage, committed with each turn.
    // The SDK's own CloudAdapter is never used here (the engine gives each turn its context), but one it
    // builds itself insists on an Azure client id under NODE_ENV=production: it gets a name instead.
    super({ adapter: new CloudAdapter({ clientId: 'served-by-botbuilder-handoff-adapters' } as AuthConfiguration) });
    this.waits = options.waits ?? new HandoffWaits(options.storage);
    this.dialogs = new AgentDialogs(options.storage, supportBotDialogs(options, this.waits));

    this.onActivity('message', async (context) => {
      await this.dialogs.continueOrBegin(context, SupportDialog.defaultId);
    });
    this.onActivity('event', async (context) => {
      if (context.activity.name === HandoffEvents.Status) {
        const status = HandoffStatusSchema.safeParse(context.activity.value);
        await this.onHandoffStatus(context, status.success ? status.data : undefined);
      }
      if (context.activity.name === HandoffEvents.Waiting) {
        const waiting = HandoffWaitingSchema.safeParse(context.activity.value);
        if (waiting.success) await this.onHandoffWaiting(context, waiting.data);
      }
    });
  }

  /** `failed` → tell the customer; `completed` → greet them back. */
  protected async onHandoffStatus(context: TurnContext, status: HandoffStatus | undefined): Promise<void> {
    if (handoffFailedForCustomer(status)) await context.sendActivity(HANDOFF_FAILED_TEXT);
    if (status?.state === 'completed') await this.welcomeBack(context);
  }

  /** The human stretch is over: the interrupted dialog is not picked up again, and the customer is greeted once. */
  protected async welcomeBack(context: TurnContext): Promise<void> {
    await this.dialogs.clear(context);
    await context.sendActivity(MessageFactory.suggestedActions([HUMAN_CHOICE, TICKET_CHOICE], WELCOME_BACK_TEXT));
  }

  /** Step 2 of the no-answer ladder: the customer is offered to leave a message or keep waiting. */
  protected async onHandoffWaiting(context: TurnContext, waiting: HandoffWaiting): Promise<void> {
    if (waiting.step !== 2) return;
    await this.dialogs.restart(context, NoAnswerDialog.defaultId);
  }
}
