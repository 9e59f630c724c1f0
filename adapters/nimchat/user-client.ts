/**
 * Calls made with a user's (or administrator's) access token, `NIMCHAT_API_TOKEN`: what a bot token
 * may not read. The inbox (its business hours), who could answer (team and inbox members with their
 * availability), the conversation list (the queue) and a conversation's messages. Read-only.
 */
import { PlatformHttpClient } from '../../src/http/platform-http-client';
import type { HttpOptions } from './client';
import {
  NimchatAgentListSchema,
  NimchatConversationListSchema,
  NimchatInboxSchema,
  NimchatMessageListSchema,
  type NimchatAgent,
  type NimchatMessageList,
  type NimchatInbox,
  type NimchatListedConversation,
} from './schemas';

export interface ConversationListFilters {
  status?: 'open' | 'resolved' | 'pending' | 'snoozed' | 'all';
  assigneeType?: 'me' | 'unassigned' | 'assigned' | 'all';
  inboxId?: number;
  teamId?: number;
  page?: number;
}

export class NimchatUserClient {
  readonly http: PlatformHttpClient;

  constructor(baseUrl: string, apiToken: string, options: HttpOptions = {}) {
    this.http = new PlatformHttpClient({ ...options, platform: 'nimchat', baseUrl, headers: { api_access_token: apiToken } });
  }

  async getInbox(accountId: number, inboxId: number): Promise<NimchatInbox> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/inboxes/${inboxId}` });
    return NimchatInboxSchema.parse(res.data);
  }

  async teamMembers(accountId: number, teamId: number): Promise<NimchatAgent[]> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/teams/${teamId}/team_members` });
    return NimchatAgentListSchema.parse(res.data);
  }

  async inboxMembers(accountId: number, inboxId: number): Promise<NimchatAgent[]> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/inbox_members/${inboxId}` });
    return NimchatAgentListSchema.parse(res.data);
  }

  /** One page (25) of the conversation list, newest activity first. */
  async listConversations(accountId: number, filters: ConversationListFilters): Promise<NimchatListedConversation[]> {
    const res = await this.http.request({
      method: 'GET',
      path: `/api/v1/accounts/${accountId}/conversations`,
      params: { status: filters.status, assignee_type: filters.assigneeType, inbox_id: filters.inboxId, team_id: filters.teamId, page: filters.page },
    });
    return NimchatConversationListSchema.parse(res.data).data.payload;
  }

  /** A conversation's newest messages (a page: 20 on Nimchat), oldest first. */
  async listMessages(accountId: number, conversationId: number): Promise<NimchatMessageList> {
    const res = await this.http.request({ method: 'GET', path: `/api/v1/accounts/${accountId}/conversations/${conversationId}/messages` });
    return NimchatMessageListSchema.parse(res.data);
  }
}
