/**
 * An in-process emulation of WOZTELL on loopback, for tests and for `npm start` in sandbox mode:
 * the Bot API (`/bot/sendResponses`), the Open API queries the adapter uses (`/open/v3`), the Inbox
 * integration API with its signed-context check (`/inbox/v1.0`), and signed channel webhooks: inbound
 * messages, delivery statuses and outbound echoes of every send, the agent's included. `/sandbox/*`
 * lets a test or a person play the customer and the Inbox agent.
 */
import { SandboxHttpError, SandboxRouter, type SandboxReply, type SandboxRequest } from '../router';
import { WebhookDeliverer, type DeliveryRecord } from '../webhook-delivery';
import { woztellSignature } from './signing';
import {
  SANDBOX_ACCESS_TOKEN,
  SANDBOX_APP_ID,
  SANDBOX_BOT_NUMBER,
  SANDBOX_CHANNEL_ID,
  SANDBOX_CHANNEL_SECRET,
  SANDBOX_INBOX_SIGNATURE,
  SANDBOX_INTEGRATION_ID,
  WoztellSandboxState,
  type SandboxChatMessage,
  type SandboxInboxUser,
  type SandboxMember,
  type SandboxThread,
} from './woztell-state';

export interface WoztellSandboxOptions {
  host?: string;
  port?: number;
  deliveryTimeoutMs?: number;
  deliveryRetryDelayMs?: number;
  deliveryAttempts?: number;
  deliveryConcurrency?: number;
  /** Timestamps of inbound messages: WOZTELL sends both forms. */
  inboundTimestamps?: 'seconds' | 'milliseconds';
  /** Send delivery statuses (SENT, DELIVERED) after each bot message (default true). */
  statuses?: boolean;
  /** The channel's identity (default the sandbox's fixed ones): two emulations with their own, as two tenants' channels. */
  channel?: { id?: string; secret?: string; accessToken?: string };
  now?: () => number;
}

export interface WoztellSandboxFault {
  api?: 'bot' | 'open' | 'inbox';
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

export interface WoztellRecordedCall {
  api: 'bot' | 'open' | 'inbox';
  method: string;
  /** Path below the API's base URL. */
  path: string;
  query: Record<string, string>;
  body: Record<string, unknown>;
  headers: Record<string, string | undefined>;
  status: number;
  ok?: unknown;
}

export class WoztellSandbox {
  readonly state: WoztellSandboxState;
  readonly deliveries: WebhookDeliverer;
  readonly calls: WoztellRecordedCall[] = [];
  readonly faults: WoztellSandboxFault[] = [];
  /** Where channel webhooks go (set with `subscribe`). */
  webhookUrl?: string;
  readonly accessToken: string;
  readonly channelSecret: string;
  readonly channelId: string;
  readonly appId = SANDBOX_APP_ID;
  readonly appIntegrationId = SANDBOX_INTEGRATION_ID;
  readonly inboxSignature = SANDBOX_INBOX_SIGNATURE;
  private readonly router = new SandboxRouter();
  private readonly now: () => number;
  private url = '';

  constructor(private readonly options: WoztellSandboxOptions = {}) {
    this.now = options.now ?? (() => Date.now());
    this.accessToken = options.channel?.accessToken ?? SANDBOX_ACCESS_TOKEN;
    this.channelSecret = options.channel?.secret ?? SANDBOX_CHANNEL_SECRET;
    this.channelId = options.channel?.id ?? SANDBOX_CHANNEL_ID;
    this.state = new WoztellSandboxState(this.now, this.channelId);
    this.deliveries = new WebhookDeliverer({
      timeoutMs: options.deliveryTimeoutMs ?? 5000,
      attempts: options.deliveryAttempts ?? 3,
      retryDelayMs: options.deliveryRetryDelayMs ?? 1000,
      concurrency: options.deliveryConcurrency ?? 1,
      now: this.now,
    });
    this.routes();
  }

  get baseUrl(): string {
    return this.url;
  }
  get botApiUrl(): string {
    return `${this.url}/bot`;
  }
  get openApiUrl(): string {
    return `${this.url}/open/v3`;
  }
  get inboxApiUrl(): string {
    return `${this.url}/inbox/v1.0`;
  }

  async start(): Promise<string> {
    this.url = await this.router.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1');
    return this.url;
  }

