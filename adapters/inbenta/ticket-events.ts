/**
 * Ticket events back into the conversation, and the customer's words on into the
 * ticket:
 * - `GET /api/inbenta` answers Inbenta's registration challenge; `POST /api/inbenta` takes a batch of
 *   events through the intake every platform's webhooks take (each stored once before the 200), then
 *   processed in the order of the conversation the ticket was opened from: an agent's `answer` is
 *   relayed to the customer, a closed ticket ends the ticket's ownership and reaches the bot as
 *   `handoff.status` `completed`.
 * - A customer message the gate keeps from the bot while a ticket owns the conversation is added to
 *   the ticket as a reply.
 * What reaches the customer is sent by a turn of the conversation and what reaches the ticket is an
 * outbox action: both retried with backoff (across restarts) when a platform is down.
 */
import type { Activity, ConversationReference, TurnContext } from 'botbuilder-core';
import { header, refuseWebhook, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import type { InboxEvent } from '../../src/storage/event-inbox';
import type { OwnershipStore } from '../../src/ownership';
import type { OwnershipRecord } from '../../src/ownership/ownership-record';
import type { Logger } from '../../src/log';
import { runInTurnScope } from '../../src/turn-scope';
import { statusActivity } from '../../src/pipeline/channel-pipeline';
import type { ChannelAdapter } from '../../src/pipeline/channel-adapter';
import type { PipelineRuntime } from '../../src/pipeline/pipeline-runtime';
import { WebhookIntake, type IntakeEvent, type IntakePlan } from '../../src/pipeline/webhook-intake';
import type { Refusal } from '../../src/pipeline/connector';
import { describeActivity } from '../../dialogs/transcript';
import type { InbentaTicketingClient } from './client';
import { htmlToText, isClosedTicket, textToHtml } from './convert';
import { WebhookDeliverySchema, type InbentaWebhookEvent } from './schemas';
import type { TicketLink, TicketLinks } from './ticket-links';
import { hookSignatureMatches } from './verify';
import { channelKey, platformKey, scopedId, tenantOf } from '../../src/tenants/tenant-scope';

export interface InbentaTicketEventsOptions {
  client: InbentaTicketingClient;
  links: TicketLinks;
  webhookSecret?: string;
  /**
   * The tenant whose Inbenta project this is (none: the environment's). Its events are its own in the
   * engine (`inbenta@acme`: inbox, outbox, dedupe keys) and reach only its own conversations.
   */
  tenant?: string;
  /** The channel adapters' runtime: its store, scheduler and outbox. */
  runtime: PipelineRuntime;
  /** The adapter serving a conversation (a tenant's conversation: that tenant's). */
  adapterFor: (channelId: string, conversationId: string) => ChannelAdapter | undefined;
  /** What the customer reads for an agent's answer. */
  formatAnswer?: (text: string, link: TicketLink) => string;
}

/** An outbox action: a message to the customer's conversation (relayed answer, closing notice). */
interface RelayAction {
  channelId: string;
  conversationId: string;
  reference: Partial<ConversationReference>;
  text: string;
}

/** An outbox action: a customer message added to the ticket. */
interface ForwardAction {
  ticketId: number;
  creatorId: number;
  message: string;
}

/** How many relayed reply ids a link remembers (to never relay one twice). */
const RELAYED_MEMORY = 500;

export class InbentaTicketEvents {
  private readonly logger: Logger;
  private readonly intake: WebhookIntake;
  private readonly ownership: OwnershipStore;
  /** Its key in the engine: `inbenta`, or `inbenta@acme` for a tenant's project. */
  private readonly platform: string;

  constructor(private readonly options: InbentaTicketEventsOptions) {
    const { runtime } = options;
    const platform = (this.platform = platformKey('inbenta', options.tenant));
    this.logger = runtime.logger.child({ platform });
    this.ownership = runtime.ownership;
    this.intake = new WebhookIntake(
      { platform, redeliverStatus: 503, authenticate: (input) => this.authenticate(input), plan: (body) => this.plan(body) },
      runtime,
    );
    runtime.scheduler.register(platform, (stored) => this.processStored(stored));
    // Relays were queued beside turns by earlier versions: one still pending in the store is delivered.
    runtime.delivery.register(platform, 'relay', {
      execute: (action) => this.relay(action.payload as RelayAction),
      describe: (action) => ({ role: 'agent', text: (action.payload as RelayAction).text }),
      failed: (action, message) => {
        this.logger.error('a ticket message could not be delivered to the customer', { conversationId: action.conversationId, reason: message });
      },
    });
    runtime.delivery.register(platform, 'forward', {
      execute: (action) => {
        const p = action.payload as ForwardAction;
        return options.client.addReply(p.ticketId, { creator: p.creatorId, message: p.message });
      },
      failed: (action, message) => {
        this.logger.error('a customer message could not be added to the ticket', { ticketId: (action.payload as ForwardAction).ticketId, reason: message });
      },
    });
  }

  // ---------------------------------------------------------------- webhooks

  /** `GET /api/inbenta`: Inbenta's registration challenge, answered once the signature matches. */
  answerChallenge(input: WebhookInput): WebhookResult {
    const auth = this.authenticate(input);
    const refusal = 'refused' in auth ? auth.refused : header(input.headers, 'x-inbenta-challenge') ? undefined : { status: 400, code: 'inbenta_challenge_missing' as const, message: 'X-Inbenta-Challenge is required' };
    if (refusal) return refuseWebhook({ metrics: this.options.runtime.metrics, logger: this.logger }, this.platform, refusal.status, refusal.code, refusal.message);
    return { status: 200, body: header(input.headers, 'x-inbenta-challenge') };
  }

  /** `POST /api/inbenta`: a batch of ticket and reply events. */
  handle(input: WebhookInput): Promise<WebhookResult> {
    return this.intake.handle(input);
  }

  private authenticate(input: WebhookInput): { refused: Refusal } | { claims?: Record<string, unknown> } {
    const secret = this.options.webhookSecret;
    if (!secret) return { refused: { status: 401, code: 'inbenta_webhook_secret_missing', message: 'INBENTA_WEBHOOK_SECRET is not set: webhooks cannot be verified' } };
    if (!hookSignatureMatches(secret, header(input.headers, 'x-hook-signature'))) return { refused: { status: 401, code: 'inbenta_signature_invalid', message: 'X-Hook-Signature is missing or wrong' } };
    return {};
  }

  /** Each event of a ticket the bot opened, in the order of the conversation it was opened from; others are ignored. */
  private async plan(body: unknown): Promise<IntakePlan> {
    const delivery = WebhookDeliverySchema.safeParse(Array.isArray(body) ? body : [body]);
    if (!delivery.success) return { refused: { status: 400, code: 'payload_invalid', message: 'the body is not an array of Inbenta webhook events (id, item, action)' } };
    const batch: IntakeEvent[] = [];
    for (const event of delivery.data) {
      const ticketId = ticketIdOf(event);
      const link = ticketId === undefined ? undefined : await this.options.links.byTicket(ticketId);
      if (!link) continue; // not about a ticket, or a ticket the bot did not create
      if (this.options.tenant && tenantOf(link.conversationId) !== this.options.tenant) continue; // never another tenant's conversation
      batch.push({
        conversationId: link.conversationId,
        dedupeKeys: [scopedId(this.options.tenant, `inbenta:${event.item}:${event.id}:${event.action}:${event.timestamp ?? ''}`)],
        payload: event,
        timeline: { platform: this.platform, conversationId: link.conversationId, kind: 'webhook', detail: { event: `${event.item}: ${event.action}`, keys: [`ticket ${link.fullUuid}`] } },
      });
    }
    return { batch, ignored: delivery.data.length - batch.length };
  }

  /**
   * One stored event, in the conversation's turn scope (its turns run here, not queued behind
   * themselves). Done once processed; a failure leaves it unfinished, to run again as any platform's
   * event does (set aside for an operator after three attempts): each step's mark comes after its
   * effect, so a repeat does what is left.
   */
  private async processStored(stored: InboxEvent): Promise<void> {
    try {
      await runInTurnScope({ conversationId: stored.conversationId }, () => this.process(stored.payload as InbentaWebhookEvent));
    } catch (error) {
      this.logger.error('processing a webhook failed', { conversationId: stored.conversationId, error });
      throw error;
    }
    await this.options.runtime.stores.inbox.markDone(stored.id);
  }

  private async process(event: InbentaWebhookEvent): Promise<void> {
    const ticketId = ticketIdOf(event)!;
    const link = await this.options.links.byTicket(ticketId);
    if (!link) return;
    if (event.item === 'reply') await this.onReply(link, event.id);
    else if (event.item === 'ticket') await this.onTicketChange(link, event);
  }

  /** An agent's answer on the ticket → to the customer, once. */
  private async onReply(link: TicketLink, replyId: number): Promise<void> {
    const relayed = link.relayedReplies ?? [];
    if (relayed.includes(replyId)) return;
    const reply = (await this.options.client.listReplies(link.ticketId)).find((r) => (r.uuid ?? r.id) === replyId);
    if (!reply) {
      this.logger.warn('a reply event names a reply the ticket does not list', { ticketId: link.ticketId, replyId });
      return;
    }
    if (reply.type !== 'answer') return; // the customer's own words, or an internal reply
    const text = htmlToText(reply.message ?? '');
    if (!text) return;
    const format = this.options.formatAnswer ?? ((t, l) => `Our team answered your ticket ${l.fullUuid}:\n\n${t}`);
    // The answer first, then the mark: a crash in between relays the answer twice, never not at all.
    await this.inTurn(link, async (context) => {
      await context.sendActivity(format(text, link));
    });
    await this.options.links.update(link.ticketId, { ackNextForward: true, relayedReplies: [...relayed, replyId].slice(-RELAYED_MEMORY) });
  }

  /**
   * A turn of the ticket's conversation (its messages sent from its outbox, retried, in its transcript,
   * all committed together, in the conversation's order). Messages to the customer go this way, never
   * beside a turn: a transcript line written outside a turn voids the commit of a turn running then.
   */
  private async inTurn(link: TicketLink, logic: (context: TurnContext) => Promise<void>): Promise<void> {
    await this.channelOf(link).continueConversation(link.reference, logic);
  }

  /** The adapter serving the ticket's conversation (none: an error, and the event runs again later). */
  private channelOf(link: TicketLink): ChannelAdapter {
    const adapter = this.options.adapterFor(link.channelId, link.conversationId);
    if (!adapter) throw new Error(`no running channel serves the conversation's channel "${channelKey(link.channelId, link.conversationId)}"`);
    return adapter;
  }

  /** A ticket change: when it is now closed, the ticket's part is over. */
  private async onTicketChange(link: TicketLink, event: InbentaWebhookEvent): Promise<void> {
    if (link.closed || event.action === 'add') return; // a ticket just created is not closed
    const closed = /close/i.test(event.action) || isClosedTicket(await this.options.client.getTicket(link.ticketId));
    if (!closed) return;
    // The conversation back to the bot and the notice in one turn (committed together), the link's
    // closed mark after: a crash in between repeats the notice rather than leaving the conversation
    // with a closed ticket for good.
    let before: OwnershipRecord | undefined;
    let released = false;
    await this.inTurn(link, async (context) => {
      before = await this.ownership.get(link.channelId, link.conversationId);
      const decision = await this.ownership.apply(link.channelId, link.conversationId, [{ type: 'ticket_closed', ticketId: link.ticketId, desk: this.platform }], before);
      released = decision.transition === 'released';
      await context.sendActivity(`Your ticket ${link.fullUuid} has been closed. Write here if you need anything else.`);
    });
    this.logger.info('ticket closed', { conversationId: link.conversationId, ticketId: link.ticketId });
    await this.options.links.update(link.ticketId, { closed: true });
    const adapter = this.channelOf(link);
    await adapter.emitToBot(link.reference, statusActivity(link.reference, { state: 'completed', message: `Ticket ${link.fullUuid} was closed.` }, new Date(this.options.runtime.clock.now())));
    if (released) await adapter.ticketClosed(link.reference, before, String(link.ticketId));
  }

  /** Resolves with the message's id (the action's result: a later look never takes its echo). */
  private async relay(action: RelayAction): Promise<string> {
    const adapter = this.options.adapterFor(action.channelId, action.conversationId);
    if (!adapter) throw new Error(`no adapter serves the channel "${channelKey(action.channelId, action.conversationId)}"`);
    return (await adapter.deliverMessage(action.reference, { type: 'message', text: action.text })).id;
  }

  // ---------------------------------------------------------------- customer → ticket

  /**
   * A customer message the gate kept from the bot: while a ticket owns the conversation it is added
   * to the ticket (acknowledged once, and again after each answer). Resolves with whether this
   * project holds the conversation's ticket (false: another project's, or none).
   */
  async forwardCustomerMessage(context: TurnContext): Promise<boolean> {
    const { activity } = context;
    const record = await this.ownership.get(activity.channelId, activity.conversation.id);
    if (record?.owner !== 'ticket') return false;
    // Another project's ticket (the conversation's tenant's, or the endpoint's): not this one's to take.
    if (record.details?.desk !== undefined && record.details.desk !== this.platform) return false;
    const ticketId = Number(record.details?.ticketId);
    const link = Number.isFinite(ticketId) ? await this.options.links.byTicket(ticketId) : undefined;
    // Another project may number a ticket the same: only the link made from this conversation counts.
    if (!link || link.conversationId !== activity.conversation.id) return false;
    if (link.closed) return true;
    const text = describeActivity(activity as Partial<Activity>);
    if (!text) return true;
    const payload: ForwardAction = { ticketId: link.ticketId, creatorId: link.creatorId, message: textToHtml(text) };
    await this.options.runtime.delivery.submit({ platform: this.platform, conversationId: link.conversationId, kind: 'forward', payload });
    if (link.ackNextForward) {
      await this.options.links.update(link.ticketId, { ackNextForward: false });
      await context.sendActivity(`I've added your message to ticket ${link.fullUuid}. Our team will answer you here.`);
    }
    return true;
  }
}

/** The ticket an event concerns: the reply's parent, or the ticket itself. */
function ticketIdOf(event: InbentaWebhookEvent): number | undefined {
  if (event.item === 'reply') return event.parent ?? undefined;
  if (event.item === 'ticket') return event.id;
  return undefined;
}
