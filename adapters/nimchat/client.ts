/**
 * The Nimchat HTTP API, nothing else: every call a bot token may make and the admin
 * calls of agent-bot registration (§1). Built on the shared PlatformHttpClient.
 */
import { PlatformHttpClient, type PlatformHttpClientOptions } from '../../src/http/platform-http-client';
import {
  NimchatAgentBotSchema,
  NimchatInboxSchema,
  NimchatLabelsSchema,
  NimchatMessageSchema,
  NimchatToggleStatusSchema,
  type NimchatAgentBot,
  type NimchatInbox,
} from './schemas';
import { z } from 'zod';

export type HttpOptions = Omit<PlatformHttpClientOptions, 'platform' | 'baseUrl' | 'headers'>;

export interface OutgoingMessage {
  content?: string;
  message_type?: 'outgoing';
  private?: boolean;
  content_type?: string;
  content_attributes?: Record<string, unknown>;
  template_params?: Record<string, unknown>;
}

export interface OutgoingFile {
  name: string;
  contentType: string;
  data: Buffer;
}

export type NimchatStatusValue = 'open' | 'resolved' | 'pending' | 'snoozed';
export type NimchatPriority = 'urgent' | 'high' | 'medium' | 'low';

/** Calls made with the agent bot's access token. */
export class NimchatClient {
  readonly http: PlatformHttpClient;

  constructor(baseUrl: string, botToken: string, options: HttpOptions = {}) {
    this.http = new PlatformHttpClient({ ...options, platform: 'nimchat', baseUrl, headers: { api_access_token: botToken } });
  }

  private path(accountId: number, conversationId?: number, rest = ''): string {
    const base = `/api/v1/accounts/${accountId}/conversations`;
    return conversationId === undefined ? base : `${base}/${conversationId}${rest}`;
  }

  /** POST /messages (JSON). */
  async createMessage(accountId: number, conversationId: number, message: OutgoingMessage) {
    const res = await this.http.request({
      method: 'POST',
      path: this.path(accountId, conversationId, '/messages'),
      data: { message_type: 'outgoing', ...message },
    });
    return NimchatMessageSchema.parse(res.data);
  }

  /** POST /messages as multipart with `attachments[]` (at most 15 files). */
  async createMessageWithFiles(accountId: number, conversationId: number, message: OutgoingMessage, files: OutgoingFile[]) {
    const form = new FormData();
    form.append('message_type', message.message_type ?? 'outgoing');
    if (message.content) form.append('content', message.content);
    form.append('private', String(message.private === true));
    for (const f of files) form.append('attachments[]', new Blob([f.data], { type: f.contentType }), f.name);
    const res = await this.http.request({ method: 'POST', path: this.path(accountId, conversationId, '/messages'), data: form });
    return NimchatMessageSchema.parse(res.data);
  }

  async toggleStatus(accountId: number, conversationId: number, status: NimchatStatusValue, snoozedUntil?: number) {
    const res = await this.http.request({
      method: 'POST',
      path: this.path(accountId, conversationId, '/toggle_status'),
      data: { status, ...(snoozedUntil !== undefined ? { snoozed_until: snoozedUntil } : {}) },
    });
    return NimchatToggleStatusSchema.parse(res.data ?? {});
  }

  /** `null` clears the priority (the documented "none" is rejected by the server). */
  async togglePriority(accountId: number, conversationId: number, priority: NimchatPriority | null) {
    await this.http.request({
      method: 'POST',
      path: this.path(accountId, conversationId, '/toggle_priority'),
      data: priority === null ? {} : { priority },
    });
  }

  /** Assigns a human agent (`assigneeId`, null unassigns) or a team. */
  async assign(accountId: number, conversationId: number, target: { assigneeId: number | null } | { teamId: number | null }) {
    const data = 'assigneeId' in target ? { assignee_id: target.assigneeId } : { team_id: target.teamId };
    const res = await this.http.request({ method: 'POST', path: this.path(accountId, conversationId, '/assignments'), data });
    return res.data;
  }

  async getLabels(accountId: number, conversationId: number): Promise<string[]> {
    const res = await this.http.request({ method: 'GET', path: this.path(accountId, conversationId, '/labels') });
    return NimchatLabelsSchema.parse(res.data).payload;
  }

  /** Replaces the whole label list (read and merge first). */
  async setLabels(accountId: number, conversationId: number, labels: string[]): Promise<string[]> {
    const res = await this.http.request({ method: 'POST', path: this.path(accountId, conversationId, '/labels'), data: { labels } });
    return NimchatLabelsSchema.parse(res.data).payload;
  }