  async close(): Promise<void> {
    await this.router.close();
  }

  subscribe(webhookUrl: string): void {
    this.webhookUrl = webhookUrl;
  }

  idle(): Promise<void> {
    return this.deliveries.idle();
  }

  get deliveryLog(): DeliveryRecord[] {
    return this.deliveries.log;
  }

  // ------------------------------------------------------------------ playing the customer and the agent

  createMember(name = 'Ada', externalId?: string): SandboxMember {
    return this.state.createMember(name, externalId);
  }

  /** The customer writes: text, or a button reply (`payload` with its title as text). */
  customerSays(memberId: string, message: { text?: string; payload?: string; type?: string; data?: Record<string, unknown> }): string {
    const member = this.requireMember(memberId);
    const messageId = this.state.nextId('wamid.');
    const type = message.type ?? (message.payload !== undefined ? 'POSTBACK' : 'TEXT');
    const data = message.data ?? { ...(message.text !== undefined ? { text: message.text } : {}), ...(message.payload !== undefined ? { payload: message.payload } : {}) };
    this.state.record(memberId, { messageId, from: 'member', type, text: message.text ?? message.payload });
    const nowMs = this.now();
    this.deliver('INBOUND', {
      from: member.externalId,
      to: SANDBOX_BOT_NUMBER,
      timestamp: this.options.inboundTimestamps === 'milliseconds' ? nowMs : String(Math.floor(nowMs / 1000)),
      type,
      data,
      member: memberId,
      channel: this.channelId,
      app: SANDBOX_APP_ID,
      messageId,
      eventType: 'INBOUND',
    });
    return messageId;
  }

  /** An Inbox agent answers the member: live chat turns on and the echo names the agent. */
  agentSays(memberId: string, text: string, userId?: string): string {
    const member = this.requireMember(memberId);
    const thread = this.state.thread({ memberId })!;
    const agent = userId ?? thread.userId ?? this.state.users[0]!.userId;
    member.liveChat = true;
    const sent = this.state.record(memberId, { messageId: this.state.nextId('wamid.'), from: 'agent', type: 'TEXT', text });
    this.echo(member, 'MANUAL', { agentUserId: agent, source: { integrationId: 'inbox', appIntegration: SANDBOX_INTEGRATION_ID } }, sent);
    return sent.messageId;
  }

  /** What an agent does in the Inbox UI: move the thread, (un)assign it, switch live chat off. */
  agentUpdates(memberId: string, change: { folder?: string; userId?: string | null; liveChat?: boolean }): SandboxThread {
    const member = this.requireMember(memberId);
    const thread = this.state.thread({ memberId })!;
    if (change.folder !== undefined) {
      if (!this.state.folders.has(change.folder)) throw new SandboxHttpError(400, `no folder "${change.folder}"`);
      thread.folder = change.folder;
    }
    if (change.userId === null) delete thread.userId;
    else if (change.userId !== undefined) thread.userId = change.userId;
    if (change.liveChat !== undefined) member.liveChat = change.liveChat;
    return thread;
  }

  /** What the member saw from the bot and agents. */
  received(memberId: string): SandboxChatMessage[] {
    return (this.state.chats.get(memberId) ?? []).filter((m) => m.from !== 'member');
  }

  addUser(user: Omit<SandboxInboxUser, 'userId'> & { userId?: string }): SandboxInboxUser {
    const full = { ...user, userId: user.userId ?? this.state.nextId('u') };
    this.state.users.push(full);
    return full;
  }

  private requireMember(memberId: string): SandboxMember {
    const member = this.state.member(memberId);
    if (!member) throw new SandboxHttpError(404, `no member "${memberId}"`);
    return member;
  }

  // ------------------------------------------------------------------ webhooks

  private deliver(event: string, payload: Record<string, unknown>): void {
    if (!this.webhookUrl) return;
    const body = JSON.stringify(payload);
    const headers = (): Record<string, string> => ({ 'X-Woztell-Signature': woztellSignature(this.channelSecret, body) });
    // Retries are not documented; the sandbox tries again on 429 and 5xx.
    this.deliveries.deliver({ url: this.webhookUrl, event, body, headers, retryOn: (s) => s === 429 || s >= 500 });
  }

