/**
 * "Leave a message": escalation to a ticket, platform neutral. Email (from the platform
 * when it has one, else asked and validated) → description → optional confirmation → the ticket with
 * the transcript → its reference told to the customer → the configured close-out as a
 * `conversation.control` event. When the ticketing system fails, the customer is told plainly and
 * offered a retry (same escalation, so never a second ticket) or a human (the transcript travels).
 * Override any step; without a desk the dialog says tickets are unavailable and offers a human.
 */
import { createHash } from 'node:crypto';
import { ActivityTypes, MessageFactory, type Activity, type CardAction, type TurnContext } from 'botbuilder-core';
import {
  ComponentDialog,
  ConfirmPrompt,
  Dialog,
  TextPrompt,
  WaterfallDialog,
  type DialogTurnResult,
  type PromptValidatorContext,
  type WaterfallStepContext,
} from 'botbuilder-dialogs';
import { ConversationEvents, type ConversationControl } from '../src/control/vocabulary';
import { deskServes, type TicketAttachment, type TicketCreated, type TicketDesk } from './ticket-desk';
import type { TranscriptStore } from './transcript';

export interface TicketDialogOptions {
  /** Where tickets are created; absent → tickets are unavailable. */
  desk?: TicketDesk;
  /** The transcript that becomes the ticket's history. */
  transcripts?: TranscriptStore;
  /** Ask "Shall I send it?" before creating the ticket (default off). */
  confirm?: boolean;
  /** What to do with the conversation once the ticket exists (per platform), e.g. `{status: 'resolved'}`. */
  closeOut?: (context: TurnContext) => ConversationControl | undefined;
  /** Told when the desk throws (a log line, a metric); the customer is told in any case. */
  onError?: (error: unknown, context: TurnContext) => void;
  unavailableText?: string;
}

/** What the dialog returns to its parent. */
export interface TicketDialogResult {
  ticketCreated: boolean;
  ticket?: TicketCreated;
}

/** The escalation as gathered, kept across a failed attempt so a retry sends the same. */
interface Escalation {
  escalationId: string;
  email: string;
  name?: string;
  description: string;
  attachments: TicketAttachment[];
}

export const HUMAN_CHOICE: CardAction = { type: 'imBack', title: 'Talk to a human', value: 'human' };
export const TICKET_CHOICE: CardAction = { type: 'imBack', title: 'Leave a message', value: 'ticket' };
export const RETRY_CHOICE: CardAction = { type: 'imBack', title: 'Try again', value: 'retry' };

export const EMAIL_PROMPT = 'What is your email address?';
export const EMAIL_RETRY_PROMPT = "That doesn't look like an email address. What is your email address?";
export const DESCRIPTION_PROMPT = 'Please describe your issue. Our team will answer you here.';
export const TICKET_FAILED_TEXT =
  "Sorry, I couldn't create your ticket right now: our ticketing system isn't answering. I've kept everything you wrote. Would you like me to try again, or to connect you with a human?";