  /** Replaces the whole custom-attribute hash (merge first). */
  async setCustomAttributes(accountId: number, conversationId: number, attributes: Record<string, unknown>) {
    await this.http.request({
      method: 'POST',
      path: this.path(accountId, conversationId, '/custom_attributes'),
      data: { custom_attributes: attributes },
    });
  }

  async toggleTyping(accountId: number, conversationId: number, on: boolean) {
    await this.http.request({
      method: 'POST',
      path: this.path(accountId, conversationId, '/toggle_typing_status'),
      data: { typing_status: on ? 'on' : 'off' },
      retry: false, // a late typing indicator is worse than none
    });
  }

  /** GET /{id} (Nimchat 4.15+). */
  async getConversation(accountId: number, conversationId: number) {
    const res = await this.http.request({ method: 'GET', path: this.path(accountId, conversationId) });
    return z
      .looseObject({ id: z.number(), status: z.string(), custom_attributes: z.record(z.string(), z.unknown()).nullable().optional() })
      .parse(res.data);
  }
}

/** Calls made with an administrator's user token (agent-bot registration, checks). */
export class NimchatAdminClient {
  readonly http: PlatformHttpClient;

  constructor(baseUrl: string, adminToken: string, options: HttpOptions = {}) {
    this.http = new PlatformHttpClient({ ...options, platform: 'nimchat', baseUrl, headers: { api_access_token: adminToken } });
  }

  async listAgentBots(accountId: number): Promise<NimchatAgentBot[]> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/agent_bots` });
    const data = res.data as unknown;
    const list = Array.isArray(data) ? data : ((data as { payload?: unknown })?.payload ?? []);
    return z.array(NimchatAgentBotSchema).parse(list);
  }

  async getAgentBot(accountId: number, botId: number): Promise<NimchatAgentBot> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/agent_bots/${botId}` });
    return NimchatAgentBotSchema.parse(res.data);
  }

  async createAgentBot(accountId: number, body: { name: string; description?: string; outgoing_url: string }) {
    // Not retried: a lost answer would create a second bot; registration looks up by name first.
    const res = await this.http.request({ method: 'POST', path: `/api/v1/accounts/${accountId}/agent_bots`, data: body, retry: false });
    return NimchatAgentBotSchema.parse(res.data);
  }

  async updateAgentBot(accountId: number, botId: number, body: { name?: string; description?: string; outgoing_url?: string }) {
    const res = await this.http.request({ method: 'PATCH', path: `/api/v1/accounts/${accountId}/agent_bots/${botId}`, data: body });
    return NimchatAgentBotSchema.parse(res.data);
  }

  async deleteAgentBot(accountId: number, botId: number): Promise<void> {
    await this.http.request({ method: 'DELETE', path: `/api/v1/accounts/${accountId}/agent_bots/${botId}` });
  }

  async resetAccessToken(accountId: number, botId: number) {
    const res = await this.http.request({ method: 'POST', path: `/api/v1/accounts/${accountId}/agent_bots/${botId}/reset_access_token` });
    return NimchatAgentBotSchema.parse(res.data);
  }

  async resetSecret(accountId: number, botId: number) {
    const res = await this.http.request({ method: 'POST', path: `/api/v1/accounts/${accountId}/agent_bots/${botId}/reset_secret` });
    return NimchatAgentBotSchema.parse(res.data);
  }

  /** The inbox, or null when the account has none with that id (404). */
  async getInbox(accountId: number, inboxId: number): Promise<NimchatInbox | null> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/inboxes/${inboxId}`, acceptStatuses: [404] });
    return res.status === 404 ? null : NimchatInboxSchema.parse(res.data);
  }

  async setInboxAgentBot(accountId: number, inboxId: number, botId: number | null) {
    await this.http.request({
      method: 'POST',
      path: `/api/v1/accounts/${accountId}/inboxes/${inboxId}/set_agent_bot`,
      data: { agent_bot: botId },
    });
  }

  async getInboxAgentBot(accountId: number, inboxId: number): Promise<NimchatAgentBot | null> {
    const res = await this.http.request({
      method: 'GET',
      path: `/api/v1/accounts/${accountId}/inboxes/${inboxId}/agent_bot`,
      acceptStatuses: [404],
    });
    if (res.status === 404) return null;
    const parsed = z.looseObject({ agent_bot: NimchatAgentBotSchema.nullable().optional() }).safeParse(res.data);
    if (parsed.success && parsed.data.agent_bot !== undefined) return parsed.data.agent_bot;
    const direct = NimchatAgentBotSchema.safeParse(res.data);
    return direct.success ? direct.data : null;
  }
}

/** The token of an agent bot answer (`access_token` is a string or `{token}` depending on the server). */
export function readAccessToken(bot: NimchatAgentBot): string | undefined {
  const t = bot.access_token;
  if (!t) return undefined;
  return typeof t === 'string' ? t : t.token;
}