  private echo(member: SandboxMember, type: 'BOT' | 'MANUAL', meta: Record<string, unknown>, message: SandboxChatMessage): void {
    this.deliver(`OUTBOUND_${type}`, {
      type,
      member: member.memberId,
      channel: this.channelId,
      app: SANDBOX_APP_ID,
      meta,
      messageEvent: {
        from: SANDBOX_BOT_NUMBER,
        to: member.externalId,
        timestamp: message.at,
        type: message.type,
        data: message.item ?? { text: message.text },
        messageId: message.messageId,
      },
    });
  }

  private statuses(member: SandboxMember, messageId: string): void {
    if (this.options.statuses === false) return;
    for (const type of ['SENT', 'DELIVERED']) {
      this.deliver(type, { type, eventType: 'INBOUND', messageId, data: { messageId }, timestamp: this.now(), member: member.memberId, channel: this.channelId, app: SANDBOX_APP_ID });
    }
  }

  // ------------------------------------------------------------------ routes

  private routes(): void {
    const r = this.router;
    const api = (name: WoztellRecordedCall['api'], base: string, handler: (req: SandboxRequest) => SandboxReply) => async (req: SandboxRequest) => {
      const path = req.path.slice(base.length) || '/';
      const fault = this.faults.find(
        (f) => (f.api === undefined || f.api === name) && f.path.test(path) && (f.times === undefined || f.times > 0) && (f.when === undefined || f.when(req.body ?? {})),
      );
      if (fault?.times !== undefined) fault.times -= 1;
      const carryOut = (): SandboxReply => {
        try {
          return handler(req);
        } catch (error) {
          if (!(error instanceof SandboxHttpError)) throw error;
          return { status: error.status, body: { ok: 0, err: error.message } };
        }
      };
      let reply: SandboxReply;
      if (fault?.status !== undefined) {
        if (fault.afterWork) carryOut();
        reply = { status: fault.status, body: fault.body ?? { ok: 0, err: 'injected fault' }, headers: fault.headers };
      } else {
        reply = carryOut();
      }
      if (fault?.delayMs) await new Promise((resolve) => setTimeout(resolve, fault.delayMs));
      const headers = { 'x-woztell-payload': first(req.headers['x-woztell-payload']), 'x-woztell-signedcontext': first(req.headers['x-woztell-signedcontext']) };
      this.calls.push({
        api: name,
        method: req.method,
        path,
        query: Object.fromEntries(req.query),
        body: req.body,
        headers,
        status: reply.status,
        ok: (reply.body as { ok?: unknown } | undefined)?.ok,
      });
      return reply;
    };

    r.on('POST', '/bot/sendResponses', api('bot', '/bot', (req) => this.sendResponses(req)));
    r.on('POST', '/open/v3', api('open', '/open/v3', (req) => this.graphql(req)));
    r.on('POST', '/open/v3/', api('open', '/open/v3', (req) => this.graphql(req)));
    const inbox = '/inbox/v1\\.0';
    const inboxRoute = (method: string, path: string, handler: (req: SandboxRequest) => SandboxReply) =>
      r.on(method, `${inbox}${path}`, api('inbox', '/inbox/v1.0', (req) => {
        this.checkSignedContext(req);
        return handler(req);
      }));
    inboxRoute('GET', '/api/list-threads', (req) => this.listThreads(req));
    inboxRoute('GET', '/api/list-users', (req) => this.listUsers(req));
    inboxRoute('POST', '/update-thread-folder', (req) => this.updateThread(req, 'folder'));
    inboxRoute('POST', '/update-thread-agent', (req) => this.updateThread(req, 'agent'));
    inboxRoute('POST', '/update-thread-title', (req) => this.updateThread(req, 'title'));
    inboxRoute('POST', '/internal-message', (req) => this.internalMessage(req));

    // playing the customer and the agent over HTTP (`npm start`, curl)
    const play = (handler: (req: SandboxRequest) => unknown) => (req: SandboxRequest): SandboxReply => {
      try {
        return { status: 200, body: handler(req) };
      } catch (error) {
        if (error instanceof SandboxHttpError) return { status: error.status, body: { error: error.message } };
        throw error;
      }
    };
    r.on('POST', '/sandbox/members', play((req) => this.createMember(str(req.body.name) ?? 'Customer', str(req.body.externalId))));
    r.on('POST', '/sandbox/members/:member/messages', play((req) => ({
      messageId: this.customerSays(req.params.member!, { text: str(req.body.text), payload: str(req.body.payload) }),
    })));
    r.on('GET', '/sandbox/members/:member/messages', play((req) => this.state.chats.get(this.requireMember(req.params.member!).memberId)));
    r.on('GET', '/sandbox/members/:member/thread', play((req) => this.state.thread({ memberId: this.requireMember(req.params.member!).memberId })));
    r.on('POST', '/sandbox/members/:member/agent-messages', play((req) => ({ messageId: this.agentSays(req.params.member!, str(req.body.text) ?? '', str(req.body.userId)) })));
    r.on('POST', '/sandbox/members/:member/thread', play((req) => this.agentUpdates(req.params.member!, {
      folder: str(req.body.folder),
      userId: req.body.userId === null ? null : str(req.body.userId),
      liveChat: typeof req.body.liveChat === 'boolean' ? req.body.liveChat : undefined,
    })));
  }