const EMAIL = /^[^\s@<>(),;:"[\]]+@[^\s@<>(),;:"[\]]+\.[^\s@<>(),;:"[\]]{2,}$/;

/** Whether a text is a plausible email address. */
export function isEmailAddress(text: string | undefined): boolean {
  return !!text && text.trim().length <= 254 && EMAIL.test(text.trim());
}

export class TicketDialog extends ComponentDialog {
  static readonly defaultId = 'handoff.ticketDialog';
  protected readonly ids: { steps: string; email: string; description: string; confirm: string; retry: string };

  constructor(
    id: string = TicketDialog.defaultId,
    protected readonly options: TicketDialogOptions = {},
  ) {
    super(id);
    this.ids = { steps: `${id}.steps`, email: `${id}.email`, description: `${id}.description`, confirm: `${id}.confirm`, retry: `${id}.retry` };
    this.addDialog(new TextPrompt(this.ids.email, (p) => this.validateEmail(p)));
    this.addDialog(new TextPrompt(this.ids.description, (p) => this.validateDescription(p)));
    this.addDialog(new ConfirmPrompt(this.ids.confirm));
    this.addDialog(
      new WaterfallDialog(this.ids.steps, [
        (step) => this.emailStep(step),
        (step) => this.descriptionStep(step),
        (step) => this.confirmStep(step),
        (step) => this.createStep(step),
      ]),
    );
    this.addDialog(new WaterfallDialog(this.ids.retry, [(step) => this.attemptStep(step), (step) => this.afterFailureStep(step)]));
    this.initialDialogId = this.ids.steps;
  }

  /** The email the platform knows (Nimchat contacts), or undefined. Override for other sources. */
  protected platformEmail(context: TurnContext): string | undefined {
    const props = context.activity.from?.properties as { email?: unknown } | undefined;
    const email = typeof props?.email === 'string' ? props.email : undefined;
    return isEmailAddress(email) ? email!.trim() : undefined;
  }

  protected async emailStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    if (!deskServes(this.options.desk, step.context)) return this.unavailable(step);
    const known = this.platformEmail(step.context);
    if (known) return step.next(known);
    return step.prompt(this.ids.email, { prompt: EMAIL_PROMPT, retryPrompt: EMAIL_RETRY_PROMPT });
  }

  protected async descriptionStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    (step.values as { email?: string }).email = String(step.result).trim();
    return step.prompt(this.ids.description, { prompt: DESCRIPTION_PROMPT, retryPrompt: DESCRIPTION_PROMPT });
  }

  protected async confirmStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const { activity } = step.context;
    const values = step.values as { escalation?: Escalation; email: string };
    values.escalation = {
      escalationId: escalationIdOf(activity),
      email: values.email,
      name: activity.from?.name || undefined,
      description: (activity.text ?? '').trim() || '(see the attachments)',
      attachments: attachmentsOf(activity),
    };
    if (!this.options.confirm) return step.next(true);
    return step.prompt(this.ids.confirm, { prompt: `I'll send our team this message: "${values.escalation.description}". Shall I send it?` });
  }

  protected async createStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    if (step.result !== true) {
      await step.context.sendActivity("OK, I haven't sent anything. Write \"ticket\" whenever you want to leave a message.");
      return step.endDialog({ ticketCreated: false } satisfies TicketDialogResult);
    }
    return step.replaceDialog(this.ids.retry, (step.values as { escalation: Escalation }).escalation);
  }

  /** One attempt at the ticket; the escalation is the same on every attempt. */
  protected async attemptStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const escalation = step.options as Escalation;
    (step.values as { escalation?: Escalation }).escalation = escalation;
    let ticket: TicketCreated;
    try {
      ticket = await this.createTicket(step.context, escalation);
    } catch (error) {
      this.options.onError?.(error, step.context);
      await step.context.sendActivity(MessageFactory.suggestedActions([RETRY_CHOICE, HUMAN_CHOICE], TICKET_FAILED_TEXT));
      return Dialog.EndOfTurn;
    }
    await this.ticketCreated(step.context, ticket);
    return step.endDialog({ ticketCreated: true, ticket } satisfies TicketDialogResult);
  }

  /** After a failure: "try again" → the same escalation again; anything else ends (a human request is caught by the parent). */
  protected async afterFailureStep(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const escalation = (step.values as { escalation: Escalation }).escalation;
    const text = (step.context.activity.text ?? '').trim();
    if (/^(retry|try again|again|yes|y)$/i.test(text)) return step.replaceDialog(this.ids.retry, escalation);
    await step.context.sendActivity('OK. Your message is kept here: write "ticket" to try again later, or "human" to talk to a person.');
    return step.endDialog({ ticketCreated: false } satisfies TicketDialogResult);
  }

  /** Creates the ticket with the transcript so far. */
  protected async createTicket(context: TurnContext, escalation: Escalation): Promise<TicketCreated> {
    const { activity } = context;
    const transcript = this.options.transcripts ? await this.options.transcripts.list(activity.channelId, activity.conversation.id) : [];
    return this.options.desk!.createTicket({
      escalationId: escalation.escalationId,
      reference: {
        channelId: activity.channelId,
        serviceUrl: activity.serviceUrl,
        conversation: activity.conversation,
        user: activity.from,
        bot: activity.recipient,
        locale: activity.locale,
      },
      customer: { email: escalation.email, name: escalation.name },
      title: escalation.description,
      description: escalation.description,
      transcript,
      attachments: escalation.attachments,
    });
  }

  /** Tells the customer the reference, then the close-out (a failure there does not undo the ticket). */
  protected async ticketCreated(context: TurnContext, ticket: TicketCreated): Promise<void> {
    const skipped = (ticket.skippedAttachments ?? []).map((s) => ` (I couldn't attach "${s.name}": ${s.reason}.)`).join('');
    await context.sendActivity(`Thank you. Your ticket ${ticket.reference} has been created; our team will answer you here.${skipped}`);
    const control = this.options.closeOut?.(context);
    if (!control || Object.keys(control).length === 0) return;
    try {
      await context.sendActivity({ type: ActivityTypes.Event, name: ConversationEvents.Control, value: control });
    } catch (error) {
      this.options.onError?.(error, context);
    }
  }

  protected async validateEmail(prompt: PromptValidatorContext<string>): Promise<boolean> {
    return prompt.recognized.succeeded && isEmailAddress(prompt.recognized.value);
  }

  protected async validateDescription(prompt: PromptValidatorContext<string>): Promise<boolean> {
    const hasText = prompt.recognized.succeeded && (prompt.recognized.value ?? '').trim() !== '';
    return hasText || attachmentsOf(prompt.context.activity).length > 0;
  }

  /** Says tickets cannot be left now and offers a human. */
  protected async unavailable(step: WaterfallStepContext): Promise<DialogTurnResult> {
    const text =
      this.options.unavailableText ??
      "Sorry, leaving a message isn't available right now. Would you like to talk to a human instead?";
    await step.context.sendActivity(MessageFactory.suggestedActions([HUMAN_CHOICE], text));
    return step.endDialog({ ticketCreated: false } satisfies TicketDialogResult);
  }
}

/**
 * The escalation's id, derived from the message that completed it: a turn replayed after a crash
 * gets the same id (and so the same ticket); a later escalation in the same conversation a new one.
 */
function escalationIdOf(activity: Partial<Activity>): string {
  const source = `${activity.channelId}|${activity.conversation?.id}|${activity.id ?? new Date(activity.timestamp ?? Date.now()).toISOString()}`;
  return `bot-${createHash('sha256').update(source).digest('hex').slice(0, 32)}`;
}

/** The customer's files on a message (those with a URL to fetch them from). */
function attachmentsOf(activity: Partial<Activity>): TicketAttachment[] {
  return (activity.attachments ?? [])
    .filter((a) => typeof a.contentUrl === 'string' && /^https?:\/\//i.test(a.contentUrl))
    .map((a) => ({ name: a.name ?? 'attachment', contentType: a.contentType, url: a.contentUrl! }));
}
