/**
 * An in-process emulation of Nimchat on loopback, for tests and for `npm start` in sandbox mode:
 * the bot-token API with the real allow-list, the admin agent-bot calls, the application API for a
 * human agent (user token), the public client API for a customer, and agent-bot webhooks delivered
 * the real way. Any Chatwoot-compatible client works against it.
 */
import { SandboxHttpError, SandboxRouter, type SandboxReply, type SandboxRequest } from '../router';
import { ACCOUNT, type SandboxAgentBot, type SandboxUser } from './nimchat-model';
import { contactPayload, conversationEventPayload, conversationPayload, listedMessagePayload, messageEventPayload } from './nimchat-payloads';
import { NimchatSandboxState, type SandboxEvent } from './nimchat-state';
import { WebhookDeliverer, type DeliveryRecord } from '../webhook-delivery';
import { chatwootSignatureHeaders } from './signing';

export interface NimchatSandboxOptions {
  host?: string;
  port?: number;
  /** Webhook delivery timing (real: 5 s timeout, 3 attempts 3 s apart). */
  deliveryTimeoutMs?: number;
  deliveryRetryDelayMs?: number;
  deliveryAttempts?: number;
  /** Parallel webhook workers: more than one means deliveries may arrive out of order. */
  deliveryConcurrency?: number;
  now?: () => number;
}

/** A fault injected into the next matching API calls (tests). */
export interface SandboxFault {
  method?: string;
  path: RegExp;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  times?: number;
  /** Carry the call out, then answer the fault (the answer is lost, the work is done). */
  afterWork?: boolean;
}

export interface RecordedCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  by: 'bot' | 'user' | 'public';
  status: number;
}

const BOT_ALLOWED: Array<[string, RegExp]> = [
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/messages$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/toggle_status$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/toggle_priority$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/assignments$/],
  ['GET', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/labels$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/labels$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/custom_attributes$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+\/toggle_typing_status$/],
  ['GET', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+$/],
  ['PATCH', /^\/api\/v1\/accounts\/\d+\/conversations\/\d+$/],
  ['POST', /^\/api\/v1\/accounts\/\d+\/conversations$/],
];

type Actor = { kind: 'bot'; bot: SandboxAgentBot } | { kind: 'user'; user: SandboxUser } | { kind: 'public' };

export class NimchatSandbox {
  readonly state: NimchatSandboxState;
  readonly deliveries: WebhookDeliverer;
  /** Every API call made, in order (the assertions of exact sequences read this). */
  readonly calls: RecordedCall[] = [];
  readonly faults: SandboxFault[] = [];
  private readonly router = new SandboxRouter();
  private url = '';

  constructor(private readonly options: NimchatSandboxOptions = {}) {
    const now = options.now ?? (() => Date.now());
    this.state = new NimchatSandboxState((e) => this.onEvent(e), now, () => this.url);
    this.deliveries = new WebhookDeliverer({
      timeoutMs: options.deliveryTimeoutMs ?? 5000,
      attempts: options.deliveryAttempts ?? 3,
      retryDelayMs: options.deliveryRetryDelayMs ?? 3000,
      concurrency: options.deliveryConcurrency ?? 4,
      now,
    });
    this.routes();
  }

  get baseUrl(): string {
    return this.url;
  }

  get adminToken(): string {
    return this.state.users[0]!.accessToken;
  }

  get agentToken(): string {
    return this.state.users[1]!.accessToken;
  }

  get inboxIdentifier(): string {
    return this.state.inboxes[0]!.identifier;
  }

  async start(): Promise<string> {
    this.url = await this.router.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    await this.router.close();
  }

  /** Resolves when no webhook is queued or in flight. */
  idle(): Promise<void> {
    return this.deliveries.idle();
  }

  /** Plays the web widget being opened by a contact (fires `webwidget_triggered`). */
  triggerWidget(contactId: number): void {
    const contact = this.state.contacts.get(contactId);
    if (!contact) throw new Error(`no contact ${contactId}`);
    this.onEvent({ kind: 'widget', contact });
  }

  // ------------------------------------------------------------------ events → webhooks

