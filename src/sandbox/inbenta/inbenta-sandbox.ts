/**
 * An in-process emulation of Inbenta on loopback, for tests and `npm start` in sandbox
 * mode: `/v1/auth`, `/v1/refreshToken`, `/v1/apis` with tokens that expire, the ticketing API under
 * `/prod/ticketing` (users unique by address, media within the 10 MB payload limit, tickets with a
 * numeric `uuid` and a `full_uuid`, replies), the gateway's 403 "explicit deny" for a wrong key or an
 * expired token, webhook registration with its challenge, and batched signed event deliveries when
 * a test (or a person, through `/sandbox/*`) plays the agent answering or closing a ticket.
 */
import { randomBytes } from 'node:crypto';
import axios from 'axios';
import { SandboxHttpError, SandboxRouter, type SandboxReply, type SandboxRequest } from '../router';
import { WebhookDeliverer } from '../webhook-delivery';

export const SANDBOX_INBENTA_KEY = 'sandbox-inbenta-key';
export const SANDBOX_INBENTA_SECRET = 'sandbox-inbenta-secret';
export const SANDBOX_INBENTA_WEBHOOK_SECRET = 'sandbox-inbenta-webhook-secret';

const EXPLICIT_DENY = { Message: 'User is not authorized to access this resource with an explicit deny' };

export interface InbentaSandboxOptions {
  host?: string;
  port?: number;
  /** Token lifetime in seconds (Inbenta: 1200). */
  tokenLifetimeSeconds?: number;
  /** Time source (tests move it). */
  now?: () => number;
  /** Events within this window go out as one batch (default 50 ms). */
  batchWindowMs?: number;
  /** Optional create fields this instance refuses with a 400 (e.g. `external_id`). */
  refuseTicketFields?: string[];
  deliveryTimeoutMs?: number;
  deliveryAttempts?: number;
  deliveryRetryDelayMs?: number;
  /** Its project's credentials (default: the sandbox's fixed ones); two projects on one machine differ. */
  project?: { apiKey: string; apiSecret: string; webhookSecret: string };
}

export interface InbentaSandboxFault {
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  times?: number;
  /** Answer only after doing the work (a lost answer: the ticket exists, the caller sees an error). */
  afterWork?: boolean;
  /** Matching calls let through before the fault applies. */
  skip?: number;
}

export interface SandboxTicketReply {
  uuid: number;
  type: 'answer' | 'reply';
  message: string;
  creator: number;
  attachments: number[];
  created: number;
}

export interface SandboxTicket {
  uuid: number;
  full_uuid: string;
  title: string;
  message: string;
  creator: number;
  queue: number;
  source: number;
  autoclassify?: boolean;
  attachments: number[];
  history?: { messages: Array<{ user: string; message: string }> };
  external_id?: string;
  language?: string;
  status: { id: number; name: string };
  replies: SandboxTicketReply[];
}

export interface InbentaRecordedCall {
  method: string;
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  status: number;
}

interface Hook {
  uuid: number;
  item: string;
  url: string;
  secret: string;
}

export class InbentaSandbox {
  readonly apiKey: string;
  readonly apiSecret: string;
  readonly webhookSecret: string;
  readonly calls: InbentaRecordedCall[] = [];
  readonly faults: InbentaSandboxFault[] = [];
  readonly users: Array<{ id: number; name: string; address: string; hash_uuid: string }> = [];
  readonly tickets: SandboxTicket[] = [];
  readonly media: Array<{ uuid: number; name: string; size: number }> = [];
  readonly hooks: Hook[] = [];
  readonly deliveries: WebhookDeliverer;
  readonly stats = { auth: 0, refresh: 0, apis: 0 };
  /** Every ticketing call answers 503 while set (Inbenta down). */
  down = false;
  private readonly tokens = new Map<string, number>();
  private readonly router = new SandboxRouter();
  private readonly now: () => number;
  private nextId = 1;
  private url = '';
  private batch: Array<{ hook: Hook; event: Record<string, unknown> }> = [];
  private batchTimer?: NodeJS.Timeout;

