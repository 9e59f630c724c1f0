/**
 * Ticket events back into the conversation, and the customer's words on into the
 * ticket:
 * - `GET /api/inbenta` answers Inbenta's registration challenge; `POST /api/inbenta` takes a batch of
 *   events, each checked, deduped and stored before the 200, then processed in its conversation's
 *   queue: an agent's `answer` is relayed to the customer, a closed ticket ends the ticket's ownership
 *   and reaches the bot as `handoff.status` `completed`.
 * - A customer message the gate keeps from the bot while a ticket owns the conversation is added to
 *   the ticket as a reply.
 * Relays and forwards are outbox actions: retried with backoff (across restarts) when a platform is down.
 */
import type { Activity, ConversationReference, TurnContext } from 'botbuilder-core';
import { parseJsonBody } from '../../src/http/json-body';
import type { ErrorCode } from '../../src/error-codes';
import { header, refuseWebhook, type WebhookInput, type WebhookResult } from '../../src/http/webhook-io';
import { recoverInboxEvents, scheduleInboxEvent, type InboxProcessingDeps } from '../../src/inbox-processing';
import type { ConversationQueue } from '../../src/conversation-queue';
import type { EventInbox, InboxEvent } from '../../src/storage/event-inbox';
import type { OutboxDelivery } from '../../src/outbox/outbox-delivery';
import type { OwnershipStore } from '../../src/ownership';
import type { Metrics } from '../../src/metrics';
import { silentLogger, type Logger } from '../../src/log';
import { runInTurnScope } from '../../src/turn-scope';
import { statusActivity } from '../../src/pipeline/channel-pipeline';
import type { ChannelAdapter } from '../../src/pipeline/channel-adapter';
import type { ConversationRunner } from '../../src/replicas/conversation-runner';
import { describeActivity } from '../../dialogs/transcript';
import type { InbentaTicketingClient } from './client';
import { htmlToText, isClosedTicket, textToHtml } from './convert';
import { WebhookDeliverySchema, type InbentaWebhookEvent } from './schemas';
import type { TicketLink, TicketLinks } from './ticket-links';
import { hookSignatureMatches } from './verify';

const PLATFORM = 'inbenta';

export interface InbentaTicketEventsOptions {
  client: InbentaTicketingClient;
  links: TicketLinks;
  ownership: OwnershipStore;
  webhookSecret?: string;
  inbox: EventInbox;
  queue: ConversationQueue;
  outbox: OutboxDelivery;
  /** The adapter serving a channel (`nimchat`, `woztell`). */
  adapterFor: (channelId: string) => ChannelAdapter | undefined;
  metrics?: Metrics;
  logger?: Logger;
  dedupeTtlMs?: number;
  /** What the customer reads for an agent's answer. */
  formatAnswer?: (text: string, link: TicketLink) => string;
  /** With a store several replicas share: runs each conversation's events where its lease is held. */
  runner?: ConversationRunner;
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

