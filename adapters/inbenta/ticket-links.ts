/**
 * Which ticket belongs to which conversation, in the durable botbuilder Storage (so ticket events
 * after a restart still find their conversation), looked up by ticket and by escalation. Each Inbenta
 * project keeps its own (`inbenta/…`, a tenant's `inbenta@acme/…`): two projects number their
 * tickets independently.
 */
import type { ConversationReference, Storage, StoreItem } from 'botbuilder-core';

export interface TicketLink {
  ticketId: number;
  fullUuid: string;
  escalationId: string;
  /** The Inbenta user who created it (replies from the customer are written as this user). */
  creatorId: number;
  channelId: string;
  conversationId: string;
  reference: Partial<ConversationReference>;
  createdAt: string;
  closed?: boolean;
  /** The next customer message forwarded to the ticket is acknowledged (once, then after every answer). */
  ackNextForward?: boolean;
  /** Answers already relayed to the customer (the newest few hundred). */
  relayedReplies?: number[];
}

interface StoredLink extends StoreItem, TicketLink {}
interface StoredEscalation extends StoreItem {
  ticketId: number;
}

export class TicketLinks {
  /** `namespace`: the project's platform key (`inbenta`, `inbenta@acme`). */
  constructor(
    private readonly storage: Storage,
    private readonly namespace = 'inbenta',
  ) {}

  private ticketKey(ticketId: number): string {
    return `${this.namespace}/ticket/${ticketId}`;
  }

  private escalationKey(escalationId: string): string {
    return `${this.namespace}/escalation/${escalationId}`;
  }

  async byTicket(ticketId: number): Promise<TicketLink | undefined> {
    const key = this.ticketKey(ticketId);
    const item = (await this.storage.read([key]))[key] as StoredLink | undefined;
    if (!item) return undefined;
    const { eTag: _eTag, ...link } = item;
    return link;
  }

  async byEscalation(escalationId: string): Promise<TicketLink | undefined> {
    const key = this.escalationKey(escalationId);
    const item = (await this.storage.read([key]))[key] as StoredEscalation | undefined;
    return item ? this.byTicket(item.ticketId) : undefined;
  }

  /** Stores the link under both keys, the ticket first (an escalation never points at nothing). */
  async save(link: TicketLink): Promise<void> {
    await this.storage.write({ [this.ticketKey(link.ticketId)]: { ...link, eTag: '*' } });
    await this.storage.write({ [this.escalationKey(link.escalationId)]: { ticketId: link.ticketId, eTag: '*' } });
  }

  async update(ticketId: number, patch: Partial<TicketLink>): Promise<TicketLink | undefined> {
    const current = await this.byTicket(ticketId);
    if (!current) return undefined;
    const next = { ...current, ...patch };
    await this.storage.write({ [this.ticketKey(ticketId)]: { ...next, eTag: '*' } });
    return next;
  }
}