  constructor(private readonly options: InbentaSandboxOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.apiKey = options.project?.apiKey ?? SANDBOX_INBENTA_KEY;
    this.apiSecret = options.project?.apiSecret ?? SANDBOX_INBENTA_SECRET;
    this.webhookSecret = options.project?.webhookSecret ?? SANDBOX_INBENTA_WEBHOOK_SECRET;
    this.deliveries = new WebhookDeliverer({
      timeoutMs: options.deliveryTimeoutMs ?? 5000,
      attempts: options.deliveryAttempts ?? 3,
      retryDelayMs: options.deliveryRetryDelayMs ?? 1000,
      concurrency: 1,
      now: this.now,
    });
    this.routes();
  }

  get authUrl(): string {
    return this.url;
  }
  get ticketingUrl(): string {
    return `${this.url}/prod/ticketing`;
  }

  async start(): Promise<string> {
    this.url = await this.router.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    await this.router.close();
  }

  /** Resolves when no batch is waiting and no delivery is in flight. */
  async idle(): Promise<void> {
    while (this.batch.length > 0 || this.deliveries.pending > 0) {
      if (this.batch.length > 0) this.flush();
      await this.deliveries.idle();
    }
  }

  /** Makes the current token expire (as if its 20 minutes had passed). */
  expireTokens(): void {
    for (const token of this.tokens.keys()) this.tokens.set(token, 0);
  }

  // ------------------------------------------------------------------ playing the agent

  /**
   * An agent answers the customer on the ticket: a reply of type `answer`, and its webhook event.
   * `ticketId`: the numeric `uuid`, or the reference the customer is told (`full_uuid`, `SANDBOX-00000001`).
   */
  agentAnswers(ticketId: number | string, html: string): SandboxTicketReply {
    const ticket = this.ticketByRef(ticketId);
    const reply: SandboxTicketReply = { uuid: this.id(), type: 'answer', message: html, creator: 0, attachments: [], created: this.seconds() };
    ticket.replies.push(reply);
    this.emit('reply', { id: reply.uuid, item: 'reply', action: 'add', timestamp: reply.created, actor: 1, parent: ticket.uuid });
    return reply;
  }

  /** An agent closes the ticket (by `uuid` or `full_uuid`). */
  closeTicket(ticketId: number | string): SandboxTicket {
    const ticket = this.ticketByRef(ticketId);
    ticket.status = { id: 3, name: 'Closed' };
    this.emit('ticket', { id: ticket.uuid, item: 'ticket', action: 'update', timestamp: this.seconds(), actor: 1 });
    return ticket;
  }

  /** A ticket by its numeric `uuid` (what the ticketing API takes); 404 when there is none. */
  ticket(ticketId: number): SandboxTicket {
    const ticket = this.tickets.find((t) => t.uuid === ticketId);
    if (!ticket) throw new SandboxHttpError(404, `no ticket ${ticketId}`);
    return ticket;
  }

  /**
   * A ticket by either id a person may have at hand: the numeric `uuid` (`7`) or the reference
   * (`full_uuid`, `SANDBOX-00000001`, any case). 400 for something that is neither form, 404 naming
   * the id as given when no ticket has it.
   */
  ticketByRef(ref: number | string): SandboxTicket {
    const given = String(ref).trim();
    if (/^\d+$/.test(given)) {
      const ticket = this.tickets.find((t) => t.uuid === Number(given));
      if (ticket) return ticket;
    } else if (/^[A-Za-z][A-Za-z0-9_]*-\d+$/.test(given)) {
      const ticket = this.tickets.find((t) => t.full_uuid.toLowerCase() === given.toLowerCase());
      if (ticket) return ticket;
    } else {
      throw new SandboxHttpError(400, `malformed ticket id ${JSON.stringify(given)}: use the numeric uuid (e.g. 7) or the reference (e.g. SANDBOX-00000001)`);
    }
    throw new SandboxHttpError(404, `no ticket ${given}`);
  }

  // ------------------------------------------------------------------ HTTP