  private onEvent(event: SandboxEvent): void {
    const inboxId =
      event.kind === 'message' ? this.state.conversation(event.message.conversationId).inboxId : event.kind === 'conversation' ? event.conversation.inboxId : event.contact.inboxId;
    const bot = this.state.botOfInbox(inboxId);
    if (!bot || !bot.outgoing_url) return;
    let payload: Record<string, unknown>;
    if (event.kind === 'message') payload = messageEventPayload(this.state, event.event, event.message);
    else if (event.kind === 'conversation') payload = conversationEventPayload(this.state, event.event, event.conversation, event.changed);
    else {
      const open = [...this.state.conversations.values()].filter((c) => c.contactId === event.contact.id && c.status !== 'resolved').pop();
      payload = {
        event: 'webwidget_triggered',
        id: event.contact.id,
        source_id: event.contact.sourceId,
        contact: contactPayload(event.contact),
        inbox: { id: inboxId, name: this.state.inboxes.find((i) => i.id === inboxId)!.name },
        account: ACCOUNT,
        current_conversation: open ? conversationPayload(this.state, open) : null,
        event_info: { widget_language: 'en', browser_language: 'en', browser: { browser_name: 'Sandbox', platform_name: 'node' } },
      };
    }
    const onFinalFailure =
      event.kind === 'message'
        ? () => {
            // Nimchat opens a pending conversation to humans when the bot cannot be reached.
            const conv = this.state.conversations.get(event.message.conversationId);
            if (conv && conv.status === 'pending') {
              this.state.setStatus(conv, 'open');
              this.state.addMessage(conv, { content: 'Conversation was marked open by system due to an error with the agent bot.', message_type: 'activity', sender: { kind: 'system' } });
            }
          }
        : undefined;
    const body = JSON.stringify(payload);
    const secret = bot.secret;
    const now = this.options.now ?? (() => Date.now());
    const headers = (deliveryId: string): Record<string, string> => {
      const h: Record<string, string> = { 'X-Chatwoot-Delivery': deliveryId };
      // Per attempt: a retry carries a fresh timestamp.
      return secret ? { ...h, ...chatwootSignatureHeaders(secret, body, now()) } : h;
    };
    // Nimchat retries 429 and 500 only.
    this.deliveries.deliver({ url: bot.outgoing_url, event: String(payload.event), body, headers, retryOn: (s) => s === 429 || s === 500 }, onFinalFailure);
  }

  /** The deliveries made so far (for tests). */
  get deliveryLog(): DeliveryRecord[] {
    return this.deliveries.log;
  }

  // ------------------------------------------------------------------ routes

  private actor(req: SandboxRequest): Actor {
    if (req.path.startsWith('/public/') || req.path.startsWith('/rails/')) return { kind: 'public' };
    const token = req.headers['api_access_token'];
    const value = Array.isArray(token) ? token[0] : token;
    const user = this.state.users.find((u) => u.accessToken === value);
    if (user) return { kind: 'user', user };
    for (const bot of this.state.agentBots.values()) if (bot.accessToken === value) return { kind: 'bot', bot };
    throw new SandboxHttpError(401, 'Invalid Access Token');
  }

  private routes(): void {
    const r = this.router;
    r.before = (req) => this.gatekeeper(req);
    const acct = '/api/v1/accounts/:account';
    const conv = `${acct}/conversations/:conversation`;
    const wrap = (handler: (req: SandboxRequest, actor: Actor) => SandboxReply | Promise<SandboxReply>) => async (req: SandboxRequest) => {
      const actor = this.actor(req);
      if (req.params.account !== undefined && Number(req.params.account) !== ACCOUNT.id) throw new SandboxHttpError(404, 'Resource could not be found');
      let reply: SandboxReply;
      try {
        reply = await handler(req, actor);
      } catch (error) {
        if (error instanceof SandboxHttpError) reply = { status: error.status, body: { error: error.message } };
        else throw error;
      }
      if (actor.kind !== 'public' || req.method !== 'GET') this.calls.push({ method: req.method, path: req.path, body: req.body, by: actor.kind, status: reply.status });
      return reply;
    };
    const requireUser = (actor: Actor): SandboxUser => {
      if (actor.kind !== 'user') throw new SandboxHttpError(401, 'Access to this endpoint is not authorized for bots');
      return actor.user;
    };
    const requireAdmin = (actor: Actor): SandboxUser => {
      const user = requireUser(actor);
      if (user.role !== 'administrator') throw new SandboxHttpError(401, 'You are not authorized to do this action');
      return user;
    };
    const botJson = (b: SandboxAgentBot, withSecrets: boolean) => ({
      id: b.id,
      name: b.name,
      description: b.description,
      outgoing_url: b.outgoing_url,
      account_id: b.account_id,
      bot_type: 'webhook',
      ...(withSecrets ? { access_token: b.accessToken, secret: b.secret } : {}),
    });
    const convOf = (req: SandboxRequest) => this.state.conversation(Number(req.params.conversation));

    // profile: lets a caller tell a valid bot token (not authorised here) from an invalid one
    r.on('GET', '/api/v1/profile', wrap((_req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: { id: user.id, name: user.name, email: user.email, role: user.role, accounts: [{ ...ACCOUNT, role: user.role }] } };
    }));

