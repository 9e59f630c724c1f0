/**
 * The ticket dialog's desk on Inbenta: the user found by email or created, the ticket created with
 * the transcript as `history`, idempotent per escalation (the link remembered before answering, and
 * `external_id` looked up so a creation whose answer was lost is found rather than repeated), the
 * conversation then owned by the ticket.
 */
import { createFileDownloader, type FileDownloader } from '../../src/http/file-download';
import type { TicketCreated, TicketDesk, TicketRequest } from '../../dialogs/ticket-desk';
import { isRetryableError } from '../../src/http/retry-policy';
import { HandoffError } from '../../src/errors';
import type { OwnershipStore } from '../../src/ownership';
import { silentLogger, type Logger } from '../../src/log';
import { MAX_ATTACHMENT_BYTES, type CreatedTicket, type InbentaTicketingClient } from './client';
import { historyMessages, textToHtml, ticketTitle } from './convert';
import type { TicketBody } from './schemas';
import type { TicketLink, TicketLinks } from './ticket-links';

export interface InbentaTicketDeskOptions {
  client: InbentaTicketingClient;
  /** The project's key (`inbenta`, a tenant's `inbenta@acme`), kept with the conversation's ticket. */
  desk?: string;
  links: TicketLinks;
  ownership: OwnershipStore;
  queue: number;
  source: number;
  /** Send `external_id` (our escalation id) so a retry finds the ticket (default true). */
  externalId?: boolean;
  autoclassify?: boolean;
  language?: string;
  logger?: Logger;
  /** How long fetching one customer file may take. */
  downloadTimeoutMs?: number;
  /** Fetches the customer's files (default: the shared HTTP client). */
  download?: FileDownloader;
}

export class InbentaTicketDesk implements TicketDesk {
  private readonly logger: Logger;
  private readonly download: FileDownloader;

  constructor(private readonly options: InbentaTicketDeskOptions) {
    this.logger = (options.logger ?? silentLogger).child({ platform: 'inbenta' });
    this.download =
      options.download ?? createFileDownloader({ code: 'inbenta_attachment_download_failed', maxBytes: MAX_ATTACHMENT_BYTES + 1, timeoutMs: options.downloadTimeoutMs ?? 15_000, logger: this.logger });
  }

  async createTicket(request: TicketRequest): Promise<TicketCreated> {
    const { client, links } = this.options;
    const known = await links.byEscalation(request.escalationId);
    if (known) return this.created(known);

    const channelId = request.reference.channelId;
    const conversationId = request.reference.conversation?.id;
    if (!channelId || !conversationId) throw new HandoffError('inbenta_reference_invalid', 'the ticket request has no conversation reference');

    const user = await client.findOrCreateUser({ name: request.customer.name?.trim() || request.customer.email, address: request.customer.email });
    const useExternalId = (this.options.externalId ?? true) && client.sendsExternalId;
    const existing = useExternalId ? await this.findByExternalId(request.escalationId) : undefined;

    let ticket: CreatedTicket;
    const skipped: NonNullable<TicketCreated['skippedAttachments']> = [];
    if (existing) {
      ticket = existing;
    } else {
      const attachments = await this.upload(request, skipped);
      const body: TicketBody = {
        title: ticketTitle(request.title),
        message: textToHtml(request.description),
        creator: user.id,
        queue: this.options.queue,
        source: this.options.source,
        ...(this.options.autoclassify === false ? {} : { autoclassify: true }),
        ...(attachments.length > 0 ? { attachments } : {}),
        history: { messages: historyMessages(request.transcript) },
        ...(useExternalId ? { external_id: request.escalationId } : {}),
        ...(this.options.language ? { language: this.options.language } : {}),
      };
      try {
        ticket = await client.createTicket(body);
      } catch (error) {
        // The answer may have been lost after Inbenta created it: look before giving up.
        const found = isRetryableError(error) && useExternalId && client.sendsExternalId ? await this.findByExternalId(request.escalationId).catch(() => undefined) : undefined;
        if (!found) throw error;
        ticket = found;
      }
    }

    const link: TicketLink = {
      ticketId: ticket.id,
      fullUuid: ticket.fullUuid,
      escalationId: request.escalationId,
      creatorId: user.id,
      channelId,
      conversationId,
      reference: request.reference,
      createdAt: new Date().toISOString(),
      ackNextForward: true,
    };
    await links.save(link);
    await this.options.ownership.apply(channelId, conversationId, [{ type: 'ticket_opened', ticketId: ticket.id, desk: this.options.desk ?? 'inbenta' }]);
    this.logger.info('ticket created', { conversationId, ticketId: ticket.id, reference: ticket.fullUuid, userCreated: user.created });
    return { ...this.created(link), ...(skipped.length > 0 ? { skippedAttachments: skipped } : {}) };
  }

  private created(link: TicketLink): TicketCreated {
    return { ticketId: String(link.ticketId), reference: link.fullUuid };
  }

  private async findByExternalId(escalationId: string): Promise<CreatedTicket | undefined> {
    const [ticket] = await this.options.client.findTicketsByExternalId(escalationId);
    const id = ticket?.uuid ?? ticket?.id;
    return ticket && id !== undefined ? { id, fullUuid: ticket.full_uuid ?? String(id) } : undefined;
  }

  /** Fetches and uploads the customer's files; one that cannot be sent is skipped, with why. */
  private async upload(request: TicketRequest, skipped: Array<{ name: string; reason: string }>): Promise<number[]> {
    const ids: number[] = [];
    for (const file of request.attachments ?? []) {
      try {
        // One byte over the limit is enough to know it is too large.
        const fetched = await this.download(file.url, { maxBytes: MAX_ATTACHMENT_BYTES + 1 });
        ids.push(await this.options.client.uploadMedia({ name: file.name, data: fetched.data }));
      } catch (error) {
        const code = (error as { code?: string }).code;
        const tooLarge = code === 'inbenta_attachment_too_large' || code === 'inbenta_attachment_download_failed_too_large';
        const reason = tooLarge ? 'it is larger than about 7 MB' : 'it could not be fetched or uploaded';
        skipped.push({ name: file.name, reason });
        this.logger.warn('attachment left out of the ticket', { name: file.name, reason, error });
      }
    }
    return ids;
  }
}