  private routes(): void {
    const r = this.router;
    r.before = (req) => this.before(req);
    r.after = (req, reply) => {
      if (!req.path.startsWith('/sandbox/')) this.calls.push({ method: req.method, path: req.path, query: Object.fromEntries(req.query), body: req.body, status: reply.status });
    };

    r.on('POST', '/v1/auth', (req) => {
      this.stats.auth++;
      if (req.body.secret !== this.apiSecret) return { status: 401, body: { error: { code: 401, message: 'Invalid API secret' } } };
      return { status: 200, body: { ...this.issueToken(), apis: this.apis() } };
    });
    r.on('POST', '/v1/refreshToken', (req) => {
      this.stats.refresh++;
      const token = this.bearer(req);
      if (!token || !this.tokenValid(token)) return { status: 403, body: EXPLICIT_DENY };
      this.tokens.delete(token);
      return { status: 200, body: this.issueToken() };
    });
    r.on('GET', '/v1/apis', (req) => {
      this.stats.apis++;
      const token = this.bearer(req);
      if (!token || !this.tokenValid(token)) return { status: 403, body: EXPLICIT_DENY };
      return { status: 200, body: { apis: this.apis() } };
    });

    const t = '/prod/ticketing/v1';
    r.on('GET', `${t}/users`, (req) => {
      const address = req.query.get('address')?.toLowerCase();
      const data = this.users.filter((u) => address === undefined || u.address.toLowerCase() === address);
      return { status: 200, body: { data } };
    });
    r.on('POST', `${t}/users`, (req) => {
      const name = str(req.body.name);
      const address = str(req.body.address);
      if (!address || !/^[^\s@]+@[^\s@]+$/.test(address)) return bad(400, 'address is required and must be an email address');
      if (this.users.some((u) => u.address.toLowerCase() === address.toLowerCase())) return bad(400, 'The address is already in use');
      const user = { id: this.id(), name: name || address, address, hash_uuid: randomBytes(8).toString('hex') };
      this.users.push(user);
      return { status: 200, body: { uuid: user.id, hash_uuid: user.hash_uuid, name: user.name, address: user.address } };
    });
    r.on('POST', `${t}/media`, (req) => {
      const name = str(req.body.name);
      const content = str(req.body.content);
      if (!name || !content) return bad(400, 'name and content are required');
      const media = { uuid: this.id(), name, size: Buffer.from(content, 'base64').length };
      this.media.push(media);
      return { status: 200, body: { uuid: media.uuid } };
    });
    r.on('POST', `${t}/tickets`, (req) => this.createTicket(req));
    r.on('GET', `${t}/tickets`, (req) => {
      const externalId = req.query.get('external_id');
      const data = this.tickets.filter((x) => externalId === null || x.external_id === externalId).map((x) => this.ticketJson(x));
      return { status: 200, body: { data } };
    });
    // The ticketing API takes the numeric uuid only (what the adapter sends); errors in its own shape.
    r.on('GET', `${t}/tickets/:id`, (req) => {
      const found = this.apiTicket(req.params.id);
      return 'refused' in found ? found.refused : { status: 200, body: this.ticketJson(found.ticket) };
    });
    r.on('GET', `${t}/tickets/:id/replies`, (req) => {
      const found = this.apiTicket(req.params.id);
      return 'refused' in found ? found.refused : { status: 200, body: { data: found.ticket.replies } };
    });
    r.on('POST', `${t}/tickets/:id/replies`, (req) => {
      const found = this.apiTicket(req.params.id);
      if ('refused' in found) return found.refused;
      const { ticket } = found;
      const creator = Number(req.body.creator);
      if (!this.users.some((u) => u.id === creator)) return bad(400, 'creator must be an existing user id');
      const message = str(req.body.message);
      if (!message) return bad(400, 'message is required');
      const reply: SandboxTicketReply = { uuid: this.id(), type: 'reply', message, creator, attachments: nums(req.body.attachments), created: this.seconds() };
      ticket.replies.push(reply);
      this.emit('reply', { id: reply.uuid, item: 'reply', action: 'add', timestamp: reply.created, actor: creator, parent: ticket.uuid });
      return { status: 200, body: { uuid: reply.uuid } };
    });
    r.on('POST', `${t}/webhooks`, (req) => this.registerHook(req));

    // A person playing the agent in sandbox mode.
    // A ticket is named by its uuid or by the reference the customer was told (SANDBOX-00000001).
    r.on('GET', '/sandbox/tickets', () => ({ status: 200, body: this.tickets.map((x) => ({ ...this.ticketJson(x), replies: x.replies })) }));
    r.on('GET', '/sandbox/tickets/:id', (req) => {
      const ticket = this.ticketByRef(req.params.id ?? '');
      return { status: 200, body: { ...this.ticketJson(ticket), replies: ticket.replies } };
    });
    r.on('POST', '/sandbox/tickets/:id/answer', (req) => {
      const ticket = this.ticketByRef(req.params.id ?? '');
      const text = str(req.body.text) ?? str(req.body.message);
      if (!text) throw new SandboxHttpError(400, 'text is required: {"text": "the answer"}');
      return { status: 200, body: this.agentAnswers(ticket.uuid, text) };
    });
    r.on('POST', '/sandbox/tickets/:id/close', (req) => ({ status: 200, body: this.ticketJson(this.closeTicket(req.params.id ?? '')) }));
  }

