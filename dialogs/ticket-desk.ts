/**
 * What the ticket dialog needs from a ticketing system, platform neutral: the Inbenta integration
 * implements it (adapters/inbenta/ticket-desk.ts); a bot developer may plug in another one.
 */
import { TurnContext, type ConversationReference } from 'botbuilder-core';
import type { TranscriptEntry } from './transcript';

export interface TicketAttachment {
  name: string;
  contentType?: string;
  /** Where the customer's file can be fetched. */
  url: string;
}

export interface TicketRequest {
  /**
   * Stable per escalation: a retry of the same escalation (the customer's "try again", a turn
   * replayed after a crash) passes the same id, and gets the same ticket.
   */
  escalationId: string;
  reference: Partial<ConversationReference>;
  customer: { email: string; name?: string };
  title: string;
  description: string;
  /** The conversation so far, oldest first. */
  transcript: TranscriptEntry[];
  attachments?: TicketAttachment[];
}

export interface TicketCreated {
  /** The system's id of the ticket. */
  ticketId: string;
  /** The reference the customer is told (Inbenta: `full_uuid`). */
  reference: string;
  /** Files that could not be attached, with why. */
  skippedAttachments?: Array<{ name: string; reason: string }>;
}

export interface TicketDesk {
  createTicket(request: TicketRequest): Promise<TicketCreated>;
  /** Whether it opens tickets for this conversation (a desk per tenant serves its own); absent: every one. */
  serves?(reference: Partial<ConversationReference>): boolean;
}

/** Whether `desk` can open a ticket for the turn's conversation. */
export function deskServes(desk: TicketDesk | undefined, context: TurnContext): boolean {
  return desk !== undefined && (desk.serves?.(TurnContext.getConversationReference(context.activity)) ?? true);
}