    // agent bots (administrator)
    r.on('GET', `${acct}/agent_bots`, wrap((_req, actor) => {
      requireAdmin(actor);
      return { status: 200, body: [...this.state.agentBots.values()].map((b) => botJson(b, false)) };
    }));
    r.on('POST', `${acct}/agent_bots`, wrap((req, actor) => {
      requireAdmin(actor);
      return { status: 200, body: botJson(this.state.createBot(req.body), true) };
    }));
    r.on('GET', `${acct}/agent_bots/:id`, wrap((req, actor) => {
      requireAdmin(actor);
      return { status: 200, body: botJson(this.bot(req.params.id), true) };
    }));
    r.on('PATCH', `${acct}/agent_bots/:id`, wrap((req, actor) => {
      requireAdmin(actor);
      const bot = this.bot(req.params.id);
      for (const key of ['name', 'description', 'outgoing_url'] as const) if (typeof req.body[key] === 'string') bot[key] = req.body[key] as string;
      return { status: 200, body: botJson(bot, true) };
    }));
    r.on('DELETE', `${acct}/agent_bots/:id`, wrap((req, actor) => {
      requireAdmin(actor);
      const bot = this.bot(req.params.id);
      this.state.agentBots.delete(bot.id);
      for (const inbox of this.state.inboxes) if (inbox.agentBotId === bot.id) inbox.agentBotId = null;
      return { status: 200, body: {} };
    }));
    r.on('POST', `${acct}/agent_bots/:id/reset_access_token`, wrap((req, actor) => {
      requireAdmin(actor);
      const bot = this.bot(req.params.id);
      bot.accessToken = `${bot.accessToken.slice(0, 4)}${Date.now().toString(16)}${Math.random().toString(16).slice(2, 10)}`;
      return { status: 200, body: botJson(bot, true) };
    }));
    r.on('POST', `${acct}/agent_bots/:id/reset_secret`, wrap((req, actor) => {
      requireAdmin(actor);
      const bot = this.bot(req.params.id);
      bot.secret = `${Date.now().toString(16)}${Math.random().toString(16).slice(2, 18)}`;
      return { status: 200, body: botJson(bot, true) };
    }));

    // inboxes
    r.on('GET', `${acct}/inboxes`, wrap((_req, actor) => {
      requireUser(actor);
      return { status: 200, body: { payload: this.state.inboxes.map((i) => ({ id: i.id, name: i.name, channel_type: 'Channel::Api', inbox_identifier: i.identifier })) } };
    }));
    r.on('POST', `${acct}/inboxes/:inbox/set_agent_bot`, wrap((req, actor) => {
      requireAdmin(actor);
      const inbox = this.state.inboxes.find((i) => i.id === Number(req.params.inbox));
      if (!inbox) throw new SandboxHttpError(404, 'Resource could not be found');
      const id = req.body.agent_bot === null || req.body.agent_bot === undefined ? null : Number(req.body.agent_bot);
      if (id !== null) this.bot(String(id));
      inbox.agentBotId = id;
      return { status: 204 };
    }));
    r.on('GET', `${acct}/inboxes/:inbox/agent_bot`, wrap((req, actor) => {
      requireUser(actor);
      const inbox = this.state.inboxes.find((i) => i.id === Number(req.params.inbox));
      if (!inbox) throw new SandboxHttpError(404, 'Resource could not be found');
      const bot = inbox.agentBotId ? this.state.agentBots.get(inbox.agentBotId) : undefined;
      return { status: 200, body: { agent_bot: bot ? botJson(bot, false) : null } };
    }));