  // Bot API -------------------------------------------------------------

  private sendResponses(req: SandboxRequest): SandboxReply {
    const auth = first(req.headers.authorization);
    const token = req.query.get('accessToken') ?? (auth?.startsWith('Bearer ') ? auth.slice(7) : undefined);
    if (token !== this.accessToken) return { status: 401, body: { ok: 0, err: 'Invalid access token', err_code: 401 } };
    const { channelId, memberId, recipientId, response } = req.body as { channelId?: unknown; memberId?: unknown; recipientId?: unknown; response?: unknown };
    if (channelId !== this.channelId) return { status: 200, body: { ok: 0, err: 'Channel not found', err_code: 404 } };
    const member =
      typeof memberId === 'string' ? this.state.member(memberId) : [...this.state.members.values()].find((m) => m.externalId === recipientId);
    if (!member) return { status: 200, body: { ok: 0, err: 'Member not found', err_code: 404 } };
    if (!Array.isArray(response) || response.length === 0 || !response.every((i) => i && typeof i === 'object' && typeof (i as { type?: unknown }).type === 'string')) {
      return { status: 200, body: { ok: 0, err: 'response must be a non-empty array of response objects', err_code: 400 } };
    }
    const sendResult: Array<{ messageId: string }> = [];
    for (const item of response as Array<Record<string, unknown>>) {
      const text = typeof item.text === 'string' ? item.text : undefined;
      const sent = this.state.record(member.memberId, { messageId: this.state.nextId('wamid.'), from: 'bot', type: String(item.type), text, item });
      sendResult.push({ messageId: sent.messageId });
      this.echo(member, 'BOT', { source: { integrationId: 'bot' } }, sent);
      this.statuses(member, sent.messageId);
    }
    return { status: 200, body: { ok: 1, sendResult } };
  }

  // Open API ------------------------------------------------------------