  constructor(private readonly options: InbentaTicketEventsOptions) {
    this.logger = (options.logger ?? silentLogger).child({ platform: PLATFORM });
    // As on one process: a failure is logged and the event is done either way (its effects are outbox actions).
    options.runner?.register(PLATFORM, async (stored) => {
      await runInTurnScope({ conversationId: stored.conversationId }, () => this.process(stored.payload as InbentaWebhookEvent)).catch((error: unknown) =>
        this.logger.error('processing a webhook failed', { conversationId: stored.conversationId, error }),
      );
      await options.inbox.markDone(stored.id);
    });
    options.outbox.register(PLATFORM, 'relay', {
      execute: (action) => this.relay(action.payload as RelayAction),
      describe: (action) => ({ role: 'agent', text: (action.payload as RelayAction).text }),
      failed: (action, message) => {
        this.logger.error('a ticket message could not be delivered to the customer', { conversationId: action.conversationId, reason: message });
      },
    });
    options.outbox.register(PLATFORM, 'forward', {
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

  async handleWebhook(input: WebhookInput): Promise<WebhookResult> {
    const metrics = this.options.metrics;
    metrics?.webhooksReceived.inc({ platform: PLATFORM });
    const secret = this.options.webhookSecret;
    if (!secret) return this.reject(401, 'inbenta_webhook_secret_missing', 'INBENTA_WEBHOOK_SECRET is not set: webhooks cannot be verified');
    if (!hookSignatureMatches(secret, header(input.headers, 'x-hook-signature'))) {
      return this.reject(401, 'inbenta_signature_invalid', 'X-Hook-Signature is missing or wrong');
    }
    if (input.method === 'GET') {
      const challenge = header(input.headers, 'x-inbenta-challenge');
      if (!challenge) return this.reject(400, 'inbenta_challenge_missing', 'X-Inbenta-Challenge is required');
      return { status: 200, body: challenge };
    }
    const body = parseJsonBody(input.rawBody);
    if ('refused' in body) return this.reject(body.refused.status, body.refused.code, body.refused.message);
    const parsed = body.value;
    const delivery = WebhookDeliverySchema.safeParse(Array.isArray(parsed) ? parsed : [parsed]);
    if (!delivery.success) return this.reject(400, 'payload_invalid', 'the body is not an array of Inbenta webhook events (id, item, action)');
    let accepted = 0;
    let ignored = 0;
    for (const event of delivery.data) {
      if (await this.accept(event)) accepted++;
      else ignored++;
    }
    return { status: 200, body: { ok: true, accepted, ignored } };
  }

  private reject(status: number, code: ErrorCode, message: string): WebhookResult {
    return refuseWebhook({ metrics: this.options.metrics, logger: this.logger }, PLATFORM, status, code, message);
  }

  /** Stores one event for processing; false when it is not ours, not of interest, or a repeat. */
  private async accept(event: InbentaWebhookEvent): Promise<boolean> {
    const ticketId = ticketIdOf(event);
    if (ticketId === undefined) return false;
    const link = await this.options.links.byTicket(ticketId);
    if (!link) return false; // a ticket the bot did not create
    const result = await this.options.inbox.accept({
      platform: PLATFORM,
      conversationId: link.conversationId,
      dedupeKeys: [`inbenta:${event.item}:${event.id}:${event.action}:${event.timestamp ?? ''}`],
      ttlMs: this.options.dedupeTtlMs ?? 24 * 3600_000,
      payload: event,
      timeline: { platform: PLATFORM, conversationId: link.conversationId, kind: 'webhook', detail: { event: `${event.item}: ${event.action}`, keys: [`ticket ${link.fullUuid}`] } },
    });
    if (result.duplicate) {
      this.options.metrics?.webhooksDeduplicated.inc({ platform: PLATFORM });
      return false;
    }
    this.schedule(result.id, link.conversationId, event);
    return true;
  }

  private schedule(id: number, conversationId: string, event: InbentaWebhookEvent): void {
    if (this.options.runner) {
      this.options.runner.wake(conversationId);
      return;
    }
    // In the conversation's turn scope: the bot's handoff.status turn runs here, not queued behind itself.
    scheduleInboxEvent(this.inboxDeps(), id, conversationId, () => runInTurnScope({ conversationId }, () => this.process(event)));
  }

  private inboxDeps(): InboxProcessingDeps {
    return { inbox: this.options.inbox, queue: this.options.queue, logger: this.logger, metrics: this.options.metrics };
  }

  /** An event taken back from the set-aside ones (the console's retry): processed as if just accepted. */
  requeue(stored: InboxEvent): void {
    this.schedule(stored.id, stored.conversationId, stored.payload as InbentaWebhookEvent);
  }

  /** Queues the events accepted before a stop that were not processed. */
  recover(): Promise<number> {
    if (this.options.runner) return Promise.resolve(0);
    return recoverInboxEvents(this.inboxDeps(), PLATFORM, (event) => this.schedule(event.id, event.conversationId, event.payload as InbentaWebhookEvent));
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
    // The relay first, then the mark: a crash in between relays the answer twice, never not at all.
    await this.options.outbox.submit({ platform: PLATFORM, conversationId: link.conversationId, kind: 'relay', payload: this.relayAction(link, format(text, link)) });
    await this.options.links.update(link.ticketId, { ackNextForward: true, relayedReplies: [...relayed, replyId].slice(-RELAYED_MEMORY) });
  }

  /** A ticket change: when it is now closed, the ticket's part is over. */
  private async onTicketChange(link: TicketLink, event: InbentaWebhookEvent): Promise<void> {
    if (link.closed || event.action === 'add') return; // a ticket just created is not closed
    const closed = /close/i.test(event.action) || isClosedTicket(await this.options.client.getTicket(link.ticketId));
    if (!closed) return;
    // The conversation back to the bot and the notice first, the link's closed mark last: a crash in
    // between repeats the notice rather than leaving the conversation with a closed ticket for good.
    await this.options.ownership.apply(link.channelId, link.conversationId, [{ type: 'ticket_closed', ticketId: link.ticketId }]);
    this.logger.info('ticket closed', { conversationId: link.conversationId, ticketId: link.ticketId });
    await this.options.outbox.submit({
      platform: PLATFORM,
      conversationId: link.conversationId,
      kind: 'relay',
      payload: this.relayAction(link, `Your ticket ${link.fullUuid} has been closed. Write here if you need anything else.`),
    });
    await this.options.links.update(link.ticketId, { closed: true });
    const adapter = this.options.adapterFor(link.channelId);
    await adapter?.emitToBot(link.reference, statusActivity(link.reference, { state: 'completed', message: `Ticket ${link.fullUuid} was closed.` }));
  }

  private relayAction(link: TicketLink, text: string): RelayAction {
    return { channelId: link.channelId, conversationId: link.conversationId, reference: link.reference, text };
  }

  private async relay(action: RelayAction): Promise<void> {
    const adapter = this.options.adapterFor(action.channelId);
    if (!adapter) throw new Error(`no adapter serves the channel "${action.channelId}"`);
    await adapter.deliverMessage(action.reference, { type: 'message', text: action.text });
  }

  // ---------------------------------------------------------------- customer → ticket

  /**
   * A customer message the gate kept from the bot: while a ticket owns the conversation it is added
   * to the ticket (acknowledged once, and again after each answer).
   */
  async forwardCustomerMessage(context: TurnContext): Promise<void> {
    const { activity } = context;
    const record = await this.options.ownership.get(activity.channelId, activity.conversation.id);
    if (record?.owner !== 'ticket') return;
    const ticketId = Number(record.details?.ticketId);
    const link = Number.isFinite(ticketId) ? await this.options.links.byTicket(ticketId) : undefined;
    if (!link || link.closed) return;
    const text = describeActivity(activity as Partial<Activity>);
    if (!text) return;
    const payload: ForwardAction = { ticketId: link.ticketId, creatorId: link.creatorId, message: textToHtml(text) };
    await this.options.outbox.submit({ platform: PLATFORM, conversationId: link.conversationId, kind: 'forward', payload });
    if (link.ackNextForward) {
      await this.options.links.update(link.ticketId, { ackNextForward: false });
      await context.sendActivity(`I've added your message to ticket ${link.fullUuid}. Our team will answer you here.`);
    }
  }
}

/** The ticket an event concerns: the reply's parent, or the ticket itself. */
function ticketIdOf(event: InbentaWebhookEvent): number | undefined {
  if (event.item === 'reply') return event.parent ?? undefined;
  if (event.item === 'ticket') return event.id;
  return undefined;
}