    // conversations: application API (bot token on the allow-list, or a user token)
    r.on('POST', `${acct}/conversations`, wrap((req) => {
      const contact = this.state.contacts.get(Number(req.body.contact_id));
      if (!contact) throw new SandboxHttpError(404, 'Resource could not be found');
      const created = this.state.createConversation(contact);
      const message = req.body.message as { content?: string } | undefined;
      if (message?.content) this.state.addMessage(created, { content: message.content, message_type: 'outgoing', sender: { kind: 'system' } });
      return { status: 200, body: conversationPayload(this.state, created) };
    }));
    r.on('GET', conv, wrap((req) => ({ status: 200, body: conversationPayload(this.state, convOf(req)) })));
    r.on('PATCH', conv, wrap((req) => {
      const c = convOf(req);
      if ('priority' in req.body) this.state.updateAttributes(c, { priority: this.priority(req.body.priority) });
      return { status: 200, body: conversationPayload(this.state, c) };
    }));
    r.on('GET', `${conv}/messages`, wrap((req, actor) => {
      requireUser(actor);
      const c = convOf(req);
      return { status: 200, body: { meta: {}, payload: c.messages.map((m) => listedMessagePayload(this.state, m)) } };
    }));
    r.on('POST', `${conv}/messages`, wrap((req, actor) => {
      const c = convOf(req);
      const sender = actor.kind === 'bot' ? { kind: 'agent_bot' as const, id: actor.bot.id } : actor.kind === 'user' ? { kind: 'user' as const, id: actor.user.id } : { kind: 'system' as const };
      const type = req.body.message_type === 'incoming' ? 'incoming' : 'outgoing';
      const message = this.state.addMessage(c, {
        content: typeof req.body.content === 'string' ? req.body.content : null,
        message_type: type,
        sender: type === 'incoming' ? { kind: 'contact', id: c.contactId } : sender,
        private: req.body.private === true || req.body.private === 'true',
        content_type: typeof req.body.content_type === 'string' ? req.body.content_type : undefined,
        content_attributes: (req.body.content_attributes as Record<string, unknown>) ?? undefined,
        files: req.files.filter((f) => f.field === 'attachments[]'),
        viaApi: true,
      });
      return { status: 200, body: listedMessagePayload(this.state, message) };
    }));
    r.on('POST', `${conv}/toggle_status`, wrap((req, actor) => {
      const c = convOf(req);
      const status = this.state.toggleStatus(c, req.body.status, actor.kind === 'bot', typeof req.body.snoozed_until === 'number' ? req.body.snoozed_until : undefined);
      return { status: 200, body: { meta: {}, payload: { success: true, conversation_id: c.id, current_status: status, snoozed_until: c.snoozed_until } } };
    }));
    r.on('POST', `${conv}/toggle_priority`, wrap((req) => {
      this.state.updateAttributes(convOf(req), { priority: this.priority(req.body.priority) });
      return { status: 200 };
    }));
    r.on('POST', `${conv}/assignments`, wrap((req) => ({ status: 200, body: this.state.assign(convOf(req), req.body) })));
    r.on('GET', `${conv}/labels`, wrap((req) => ({ status: 200, body: { payload: convOf(req).labels } })));
    r.on('POST', `${conv}/labels`, wrap((req) => {
      const c = convOf(req);
      const labels = Array.isArray(req.body.labels) ? req.body.labels.map(String) : [];
      this.state.updateAttributes(c, { labels });
      return { status: 200, body: { payload: c.labels } };
    }));
    r.on('POST', `${conv}/custom_attributes`, wrap((req) => {
      const c = convOf(req);
      const attrs = req.body.custom_attributes;
      if (!attrs || typeof attrs !== 'object') throw new SandboxHttpError(422, 'custom_attributes is required');
      this.state.updateAttributes(c, { custom_attributes: attrs as Record<string, unknown> });
      return { status: 200, body: { custom_attributes: c.custom_attributes } };
    }));
    r.on('POST', `${conv}/toggle_typing_status`, wrap((req) => {
      convOf(req);
      if (req.body.typing_status !== 'on' && req.body.typing_status !== 'off') throw new SandboxHttpError(422, 'typing_status must be on or off');
      return { status: 200 };
    }));

