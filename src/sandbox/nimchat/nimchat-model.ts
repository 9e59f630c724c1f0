/** The sandbox Nimchat's data and the payload shapes it serialises them to. */

export interface SandboxUser {
  id: number;
  name: string;
  email: string;
  role: 'administrator' | 'agent';
  accessToken: string;
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

export interface SandboxInbox {
  id: number;
  name: string;
  identifier: string;
  agentBotId: number | null;
}

export interface SandboxContact {
  id: number;
  name: string;
  email: string | null;
  phone_number: string | null;
  identifier: string | null;
  sourceId: string;
  pubsubToken: string;
  inboxId: number;
  custom_attributes: Record<string, unknown>;
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
  sender: SenderRef;
  attachments: SandboxAttachment[];
}

export interface SandboxConversation {
  id: number; // display id
  accountId: number;
  inboxId: number;
  contactId: number;
  status: 'open' | 'resolved' | 'pending' | 'snoozed';
  priority: string | null;
  assigneeId: number | null;
  teamId: number | null;
  labels: string[];
  custom_attributes: Record<string, unknown>;
  snoozed_until: number | null;
  created_at: number;
  updated_at: number;
  messages: SandboxMessage[];
  /** Times (ms) of messages created through the API, for the 200/minute limit. */
  recentApiMessages: number[];
}

export const ACCOUNT = { id: 1, name: 'Sandbox Inc' };
