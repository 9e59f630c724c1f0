/**
 * Which ticketing integration serves a conversation: its tenant's own (the tenant's Inbenta project),
 * else the endpoint's. Chosen at each use: tenants come and go while the endpoint runs.
 */
import type { ConversationReference, TurnContext } from 'botbuilder-core';
import type { TicketCreated, TicketDesk, TicketRequest } from '../../dialogs/ticket-desk';
import { HandoffError } from '../errors';
import type { RunningPlatform } from '../platforms/platform';
import { tenantOf } from './tenant-scope';

export class TicketRouting implements TicketDesk {
  /** `integrations(tenant)`: the platforms running for a tenant; `undefined`: the endpoint's own. */
  constructor(private readonly integrations: (tenant: string | undefined) => Iterable<RunningPlatform>) {}

  serves(reference: Partial<ConversationReference>): boolean {
    const desk = this.deskFor(reference.conversation?.id);
    return desk !== undefined && (desk.serves?.(reference) ?? true);
  }

  createTicket(request: TicketRequest): Promise<TicketCreated> {
    const conversationId = request.reference.conversation?.id;
    const desk = this.deskFor(conversationId);
    if (!desk) throw new HandoffError('ticket_desk_missing', `no ticketing integration serves the conversation "${conversationId ?? ''}"`);
    return desk.createTicket(request);
  }

  /**
   * A customer message kept from the bot while a ticket owns the conversation, to the integration
   * holding that ticket: the tenant's own first, then the endpoint's (a ticket opened there before the
   * tenant had its own project). Resolves with whether one took it.
   */
  async forward(context: TurnContext): Promise<boolean> {
    for (const running of this.candidates(context.activity.conversation?.id)) {
      if (running.forwardToTicket && (await running.forwardToTicket(context))) return true;
    }
    return false;
  }

  private deskFor(conversationId: string | undefined): TicketDesk | undefined {
    return this.candidates(conversationId).find((running) => running.ticketDesk)?.ticketDesk;
  }

  private candidates(conversationId: string | undefined): RunningPlatform[] {
    const tenant = tenantOf(conversationId);
    return [...(tenant ? this.integrations(tenant) : []), ...this.integrations(undefined)];
  }
}