  private graphql(req: SandboxRequest): SandboxReply {
    if (first(req.headers.authorization) !== `Bearer ${this.accessToken}`) return { status: 401, body: { errors: [{ message: 'Unauthorized' }] } };
    const query = str(req.body.query) ?? '';
    const variables = (req.body.variables ?? {}) as Record<string, unknown>;
    if (query.includes('installedIntegrations')) {
      return {
        status: 200,
        body: {
          data: {
            apiViewer: {
              installedIntegrations: [
                { appId: SANDBOX_APP_ID, _id: '64a1f0c2b7e5d91a2c3b4d61', signature: 'not-the-inbox', integrationId: 'salesforce' },
                { appId: SANDBOX_APP_ID, _id: SANDBOX_INTEGRATION_ID, signature: SANDBOX_INBOX_SIGNATURE, integrationId: 'inbox' },
              ],
            },
          },
        },
      };
    }
    if (/\bmember\s*\(/.test(query)) {
      const member = [...this.state.members.values()].find((m) => m.externalId === variables.externalId);
      const ok = variables.channelId === this.channelId;
      return { status: 200, body: { data: { apiViewer: { member: ok && member ? { _id: member.memberId, botMeta: { liveChat: member.liveChat } } : null } } } };
    }
    return { status: 200, body: { errors: [{ message: 'Cannot query this field in the sandbox' }], data: null } };
  }

  // Inbox API -----------------------------------------------------------

  /** The exact headers of the Inbox integration's signed context, or 401. */
  private checkSignedContext(req: SandboxRequest): void {
    const payload = first(req.headers['x-woztell-payload']);
    const signed = first(req.headers['x-woztell-signedcontext']);
    const expectedPayload = JSON.stringify({ appIntegration: SANDBOX_INTEGRATION_ID, app: SANDBOX_APP_ID });
    const expectedSigned = `${SANDBOX_INBOX_SIGNATURE}.${Buffer.from(expectedPayload).toString('base64')}`;
    if (payload !== expectedPayload || signed !== expectedSigned) throw new SandboxHttpError(401, 'Invalid signed context');
  }

  private page<T>(req: SandboxRequest, items: T[]): SandboxReply {
    const limit = Math.max(1, Math.min(100, Number(req.query.get('limit') ?? 10) || 10));
    const after = req.query.get('after');
    const start = after ? Number(Buffer.from(after, 'base64').toString('utf8').replace('cursor:', '')) : 0;
    if (!Number.isInteger(start) || start < 0) throw new SandboxHttpError(400, 'invalid cursor');
    const slice = items.slice(start, start + limit);
    const cursor = (n: number) => Buffer.from(`cursor:${n}`).toString('base64');
    return {
      status: 200,
      body: {
        ok: 1,
        data: slice,
        paging: { cursors: { after: cursor(start + slice.length), before: cursor(start) }, hasNext: start + limit < items.length, hasPrevious: start > 0 },
      },
    };
  }

  private listThreads(req: SandboxRequest): SandboxReply {
    const q = req.query;
    const threads = [...this.state.threads.values()].filter(
      (t) =>
        (!q.get('channelId') || t.channelId === q.get('channelId')) &&
        (!q.get('folderId') || t.folder === q.get('folderId')) &&
        (!q.get('memberId') || t.memberId === q.get('memberId')) &&
        (!q.get('externalId') || t.externalId === q.get('externalId')) &&
        (!q.get('threadId') || t.threadId === q.get('threadId')) &&
        (!q.get('userId') || t.userId === q.get('userId')),
    );
    return this.page(req, threads.map(({ notes: _notes, ...t }) => t));
  }

  private listUsers(req: SandboxRequest): SandboxReply {
    const q = req.query;
    const users = this.state.users.filter((u) => (!q.get('folderId') || u.folders.includes(q.get('folderId')!)) && (!q.get('userId') || u.userId === q.get('userId')));
    return this.page(req, users.map((u) => ({ userId: u.userId, role: u.role, agentRole: u.agentRole, channel: this.channelId, name: u.name, email: u.email, icon: '' })));
  }

  private updateThread(req: SandboxRequest, what: 'folder' | 'agent' | 'title'): SandboxReply {
    const body = req.body;
    if (what !== 'title' && typeof body.memberId !== 'string') throw new SandboxHttpError(400, 'memberId is required');
    const thread = this.state.thread(body);
    if (!thread) return { status: 200, body: { ok: 0, err: 'Thread not found' } };
    if (what === 'folder') {
      if (typeof body.folderId !== 'string' || !body.folderId) throw new SandboxHttpError(400, 'folderId is required');
      if (!this.state.folders.has(body.folderId)) return { status: 200, body: { ok: 0, err: `Folder "${body.folderId}" not found` } };
      thread.folder = body.folderId;
    } else if (what === 'agent') {
      if (body.userId === null) delete thread.userId;
      else if (typeof body.userId === 'string' && this.state.users.some((u) => u.userId === body.userId)) thread.userId = body.userId;
      else return { status: 200, body: { ok: 0, err: 'User not found' } };
    } else {
      if (typeof body.title !== 'string' || !body.title) throw new SandboxHttpError(400, 'title is required');
      thread.title = body.title;
    }
    const { notes: _notes, ...rest } = thread;
    return { status: 200, body: { ok: 1, thread: { _id: thread.threadId, wMemberId: thread.memberId, wUserId: thread.userId, ...rest } } };
  }

  private internalMessage(req: SandboxRequest): SandboxReply {
    const thread = this.state.thread(req.body);
    if (!thread) return { status: 200, body: { ok: 0, err: 'Thread not found' } };
    if (typeof req.body.message !== 'string' || !req.body.message) throw new SandboxHttpError(400, 'message is required');
    thread.notes.push({ message: req.body.message, at: this.now() });
    return { status: 200, body: { ok: 1, message: req.body.message, memberId: thread.memberId, threadId: thread.threadId } };
  }
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
