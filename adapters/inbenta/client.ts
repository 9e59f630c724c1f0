/**
 * The Inbenta ticketing API, nothing else: every call carries `x-inbenta-key` and
 * the bearer token; a 401, or a 403 "explicit deny" (an expired or invalid token at the gateway), gets
 * a new token and one more try; 429 waits for `x-throttle-reset`/`Retry-After` (PlatformHttpClient).
 */
import { PlatformHttpClient, type PlatformRequest, type PlatformResponse } from '../../src/http/platform-http-client';
import { InvalidRequestError, PlatformApiError } from '../../src/errors';
import { InbentaAuth, ticketingUrlOf, type HttpOptions } from './auth';
import {
  CreatedObjectSchema,
  CreatedTicketSchema,
  CreatedUserSchema,
  OPTIONAL_TICKET_FIELDS,
  ReplyListSchema,
  TicketListSchema,
  TicketSchema,
  UserListSchema,
  type InbentaReply,
  type InbentaTicket,
  type OptionalTicketField,
  type TicketBody,
} from './schemas';
import { readThrottleReset } from './throttle';

/**
 * Requests are limited to 10 MB and media travel base64-encoded (4/3 larger), so a file above about
 * 7 MB cannot be sent: refused before encoding.
 */
export const MAX_ATTACHMENT_BYTES = 7 * 1024 * 1024;

export type WebhookItem = 'ticket' | 'reply' | 'user' | 'media' | 'alert' | 'classification' | 'queue';

export interface CreatedTicket {
  id: number;
  fullUuid: string;
}

export class InbentaTicketingClient {
  private readonly clients = new Map<string, PlatformHttpClient>();
  /** Optional create fields this instance refused; not sent again while the process lives. */
  private readonly refusedFields = new Set<OptionalTicketField>();

  constructor(
    readonly auth: InbentaAuth,
    private readonly apiKey: string,
    private readonly http: HttpOptions = {},
  ) {}

  /** A client per ticketing URL: the URL may change with a new token. */
  private clientFor(baseUrl: string): PlatformHttpClient {
    let client = this.clients.get(baseUrl);
    if (!client) {
      client = new PlatformHttpClient({ ...this.http, platform: 'inbenta', baseUrl, headers: { 'x-inbenta-key': this.apiKey }, readRetryDelay: readThrottleReset });
      this.clients.set(baseUrl, client);
    }
    return client;
  }

