/** The sandbox Nimchat's data; `nimchat-payloads.ts` and `nimchat-views.ts` serialise it. */

export interface SandboxUser {
  id: number;
  name: string;
  email: string;
  role: 'administrator' | 'agent';
  accessToken: string;
  availability: 'online' | 'busy' | 'offline';
  created_at: number; // unix seconds
}

export interface SandboxTeam {
  id: number;
  name: string;
  description: string;
  allow_auto_assign: boolean;
  memberIds: number[];
  created_at: number;
  updated_at: number;
}

export interface SandboxAgentBot {
  id: number;
  name: string;
  description: string;
  outgoing_url: string;
  account_id: number;
  accessToken: string;
  secret: string;
}

/** One day of an inbox's business hours (day_of_week 0 = Sunday). */
export interface SandboxWorkingHour {
  day_of_week: number;
  closed_all_day: boolean;
  open_hour: number | null;
  open_minutes: number | null;
  close_hour: number | null;
  close_minutes: number | null;
  open_all_day: boolean;
}

export interface SandboxInbox {
  id: number;
  /** The id of its API channel. */
  channelId: number;
  name: string;
  /** The API channel's `inbox_identifier`, the public client API's key. */
  identifier: string;
  agentBotId: number | null;
  memberIds: number[];
  greeting_enabled: boolean;
  greeting_message: string | null;
  working_hours_enabled: boolean;
  out_of_office_message: string | null;
  timezone: string;
  working_hours: SandboxWorkingHour[];
  enable_auto_assignment: boolean;
  /** Nimchat sends its own satisfaction survey (`input_csat`) when a conversation is resolved. */
  csat_survey_enabled: boolean;
  created_at: number;
}

export interface SandboxContact {
  id: number;
  name: string;
  email: string | null;
  phone_number: string | null;
  identifier: string | null;
  custom_attributes: Record<string, unknown>;
  additional_attributes: Record<string, unknown>;
  blocked: boolean;
  created_at: number;
  last_activity_at: number | null;
}

/** A contact's presence in one inbox: the `source_id` the channel knows it by. */
export interface SandboxContactInbox {
  id: number;
  contactId: number;
  inboxId: number;
  sourceId: string;
  pubsubToken: string;
}

export type MessageType = 'incoming' | 'outgoing' | 'activity' | 'template';
export const MESSAGE_TYPE_NUMBER: Record<MessageType, number> = { incoming: 0, outgoing: 1, activity: 2, template: 3 };

export interface SandboxAttachment {
  id: number;
  file_type: string;
  extension: string | null;
  data_url: string;
  thumb_url: string;
  file_size: number;
  name: string;
  contentType: string;
  data: Buffer;
}

export type SenderRef = { kind: 'contact'; id: number } | { kind: 'user'; id: number } | { kind: 'agent_bot'; id: number } | { kind: 'system' };

export interface SandboxMessage {
  id: number;
  conversationId: number;
  content: string | null;
  content_type: string;
  content_attributes: Record<string, unknown>;
  message_type: MessageType;
  private: boolean;
  created_at: number; // unix seconds
  updated_at: number; // unix seconds with a fraction
  sender: SenderRef;
  attachments: SandboxAttachment[];
}

export interface SandboxConversation {
  id: number; // display id
  uuid: string;
  accountId: number;
  inboxId: number;
  contactId: number;
  contactInboxId: number;
  status: 'open' | 'resolved' | 'pending' | 'snoozed';
  priority: string | null;
  assigneeId: number | null;
  teamId: number | null;
  labels: string[];
  custom_attributes: Record<string, unknown>;
  additional_attributes: Record<string, unknown>;
  snoozed_until: number | null;
  created_at: number;
  updated_at: number;
  last_activity_at: number;
  /** Unix seconds (with a fraction) of the first public reply by a human agent; null before it. */
  first_reply_created_at: number | null;
  /** Since when the contact waits for a human answer (unix seconds); null once answered. */
  waiting_since: number | null;
  messages: SandboxMessage[];
  /** Times (ms) of messages created through the API, for the 200/minute limit. */
  recentApiMessages: number[];
}

export const ACCOUNT = { id: 1, name: 'Sandbox Inc' };

/** The version `GET /api` reports (the Chatwoot release whose API the sandbox follows). */
export const SANDBOX_VERSION = '4.15.0';
