/**
 * Platform-neutral handoff: tells the customer a human is coming, then sends botbuilder's standard
 * `handoff.initiate` event with the conversation's transcript. The adapter carries it out on its
 * platform and later reports `handoff.status` to the bot. Override any step to change it.
 */
import { EventFactory } from 'botbuilder';
import type { Activity } from 'botbuilder-core';
import { ComponentDialog, WaterfallDialog, type DialogTurnResult, type WaterfallStepContext } from 'botbuilder-dialogs';
import type { HandoffRequest } from '../src/control/vocabulary';
import { transcriptToActivities, type TranscriptStore } from './transcript';

export interface HandoffDialogOptions {
  /** Where the conversation's transcript is read from (the adapter's transcript store). */
  transcripts: TranscriptStore;
  /** Defaults for every handoff (team, agent, folder, priority, labels …). */
  request?: HandoffRequest;
  /** What the customer is told; it should mention a human. */
  confirmation?: string;
}

/** Options a caller may pass to `beginDialog(HandoffDialog.id, …)`. */
export interface HandoffDialogArgs {
  reason?: string;
  request?: HandoffRequest;
}

export class HandoffDialog extends ComponentDialog {
  static readonly defaultId = 'handoff.handoffDialog';
  protected static readonly waterfallId = 'handoff.handoffDialog.steps';

  constructor(
    id: string = HandoffDialog.defaultId,
    protected readonly options: HandoffDialogOptions,
  ) {
    super(id);
    this.addDialog(
      new WaterfallDialog(`${id}.steps`, [(step) => this.confirmStep(step), (step) => this.initiateStep(step)]),
    );
    this.initialDialogId = `${id}.steps`;
  }

  /** Tells the customer what happens next. */
  protected async confirmStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    await step.context.sendActivity(
      this.options.confirmation ?? "Sure — I'm connecting you with a human agent. Someone will reply here shortly.",
    );
    return step.next();
  }

  /** What the handoff asks for: defaults, then the caller's request, then the reason. */
  protected buildRequest(step: WaterfallStepContext): HandoffRequest {
    const args = (step.options ?? {}) as HandoffDialogArgs;
    return {
      ...this.options.request,
      ...args.request,
      reason: args.reason ?? args.request?.reason ?? this.options.request?.reason ?? 'The customer asked for a human.',
    };
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
}