  private apiTicket(id: string | undefined): { ticket: SandboxTicket } | { refused: SandboxReply } {
    if (!/^\d+$/.test(id ?? '')) return { refused: bad(400, `ticket id must be a numeric uuid, not ${JSON.stringify(id ?? '')}`) };
    const ticket = this.tickets.find((x) => x.uuid === Number(id));
    return ticket ? { ticket } : { refused: bad(404, `no ticket ${id}`) };
  }

  /** The gateway: key and token checks, faults, downtime. */
  private before(req: SandboxRequest): SandboxReply | undefined {
    if (req.path.startsWith('/sandbox/')) return undefined;
    let fault = this.faults.find((f) => f.path.test(`${req.method} ${req.path}`) && (f.times ?? 1) > 0);
    if (fault?.skip) {
      fault.skip--;
      fault = undefined;
    }
    if (fault && !fault.afterWork) {
      fault.times = (fault.times ?? 1) - 1;
      return { status: fault.status, body: fault.body ?? { error: { code: fault.status, message: 'injected fault' } }, headers: fault.headers };
    }
    if (req.headers['x-inbenta-key'] !== this.apiKey) return { status: 403, body: EXPLICIT_DENY };
    if (req.path.startsWith('/prod/ticketing/')) {
      if (this.down) return { status: 503, body: { Message: 'Service Unavailable' } };
      const token = this.bearer(req);
      if (!token || !this.tokenValid(token)) return { status: 403, body: EXPLICIT_DENY };
    }
    if (fault?.afterWork) {
      fault.times = (fault.times ?? 1) - 1;
      // Let the route do its work, then answer with the fault (the answer is "lost").
      void this.runRoute(req);
      return { status: fault.status, body: fault.body ?? { error: { code: fault.status, message: 'injected fault' } }, headers: fault.headers };
    }
    return undefined;
  }

  private async runRoute(req: SandboxRequest): Promise<void> {
    if (req.method === 'POST' && req.path === '/prod/ticketing/v1/tickets') this.createTicket(req);
  }

  private createTicket(req: SandboxRequest): SandboxReply {
    const b = req.body;
    for (const field of this.options.refuseTicketFields ?? []) {
      if (b[field] !== undefined) return bad(400, `Unknown parameter: ${field}`);
    }
    const creator = Number(b.creator);
    if (!this.users.some((u) => u.id === creator)) return bad(400, 'creator must be an existing user id');
    const title = str(b.title);
    const message = str(b.message);
    if (!title || !message) return bad(400, 'title and message are required');
    if (b.queue !== undefined && typeof b.queue !== 'number') return bad(400, 'queue must be a number');
    if (b.source !== undefined && typeof b.source !== 'number') return bad(400, 'source must be a number');
    const history = b.history as SandboxTicket['history'] | undefined;
    if (history !== undefined && (!Array.isArray(history?.messages) || history.messages.some((m) => !['guest', 'assistant'].includes(m.user) || typeof m.message !== 'string'))) {
      return bad(422, 'history.messages must be a list of {user: guest|assistant, message}');
    }
    const attachments = nums(b.attachments);
    if (attachments.some((a) => !this.media.some((m) => m.uuid === a))) return bad(400, 'an attachment is not an uploaded media uuid');
    const uuid = this.id();
    const ticket: SandboxTicket = {
      uuid,
      full_uuid: `SANDBOX-${String(this.tickets.length + 1).padStart(8, '0')}`,
      title,
      message,
      creator,
      queue: (b.queue as number | undefined) ?? 1,
      source: (b.source as number | undefined) ?? 3,
      autoclassify: b.autoclassify as boolean | undefined,
      attachments,
      history,
      external_id: b.external_id === undefined ? undefined : String(b.external_id),
      language: b.language as string | undefined,
      status: { id: 1, name: 'Open' },
      replies: [],
    };
    this.tickets.push(ticket);
    this.emit('ticket', { id: uuid, item: 'ticket', action: 'add', timestamp: this.seconds(), actor: creator });
    return { status: 200, body: { uuid, full_uuid: ticket.full_uuid } };
  }