    // public client API: the customer's side
    const pub = '/public/api/v1/inboxes/:inbox';
    const contactOf = (req: SandboxRequest) => {
      const inbox = this.state.inboxByIdentifier(req.params.inbox!);
      const contact = this.state.contactBySource(req.params.contact!);
      if (contact.inboxId !== inbox.id) throw new SandboxHttpError(404, 'Resource could not be found');
      return contact;
    };
    const publicContact = (c: ReturnType<typeof contactOf>) => ({ id: c.id, source_id: c.sourceId, name: c.name, email: c.email, phone_number: c.phone_number, pubsub_token: c.pubsubToken });
    const publicConversation = (id: number) => {
      const c = this.state.conversation(id);
      return {
        id: c.id,
        inbox_id: c.inboxId,
        status: c.status,
        contact: publicContact(this.state.contacts.get(c.contactId)!),
        messages: c.messages.filter((m) => !m.private).map((m) => listedMessagePayload(this.state, m)),
      };
    };
    const publicConv = (req: SandboxRequest) => {
      const contact = contactOf(req);
      const c = this.state.conversation(Number(req.params.conversation));
      if (c.contactId !== contact.id) throw new SandboxHttpError(404, 'Resource could not be found');
      return c;
    };
    r.on('POST', `${pub}/contacts`, wrap((req) => ({ status: 200, body: publicContact(this.state.createContact(this.state.inboxByIdentifier(req.params.inbox!), req.body)) })));
    r.on('GET', `${pub}/contacts/:contact`, wrap((req) => ({ status: 200, body: publicContact(contactOf(req)) })));
    r.on('PATCH', `${pub}/contacts/:contact`, wrap((req) => {
      const c = contactOf(req);
      for (const key of ['name', 'email', 'phone_number', 'identifier'] as const) if (typeof req.body[key] === 'string') c[key] = req.body[key] as string;
      return { status: 200, body: publicContact(c) };
    }));
    r.on('POST', `${pub}/contacts/:contact/conversations`, wrap((req) => {
      const created = this.state.createConversation(contactOf(req), (req.body.custom_attributes as Record<string, unknown>) ?? {});
      return { status: 200, body: publicConversation(created.id) };
    }));
    r.on('GET', `${pub}/contacts/:contact/conversations`, wrap((req) => {
      const contact = contactOf(req);
      return { status: 200, body: [...this.state.conversations.values()].filter((c) => c.contactId === contact.id).map((c) => publicConversation(c.id)) };
    }));
    r.on('GET', `${pub}/contacts/:contact/conversations/:conversation/messages`, wrap((req) => ({
      status: 200,
      body: publicConv(req).messages.filter((m) => !m.private).map((m) => listedMessagePayload(this.state, m)),
    })));
    r.on('POST', `${pub}/contacts/:contact/conversations/:conversation/messages`, wrap((req) => {
      const c = publicConv(req);
      const message = this.state.addMessage(c, {
        content: typeof req.body.content === 'string' ? req.body.content : null,
        message_type: 'incoming',
        sender: { kind: 'contact', id: c.contactId },
        files: req.files.filter((f) => f.field === 'attachments[]'),
      });
      return { status: 200, body: listedMessagePayload(this.state, message) };
    }));
    r.on('PATCH', `${pub}/contacts/:contact/conversations/:conversation/messages/:message`, wrap((req) => {
      const c = publicConv(req);
      const submitted = (req.body.submitted_values ?? (req.body.message as Record<string, unknown> | undefined)?.submitted_values) as unknown;
      if (submitted === undefined) throw new SandboxHttpError(422, 'submitted_values is required');
      return { status: 200, body: listedMessagePayload(this.state, this.state.updateSubmittedValues(c, Number(req.params.message), submitted)) };
    }));

    // files: data_url redirects to the blob, as on the real server
    r.on('GET', '/rails/active_storage/blobs/redirect/:key/:name', (req) => {
      if (!this.state.files.has(req.params.key!)) return { status: 404, body: { error: 'Not Found' } };
      return { status: 302, headers: { Location: `${this.url}/rails/active_storage/blobs/${req.params.key}/${req.params.name}` } };
    });
    r.on('GET', '/rails/active_storage/blobs/:key/:name', (req) => {
      const file = this.state.files.get(req.params.key!);
      if (!file) return { status: 404, body: { error: 'Not Found' } };
      return { status: 200, raw: file.data, headers: { 'Content-Type': file.contentType } };
    });
  }

  /** The bot-token allow-list (401 for the rest) and injected faults. */
  private gatekeeper(req: SandboxRequest): SandboxReply | undefined {
    if (req.path.startsWith('/api/')) {
      let actor: Actor;
      try {
        actor = this.actor(req);
      } catch (error) {
        return { status: 401, body: { error: (error as Error).message } };
      }
      if (actor.kind === 'bot' && !BOT_ALLOWED.some(([m, p]) => m === req.method && p.test(req.path))) {
        return { status: 401, body: { error: 'Access to this endpoint is not authorized for bots' } };
      }
    }
    const fault = this.faults.find((f) => (f.method === undefined || f.method === req.method) && f.path.test(req.path));
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      this.calls.push({ method: req.method, path: req.path, body: req.body, by: 'bot', status: fault.status });
      return { status: fault.status, body: fault.body ?? { error: `injected ${fault.status}` }, headers: fault.headers, afterWork: fault.afterWork };
    }
    return undefined;
  }

  private bot(id: string | undefined): SandboxAgentBot {
    const bot = this.state.agentBots.get(Number(id));
    if (!bot) throw new SandboxHttpError(404, 'Resource could not be found');
    return bot;
  }

  private priority(value: unknown): string | null {
    if (value === undefined || value === null || value === '') return null;
    if (typeof value === 'string' && ['urgent', 'high', 'medium', 'low'].includes(value)) return value;
    throw new SandboxHttpError(422, `'${String(value)}' is not a valid priority`);
  }
}
