/**
 * An in-process emulation of Nimchat on loopback, for tests and for `npm start` in sandbox mode:
 * the bot-token API with the real allow-list, the admin agent-bot calls, the application API for a
 * human agent (user token: conversations, messages, contacts, agents, teams, inboxes), the public
 * client API for a customer, and agent-bot webhooks delivered the real way. docs/operations.md lists where
 * it still differs from Chatwoot.
 */
import { SandboxHttpError, SandboxRouter, type SandboxReply, type SandboxRequest } from '../router';
import { ACCOUNT, SANDBOX_VERSION, type SandboxAgentBot, type SandboxContact, type SandboxUser } from './nimchat-model';
import { contactWebhookData, conversationEventPayload, conversationPushData, messageEventPayload } from './nimchat-payloads';
import {
  AssignmentBodySchema,
  AvailabilityBodySchema,
  InboxMembersBodySchema,
  InboxUpdateBodySchema,
  TeamCreateBodySchema,
  TeamMembersBodySchema,
  ContactCreateBodySchema,
  ContactListQuerySchema,
  ConversationCreateBodySchema,
  ConversationListQuerySchema,
  parseParams,
  queryObject,
} from './nimchat-requests';
import { CONTACTS_PER_PAGE, NimchatSandboxState, SandboxRecordInvalid, type ContactFields, type SandboxEvent } from './nimchat-state';
import { checkContent } from './content-attributes';
import {
  agentView,
  contactCreatedView,
  contactRecord,
  profileView,
  contactView,
  conversationView,
  inboxView,
  messagesIndexView,
  messageView,
  publicInboxView,
  publicMessageView,
  teamRecord,
  teamView,
} from './nimchat-views';
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
  /** Deliver each conversation's webhooks one after another, in order (tests that check order under load; Nimchat does not promise it). */
  deliveryOrderedPerConversation?: boolean;
  now?: () => number;
}