  /** One authenticated call; a refused token is replaced once. */
  private async call<T>(req: PlatformRequest): Promise<PlatformResponse<T>> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.auth.token();
      try {
        return await this.clientFor(ticketingUrlOf(token)).request<T>({ ...req, headers: { ...req.headers, Authorization: `Bearer ${token.accessToken}` } });
      } catch (error) {
        if (attempt === 0 && isTokenRejection(error)) {
          this.auth.invalidate(token.accessToken);
          continue;
        }
        throw error;
      }
    }
  }

  /** The numeric id of the user with this address, if any. */
  async findUserByAddress(address: string): Promise<number | undefined> {
    const res = await this.call({ method: 'GET', path: '/v1/users', params: { address } });
    const users = UserListSchema.parse(res.data).data;
    const match = users.find((u) => u.address?.toLowerCase() === address.toLowerCase()) ?? users[0];
    return match ? (match.id ?? match.uuid) : undefined;
  }

  async createUser(user: { name: string; address: string }): Promise<number> {
    const res = await this.call({ method: 'POST', path: '/v1/users', data: user, retry: false });
    const created = CreatedUserSchema.parse(res.data);
    return (created.uuid ?? created.id)!;
  }

  /** Finds the user by address, or creates it (a concurrent creation is found again). */
  async findOrCreateUser(user: { name: string; address: string }): Promise<{ id: number; created: boolean }> {
    const found = await this.findUserByAddress(user.address);
    if (found !== undefined) return { id: found, created: false };
    try {
      return { id: await this.createUser(user), created: true };
    } catch (error) {
      if (error instanceof PlatformApiError && (error.status === 400 || error.status === 409 || error.status === 422)) {
        const again = await this.findUserByAddress(user.address);
        if (again !== undefined) return { id: again, created: false };
      }
      throw error;
    }
  }

  /** Uploads a file (base64); refuses one too large for Inbenta before encoding it. */
  async uploadMedia(file: { name: string; data: Buffer }): Promise<number> {
    if (file.data.length > MAX_ATTACHMENT_BYTES) {
      throw new InvalidRequestError(
        'inbenta_attachment_too_large',
        `the file "${file.name}" is ${(file.data.length / 1048576).toFixed(1)} MB; Inbenta accepts files up to about 7 MB (10 MB per request once base64-encoded)`,
      );
    }
    const res = await this.call({ method: 'POST', path: '/v1/media', data: { name: file.name, content: file.data.toString('base64') }, retry: false });
    return CreatedObjectSchema.parse(res.data).uuid;
  }

  /**
   * Creates a ticket. Not retried at the HTTP level (a repeat could create a second ticket: callers
   * look it up by `external_id`). An optional field this instance refuses (400/422) is dropped and
   * the creation tried again without it.
   */
  async createTicket(body: TicketBody): Promise<CreatedTicket> {
    let current: TicketBody = dropFields(body, [...this.refusedFields]);
    const dropped: OptionalTicketField[] = [];
    for (;;) {
      try {
        const res = await this.call({ method: 'POST', path: '/v1/tickets', data: current, retry: false });
        const created = CreatedTicketSchema.parse(res.data);
        // Only a creation that worked without them proves the instance refuses these fields.
        for (const f of dropped) this.refusedFields.add(f);
        return { id: created.uuid, fullUuid: created.full_uuid ?? String(created.uuid) };
      } catch (error) {
        const blamed = blamedOptionalFields(error, current);
        if (blamed.length === 0) throw error;
        dropped.push(...blamed);
        current = dropFields(current, blamed);
      }
    }
  }

  /** Whether tickets are created with `external_id` (false once the instance refused it). */
  get sendsExternalId(): boolean {
    return !this.refusedFields.has('external_id');
  }

  async findTicketsByExternalId(externalId: string): Promise<InbentaTicket[]> {
    const res = await this.call({ method: 'GET', path: '/v1/tickets', params: { external_id: externalId } });
    return TicketListSchema.parse(res.data).data.filter((t) => t.external_id === undefined || t.external_id === null || String(t.external_id) === externalId);
  }

  async getTicket(ticketId: number): Promise<InbentaTicket> {
    const res = await this.call({ method: 'GET', path: `/v1/tickets/${ticketId}` });
    return TicketSchema.parse(res.data);
  }

  async addReply(ticketId: number, reply: { creator: number; message: string; attachments?: number[] }): Promise<number> {
    const res = await this.call({ method: 'POST', path: `/v1/tickets/${ticketId}/replies`, data: reply, retry: false });
    return CreatedObjectSchema.parse(res.data).uuid;
  }

  async listReplies(ticketId: number): Promise<InbentaReply[]> {
    const res = await this.call({ method: 'GET', path: `/v1/tickets/${ticketId}/replies` });
    return ReplyListSchema.parse(res.data).data;
  }

  /** Registers a webhook for one item; Inbenta then verifies the URL with a challenge. */
  async registerWebhook(hook: { item: WebhookItem; url: string; secret: string }): Promise<number> {
    const res = await this.call({ method: 'POST', path: '/v1/webhooks', data: hook, retry: false });
    return CreatedObjectSchema.parse(res.data).uuid;
  }
}

/** 401, or the gateway's 403 "explicit deny" that an expired or invalid token gets. */
export function isTokenRejection(error: unknown): boolean {
  if (!(error instanceof PlatformApiError)) return false;
  if (error.status === 401) return true;
  return error.status === 403 && /explicit deny/i.test(error.platformMessage ?? '');
}

/** The optional fields a 400/422 is about: those it names, else all that were sent. */
function blamedOptionalFields(error: unknown, body: TicketBody): OptionalTicketField[] {
  if (!(error instanceof PlatformApiError) || (error.status !== 400 && error.status !== 422)) return [];
  const sent = OPTIONAL_TICKET_FIELDS.filter((f) => body[f] !== undefined);
  if (sent.length === 0) return [];
  const message = error.platformMessage ?? '';
  const named = sent.filter((f) => message.includes(f));
  return named.length > 0 ? named : sent;
}

function dropFields(body: TicketBody, fields: readonly OptionalTicketField[]): TicketBody {
  const copy = { ...body };
  for (const f of fields) delete copy[f];
  return copy;
}