  /** Registration: Inbenta verifies the URL with an empty GET and a challenge before keeping it. */
  private async registerHook(req: SandboxRequest): Promise<SandboxReply> {
    const item = str(req.body.item);
    const url = str(req.body.url);
    const secret = str(req.body.secret);
    if (!['ticket', 'reply', 'user', 'media', 'alert', 'classification', 'queue'].includes(item ?? '')) return bad(400, 'item is not a webhook item');
    if (!url || !/^https?:\/\//.test(url) || !secret) return bad(400, 'url and secret are required');
    const challenge = randomBytes(12).toString('hex');
    const res = await axios
      .get(url, { headers: { 'X-Hook-Signature': secret, 'X-Inbenta-Challenge': challenge }, timeout: 5000, validateStatus: () => true, responseType: 'text' })
      .catch(() => undefined);
    if (!res || res.status !== 200 || String(res.data).trim() !== challenge) return bad(400, `the URL did not answer the challenge (HTTP ${res?.status ?? 'unreachable'})`);
    const existing = this.hooks.find((h) => h.item === item && h.url === url);
    if (existing) {
      existing.secret = secret;
      return { status: 200, body: { uuid: existing.uuid } };
    }
    const hook = { uuid: this.id(), item: item!, url, secret };
    this.hooks.push(hook);
    return { status: 200, body: { uuid: hook.uuid } };
  }

  /** Queues an event for every hook of its item; a batch goes out after the window. */
  private emit(item: string, event: Record<string, unknown>): void {
    for (const hook of this.hooks.filter((h) => h.item === item)) this.batch.push({ hook, event });
    if (this.batch.length > 0 && !this.batchTimer) {
      this.batchTimer = setTimeout(() => this.flush(), this.options.batchWindowMs ?? 50);
    }
  }

  private flush(): void {
    if (this.batchTimer) clearTimeout(this.batchTimer);
    this.batchTimer = undefined;
    const byUrl = new Map<string, { hook: Hook; events: Array<Record<string, unknown>> }>();
    for (const { hook, event } of this.batch) {
      const key = `${hook.url}|${hook.secret}`;
      const group = byUrl.get(key) ?? { hook, events: [] };
      group.events.push(event);
      byUrl.set(key, group);
    }
    this.batch = [];
    for (const { hook, events } of byUrl.values()) {
      this.deliveries.deliver({
        url: hook.url,
        event: events.map((e) => `${String(e.item)}.${String(e.action)}`).join(','),
        body: JSON.stringify(events),
        headers: () => ({ 'X-Hook-Signature': hook.secret }),
        retryOn: (status) => status >= 500 || status === 429,
      });
    }
  }

  // ------------------------------------------------------------------ helpers

  private issueToken(): { accessToken: string; expiration: number; expires_in: number } {
    const lifetime = this.options.tokenLifetimeSeconds ?? 1200;
    const accessToken = `tok-${randomBytes(12).toString('hex')}`;
    const expiresAt = this.now() + lifetime * 1000;
    this.tokens.set(accessToken, expiresAt);
    return { accessToken, expiration: Math.floor(expiresAt / 1000), expires_in: lifetime };
  }

  private tokenValid(token: string): boolean {
    const expiresAt = this.tokens.get(token);
    return expiresAt !== undefined && this.now() < expiresAt;
  }

  private bearer(req: SandboxRequest): string | undefined {
    const auth = req.headers.authorization;
    return typeof auth === 'string' && auth.startsWith('Bearer ') ? auth.slice(7) : undefined;
  }

  private apis(): Record<string, string> {
    return { ticketing: this.ticketingUrl, chatbot: `${this.url}/prod/chatbot`, knowledge: `${this.url}/prod/knowledge` };
  }

  private ticketJson(t: SandboxTicket): Omit<SandboxTicket, 'replies'> {
    const { replies: _replies, ...rest } = t;
    return rest;
  }

  private id(): number {
    return this.nextId++;
  }

  private seconds(): number {
    return Math.floor(this.now() / 1000);
  }
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== '' ? v : undefined;
}

function nums(v: unknown): number[] {
  return Array.isArray(v) ? v.map(Number).filter((n) => Number.isFinite(n)) : [];
}

function bad(status: number, message: string): SandboxReply {
  return { status, body: { error: { code: status, message } } };
}