/** A fault injected into the next matching API calls (tests). */
export interface SandboxFault {
  method?: string;
  path: RegExp;
  /** The status answered; absent: the real answer (late, with `delayMs`). */
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
  times?: number;
  /** Carry the call out, then answer the fault (the answer is lost, the work is done). */
  afterWork?: boolean;
  /** Answer this much later (the work done at once): past a client's timeout, the answer is lost. */
  delayMs?: number;
  /** Only requests whose body this accepts. */
  when?: (body: Record<string, unknown>) => boolean;
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
  // Rails routes `/inboxes/1/` as `/inboxes/1`; some clients send the slash.
  private readonly router = new SandboxRouter({ ignoreTrailingSlash: true });
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
    const contactInbox = this.state.contactInboxesOf(contactId)[0];
    if (!contactInbox) throw new Error(`no contact ${contactId} in an inbox`);
    this.onEvent({ kind: 'widget', contactInbox });
  }

  // ------------------------------------------------------------------ events → webhooks

  private onEvent(event: SandboxEvent): void {
    const inboxId =
      event.kind === 'message' ? this.state.conversation(event.message.conversationId).inboxId : event.kind === 'conversation' ? event.conversation.inboxId : event.contactInbox.inboxId;
    const bot = this.state.botOfInbox(inboxId);
    if (!bot || !bot.outgoing_url) return;
    let payload: Record<string, unknown>;
    if (event.kind === 'message') payload = messageEventPayload(this.state, event.event, event.message);
    else if (event.kind === 'conversation') payload = conversationEventPayload(this.state, event.event, event.conversation, event.changed);
    else {
      const ci = event.contactInbox;
      const open = [...this.state.conversations.values()].filter((c) => c.contactInboxId === ci.id && c.status !== 'resolved').pop();
      payload = {
        event: 'webwidget_triggered',
        id: ci.id,
        source_id: ci.sourceId,
        contact: contactWebhookData(this.state.contact(ci.contactId)),
        inbox: { id: inboxId, name: this.state.inbox(inboxId).name },
        account: ACCOUNT,
        current_conversation: open ? conversationPushData(this.state, open) : null,
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
    const orderKey = this.options.deliveryOrderedPerConversation ? conversationKeyOf(event) : undefined;
    this.deliveries.deliver({ url: bot.outgoing_url, event: String(payload.event), body, headers, retryOn: (s) => s === 429 || s === 500, orderKey }, onFinalFailure);
  }

  /** The deliveries made so far (for tests). */
  get deliveryLog(): DeliveryRecord[] {
    return this.deliveries.log;
  }

  // ------------------------------------------------------------------ routes

  private actor(req: SandboxRequest): Actor {
    if (req.path.startsWith('/public/') || req.path.startsWith('/rails/')) return { kind: 'public' };
    const value = accessToken(req.headers);
    const user = value ? this.state.users.find((u) => u.accessToken === value) : undefined;
    if (user) return { kind: 'user', user };
    if (value) for (const bot of this.state.agentBots.values()) if (bot.accessToken === value) return { kind: 'bot', bot };
    throw new SandboxHttpError(401, 'Invalid Access Token');
  }

  private routes(): void {
    const r = this.router;
    r.before = (req) => this.gatekeeper(req);
    const now = this.options.now ?? (() => Date.now());
    const acct = '/api/v1/accounts/:account';
    const conv = `${acct}/conversations/:conversation`;
    const wrap = (handler: (req: SandboxRequest, actor: Actor) => SandboxReply | Promise<SandboxReply>) => async (req: SandboxRequest) => {
      const actor = this.actor(req);
      if (req.params.account !== undefined && Number(req.params.account) !== ACCOUNT.id) throw new SandboxHttpError(404, 'Resource could not be found');
      let reply: SandboxReply;
      try {
        reply = await handler(req, actor);
      } catch (error) {
        if (error instanceof SandboxRecordInvalid) reply = { status: 422, body: { message: error.message, attributes: [...new Set(error.problems.map((p) => p.attribute))] } };
        else if (error instanceof SandboxHttpError) reply = { status: error.status, body: { error: error.message } };
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
    const viewer = (actor: Actor): SandboxUser | undefined => (actor.kind === 'user' ? actor.user : undefined);
    // As Nimchat renders an agent bot: its token and webhook secret to administrators only.
    const botJson = (b: SandboxAgentBot, withSecrets: boolean) => ({
      id: b.id,
      name: b.name,
      description: b.description,
      thumbnail: '',
      outgoing_url: b.outgoing_url,
      bot_type: 'webhook',
      bot_config: {},
      account_id: b.account_id,
      ...(withSecrets ? { access_token: b.accessToken, secret: b.secret } : {}),
      system_bot: false,
    });
    const convOf = (req: SandboxRequest) => this.state.conversation(Number(req.params.conversation));
    const visibleInbox = (req: SandboxRequest, user: SandboxUser) => {
      const inbox = this.state.inbox(Number(req.params.inbox));
      if (user.role !== 'administrator' && !inbox.memberIds.includes(user.id)) throw new SandboxHttpError(401, 'You are not authorized to do this action');
      return inbox;
    };

    // GET /api: the installation answers with its version, no token needed (clients check a URL with it)
    r.on('GET', '/api', () => ({
      status: 200,
      body: { version: SANDBOX_VERSION, timestamp: new Date(now()).toISOString().replace('T', ' ').slice(0, 19), queue_services: 'ok', data_services: 'ok' },
    }));

    // profile: lets a caller tell a valid bot token (not authorised here) from an invalid one
    r.on('GET', '/api/v1/profile', wrap((_req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: profileView(user) };
    }));

    // agents and teams
    r.on('GET', `${acct}/agents`, wrap((_req, actor) => {
      requireUser(actor);
      return { status: 200, body: [...this.state.users].sort((a, b) => a.name.localeCompare(b.name)).map(agentView) };
    }));
    r.on('GET', `${acct}/teams`, wrap((_req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: this.state.teams.map((t) => teamView(t, user)) };
    }));
    r.on('POST', `${acct}/teams`, wrap((req, actor) => {
      requireAdmin(actor);
      return { status: 200, body: teamRecord(this.state.createTeam(parseParams(TeamCreateBodySchema, req.body))) };
    }));
    r.on('GET', `${acct}/teams/:team`, wrap((req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: teamView(this.state.team(Number(req.params.team)), user) };
    }));
    r.on('GET', `${acct}/teams/:team/team_members`, wrap((req, actor) => {
      requireUser(actor);
      const team = this.state.team(Number(req.params.team));
      return { status: 200, body: this.state.users.filter((u) => team.memberIds.includes(u.id)).map(agentView) };
    }));

    // agent bots: any user of the account reads them, administrators change them
    r.on('GET', `${acct}/agent_bots`, wrap((_req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: [...this.state.agentBots.values()].map((b) => botJson(b, user.role === 'administrator')) };
    }));
    r.on('POST', `${acct}/agent_bots`, wrap((req, actor) => {
      requireAdmin(actor);
      return { status: 200, body: botJson(this.state.createBot(req.body), true) };
    }));
    r.on('GET', `${acct}/agent_bots/:id`, wrap((req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: botJson(this.bot(req.params.id), user.role === 'administrator') };
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
      const user = requireUser(actor);
      const inboxes = this.state.inboxes.filter((i) => user.role === 'administrator' || i.memberIds.includes(user.id));
      return { status: 200, body: { payload: inboxes.map((i) => inboxView(i, user)) } };
    }));
    r.on('GET', `${acct}/inboxes/:inbox`, wrap((req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: inboxView(visibleInbox(req, user), user) };
    }));
    r.on('PATCH', `${acct}/inboxes/:inbox`, wrap((req, actor) => {
      const user = requireAdmin(actor);
      const inbox = this.state.inbox(Number(req.params.inbox));
      this.state.updateInbox(inbox, parseParams(InboxUpdateBodySchema, req.body));
      return { status: 200, body: inboxView(inbox, user) };
    }));
    // the inbox's agents become exactly those listed (Chatwoot's create-or-update of inbox members)
    r.on('POST', `${acct}/inbox_members`, wrap((req, actor) => {
      requireAdmin(actor);
      const body = parseParams(InboxMembersBodySchema, req.body);
      const inbox = this.state.inbox(body.inbox_id);
      for (const userId of body.user_ids) this.state.user(userId);
      inbox.memberIds = [...new Set(body.user_ids)];
      return { status: 200, body: { payload: this.state.users.filter((u) => inbox.memberIds.includes(u.id)).map(agentView) } };
    }));
    r.on('POST', `${acct}/teams/:team/team_members`, wrap((req, actor) => {
      requireAdmin(actor);
      const team = this.state.team(Number(req.params.team));
      const body = parseParams(TeamMembersBodySchema, req.body);
      const added = body.user_ids.map((userId) => this.state.user(userId)).filter((u) => !team.memberIds.includes(u.id));
      team.memberIds.push(...added.map((u) => u.id));
      return { status: 200, body: added.map(agentView) };
    }));
    // the inbox's agents, each with the availability they set (or presence set for them)
    r.on('GET', `${acct}/inbox_members/:inbox`, wrap((req, actor) => {
      const user = requireUser(actor);
      const inbox = visibleInbox(req, user);
      return { status: 200, body: { payload: this.state.users.filter((u) => inbox.memberIds.includes(u.id)).map(agentView) } };
    }));
    r.on('POST', `${acct}/inboxes/:inbox/set_agent_bot`, wrap((req, actor) => {
      requireAdmin(actor);
      const inbox = this.state.inbox(Number(req.params.inbox));
      const id = req.body.agent_bot === null || req.body.agent_bot === undefined ? null : Number(req.body.agent_bot);
      if (id !== null) this.bot(String(id));
      inbox.agentBotId = id;
      return { status: 204 };
    }));
    r.on('GET', `${acct}/inboxes/:inbox/agent_bot`, wrap((req, actor) => {
      requireUser(actor);
      const inbox = this.state.inbox(Number(req.params.inbox));
      const bot = inbox.agentBotId ? this.state.agentBots.get(inbox.agentBotId) : undefined;
      return { status: 200, body: { agent_bot: bot ? botJson(bot, false) : null } };
    }));

    // contacts (application API, user token)
    const contactPage = (contacts: SandboxContact[], query: ReturnType<typeof ContactListQuerySchema.parse>) => {
      const sorted = [...contacts];
      if (query.sort) {
        const desc = query.sort.startsWith('-');
        const key = (desc ? query.sort.slice(1) : query.sort) as 'name' | 'email' | 'phone_number' | 'created_at' | 'last_activity_at';
        sorted.sort((a, b) => {
          const x = a[key] ?? '';
          const y = b[key] ?? '';
          const order = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          return (desc ? -order : order) || a.id - b.id;
        });
      }
      const page = sorted.slice((query.page - 1) * CONTACTS_PER_PAGE, query.page * CONTACTS_PER_PAGE);
      return { sorted, page, withInboxes: query.include_contact_inboxes !== 'false' };
    };
    r.on('GET', `${acct}/contacts`, wrap((req, actor) => {
      requireUser(actor);
      const query = parseParams(ContactListQuerySchema, queryObject(req.query));
      const { sorted, page, withInboxes } = contactPage(this.state.resolvedContacts(), query);
      return { status: 200, body: { meta: { count: sorted.length, current_page: query.page }, payload: page.map((c) => contactView(this.state, c, withInboxes)) } };
    }));
    r.on('GET', `${acct}/contacts/search`, wrap((req, actor) => {
      requireUser(actor);
      const query = parseParams(ContactListQuerySchema, queryObject(req.query));
      if (!query.q || !query.q.trim()) throw new SandboxHttpError(422, 'Specify search string with parameter q');
      const { sorted, page, withInboxes } = contactPage(this.state.searchContacts(query.q), query);
      const hasMore = sorted.length > query.page * CONTACTS_PER_PAGE;
      return { status: 200, body: { meta: { count: page.length, current_page: query.page, has_more: hasMore }, payload: page.map((c) => contactView(this.state, c, withInboxes)) } };
    }));
    r.on('GET', `${acct}/contacts/:contact`, wrap((req, actor) => {
      requireUser(actor);
      const withInboxes = req.query.get('include_contact_inboxes') !== 'false';
      return { status: 200, body: { payload: contactView(this.state, this.state.contact(Number(req.params.contact)), withInboxes) } };
    }));
    r.on('POST', `${acct}/contacts`, wrap((req, actor) => {
      requireUser(actor);
      const body = parseParams(ContactCreateBodySchema, req.body);
      // Everything is checked before anything is created: a bad inbox or source_id leaves no contact behind.
      const inbox = body.inbox_id !== undefined ? this.state.inbox(body.inbox_id) : null;
      const contact = this.state.createContact(inbox, body, inbox ? body.source_id : undefined);
      const ci = inbox ? this.state.contactInboxesOf(contact.id).find((x) => x.inboxId === inbox.id) : undefined;
      return { status: 200, body: contactCreatedView(this.state, contact, ci) };
    }));

    // conversations: application API (bot token on the allow-list, or a user token)
    const listQuery = (req: SandboxRequest) => {
      const q = parseParams(ConversationListQuerySchema, queryObject(req.query, ['labels']));
      return { status: q.status, assigneeType: q.assignee_type, inboxId: q.inbox_id, teamId: q.team_id, labels: q.labels, q: q.q, page: q.page };
    };
    r.on('GET', `${acct}/conversations/meta`, wrap((req, actor) => {
      const user = requireUser(actor);
      return { status: 200, body: { data: { meta: this.state.findConversations(user, listQuery(req)).counts } } };
    }));
    r.on('GET', `${acct}/conversations`, wrap((req, actor) => {
      const user = requireUser(actor);
      const found = this.state.findConversations(user, listQuery(req));
      return { status: 200, body: { data: { meta: found.counts, payload: found.conversations.map((c) => conversationView(this.state, c, user)) } } };
    }));
    r.on('POST', `${acct}/conversations`, wrap((req, actor) => {
      const body = parseParams(ConversationCreateBodySchema, req.body);
      // Checked before anything is created: who it is assigned to, then where it goes.
      // Blank, null or 0: nobody (Rails reads them as no id).
      if (body.assignee_id && !this.state.users.some((u) => u.id === body.assignee_id)) throw new SandboxHttpError(404, 'Resource could not be found');
      if (body.team_id) this.state.team(body.team_id);
      const inbox = body.inbox_id !== undefined ? this.state.inbox(body.inbox_id) : undefined;
      const contact = body.contact_id !== undefined ? this.state.contact(body.contact_id) : undefined;
      const ci =
        inbox && contact
          ? this.state.addContactInbox(contact, inbox, body.source_id)
          : body.source_id !== undefined
            ? this.state.contactInboxBySource(body.source_id)
            : undefined;
      if (!ci) throw new SandboxHttpError(404, 'Resource could not be found');
      const created = this.state.createConversation(ci, {
        status: body.status as 'open' | 'resolved' | 'pending' | 'snoozed' | undefined,
        assigneeId: body.assignee_id || null,
        teamId: body.team_id || null,
        customAttributes: body.custom_attributes,
        additionalAttributes: body.additional_attributes,
        snoozedUntil: body.snoozed_until,
      });
      if (body.message?.content) {
        const sender = actor.kind === 'bot' ? { kind: 'agent_bot' as const, id: actor.bot.id } : actor.kind === 'user' ? { kind: 'user' as const, id: actor.user.id } : { kind: 'system' as const };
        this.state.addMessage(created, { content: body.message.content, message_type: 'outgoing', sender });
      }
      return { status: 200, body: conversationView(this.state, created, viewer(actor)) };
    }));
    r.on('GET', conv, wrap((req, actor) => ({ status: 200, body: conversationView(this.state, convOf(req), viewer(actor)) })));
    r.on('PATCH', conv, wrap((req, actor) => {
      const c = convOf(req);
      if ('priority' in req.body) this.state.updateAttributes(c, { priority: this.priority(req.body.priority) });
      return { status: 200, body: conversationView(this.state, c, viewer(actor)) };
    }));
    r.on('GET', `${conv}/messages`, wrap((req, actor) => {
      requireUser(actor);
      return { status: 200, body: messagesIndexView(this.state, convOf(req)) };
    }));
    r.on('POST', `${conv}/messages`, wrap((req, actor) => {
      const c = convOf(req);
      const sender = actor.kind === 'bot' ? { kind: 'agent_bot' as const, id: actor.bot.id } : actor.kind === 'user' ? { kind: 'user' as const, id: actor.user.id } : { kind: 'system' as const };
      const type = req.body.message_type === 'incoming' ? 'incoming' : 'outgoing';
      checkContent(typeof req.body.content_type === 'string' ? req.body.content_type : undefined, req.body.content_attributes as Record<string, unknown> | undefined);
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
      return { status: 200, body: messageView(this.state, message) };
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
    // The answer is the agent (or null) when `assignee_id` is given, else the team record (or null).
    r.on('POST', `${conv}/assignments`, wrap((req) => {
      const c = convOf(req);
      const body = parseParams(AssignmentBodySchema, req.body);
      if ('assignee_id' in req.body) {
        const result = this.state.assign(c, { assigneeId: body.assignee_id ?? null });
        return { status: 200, body: result && 'user' in result ? agentView(result.user) : null };
      }
      if ('team_id' in req.body) {
        const result = this.state.assign(c, { teamId: body.team_id ?? null });
        return { status: 200, body: result && 'team' in result ? teamRecord(result.team) : null };
      }
      return { status: 200, body: null };
    }));
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
    const contactInboxOf = (req: SandboxRequest) => this.state.contactInboxBySource(req.params.contact!, this.state.inboxByIdentifier(req.params.inbox!).id);
    const publicContact = (ci: ReturnType<typeof contactInboxOf>) => {
      const c = this.state.contact(ci.contactId);
      return { id: c.id, source_id: ci.sourceId, name: c.name, email: c.email, phone_number: c.phone_number, pubsub_token: ci.pubsubToken };
    };
    const publicMessages = (id: number) => this.state.conversation(id).messages.filter((m) => !m.private).map((m) => publicMessageView(this.state, m));
    const publicConversation = (id: number) => {
      const c = this.state.conversation(id);
      return {
        id: c.id,
        uuid: c.uuid,
        inbox_id: c.inboxId,
        contact_last_seen_at: 0,
        status: c.status,
        agent_last_seen_at: 0,
        messages: publicMessages(c.id),
        contact: contactRecord(this.state.contact(c.contactId)),
      };
    };
    const publicConv = (req: SandboxRequest) => {
      const ci = contactInboxOf(req);
      const c = this.state.conversation(Number(req.params.conversation));
      if (c.contactInboxId !== ci.id) throw new SandboxHttpError(404, 'Resource could not be found');
      return c;
    };
    r.on('GET', pub, wrap((req) => ({ status: 200, body: publicInboxView(this.state.inboxByIdentifier(req.params.inbox!)) })));
    r.on('POST', `${pub}/contacts`, wrap((req) => {
      const inbox = this.state.inboxByIdentifier(req.params.inbox!);
      const body = parseParams(ContactCreateBodySchema, req.body);
      return { status: 200, body: publicContact(this.state.createPublicContact(inbox, body)) };
    }));
    r.on('GET', `${pub}/contacts/:contact`, wrap((req) => ({ status: 200, body: publicContact(contactInboxOf(req)) })));
    r.on('PATCH', `${pub}/contacts/:contact`, wrap((req) => {
      const ci = contactInboxOf(req);
      const body = parseParams(ContactCreateBodySchema, req.body);
      // Blank values are ignored (an empty email does not clear the email); custom attributes are merged.
      const fields: ContactFields = Object.fromEntries((['name', 'email', 'phone_number', 'identifier'] as const).filter((k) => typeof body[k] === 'string' && body[k].trim() !== '').map((k) => [k, body[k]]));
      const contact = this.state.contact(ci.contactId);
      if (body.custom_attributes) fields.custom_attributes = { ...contact.custom_attributes, ...body.custom_attributes };
      this.state.updateContact(contact, fields);
      return { status: 200, body: contactRecord(contact) };
    }));
    r.on('POST', `${pub}/contacts/:contact/conversations`, wrap((req) => {
      const created = this.state.createConversation(contactInboxOf(req), { customAttributes: (req.body.custom_attributes as Record<string, unknown>) ?? {} });
      return { status: 200, body: publicConversation(created.id) };
    }));
    r.on('GET', `${pub}/contacts/:contact/conversations`, wrap((req) => {
      const ci = contactInboxOf(req);
      return { status: 200, body: [...this.state.conversations.values()].filter((c) => c.contactInboxId === ci.id).map((c) => publicConversation(c.id)) };
    }));
    r.on('GET', `${pub}/contacts/:contact/conversations/:conversation/messages`, wrap((req) => ({ status: 200, body: publicMessages(publicConv(req).id) })));
    r.on('POST', `${pub}/contacts/:contact/conversations/:conversation/messages`, wrap((req) => {
      const c = publicConv(req);
      const message = this.state.addMessage(c, {
        content: typeof req.body.content === 'string' ? req.body.content : null,
        message_type: 'incoming',
        sender: { kind: 'contact', id: c.contactId },
        files: req.files.filter((f) => f.field === 'attachments[]'),
      });
      return { status: 200, body: publicMessageView(this.state, message) };
    }));
    r.on('PATCH', `${pub}/contacts/:contact/conversations/:conversation/messages/:message`, wrap((req) => {
      const c = publicConv(req);
      const submitted = (req.body.submitted_values ?? (req.body.message as Record<string, unknown> | undefined)?.submitted_values) as unknown;
      if (submitted === undefined) throw new SandboxHttpError(422, 'submitted_values is required');
      return { status: 200, body: publicMessageView(this.state, this.state.updateSubmittedValues(c, Number(req.params.message), submitted)) };
    }));

    // /sandbox: what people do in the dashboard, without a token (play the agents)
    r.on('GET', '/sandbox/agents', () => ({ status: 200, body: this.state.users.map(agentView) }));
    r.on('POST', '/sandbox/agents/:id/availability', (req) => {
      try {
        const user = this.state.user(Number(req.params.id));
        this.state.setAvailability(user, parseParams(AvailabilityBodySchema, req.body).status);
        return { status: 200, body: agentView(user) };
      } catch (error) {
        if (error instanceof SandboxHttpError) return { status: error.status, body: { error: error.message } };
        throw error;
      }
    });

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
    const fault = this.faults.find((f) => (f.method === undefined || f.method === req.method) && f.path.test(req.path) && (f.when === undefined || f.when(req.body ?? {})));
    if (fault) {
      if (fault.times !== undefined && --fault.times <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
      if (fault.status === undefined) return { status: 0, passThrough: true, delayMs: fault.delayMs };
      this.calls.push({ method: req.method, path: req.path, body: req.body, by: 'bot', status: fault.status });
      return { status: fault.status, body: fault.body ?? { error: `injected ${fault.status}` }, headers: fault.headers, afterWork: fault.afterWork, delayMs: fault.delayMs };
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

/**
 * The access token of a request, where the real server reads it: `Authorization: Bearer <token>`
 * first (newer releases; it wins over the other header), else the `api_access_token` header, which
 * Rack also fills from `Api-Access-Token` (Node keeps that one as `api-access-token`).
 */
function accessToken(headers: SandboxRequest['headers']): string | undefined {
  const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v);
  const auth = first(headers.authorization);
  const bearer = auth ? /^Bearer\s+(\S+)\s*$/i.exec(auth)?.[1] : undefined;
  if (bearer) return bearer;
  return first(headers['api_access_token']) || first(headers['api-access-token']) || undefined;
}

/** The conversation an event is about (the widget's events have none: each is its own). */
function conversationKeyOf(event: SandboxEvent): string | undefined {
  if (event.kind === 'message') return String(event.message.conversationId);
  if (event.kind === 'conversation') return String(event.conversation.id);
  return undefined;
}
