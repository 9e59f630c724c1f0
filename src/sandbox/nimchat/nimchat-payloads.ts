/**
 * Serialises sandbox objects the way Nimchat's webhooks carry them ("push data": the conversation
 * with `channel` at its top level, nested messages with an integer `message_type`). The
 * application API's answers, which differ, are in `nimchat-views.ts`.
 */
import {
  ACCOUNT,
  MESSAGE_TYPE_NUMBER,
  type SandboxAgentBot,
  type SandboxContact,
  type SandboxContactInbox,
  type SandboxConversation,
  type SandboxMessage,
  type SandboxTeam,
  type SandboxUser,
} from './nimchat-model';
import type { NimchatSandboxState } from './nimchat-state';

/** Unix seconds (with a fraction) as the ISO 8601 text a datetime column serialises to. */
export function isoTime(seconds: number): string {
  return new Date(Math.round(seconds * 1000)).toISOString();
}

/** A contact as a message webhook's top-level `sender` (no `type` key). */
export function contactWebhookData(c: SandboxContact) {
  return {
    account: ACCOUNT,
    additional_attributes: c.additional_attributes,
    avatar: '',
    custom_attributes: c.custom_attributes,
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: c.blocked,
  };
}

/** A contact wherever push data nests one (`meta.sender`, a message's `sender`, the messages list's `meta.contact`). */
export function contactPushData(c: SandboxContact) {
  return {
    additional_attributes: c.additional_attributes,
    custom_attributes: c.custom_attributes,
    email: c.email,
    id: c.id,
    identifier: c.identifier,
    name: c.name,
    phone_number: c.phone_number,
    thumbnail: '',
    blocked: c.blocked,
    type: 'contact',
  };
}

export function userPushData(u: SandboxUser) {
  return { id: u.id, name: u.name, available_name: u.name, avatar_url: '', type: 'user', availability_status: u.availability, thumbnail: '' };
}

export function botPushData(b: SandboxAgentBot) {
  return { id: b.id, name: b.name, avatar_url: '', type: 'agent_bot' };
}

export function teamPushData(t: SandboxTeam) {
  return { id: t.id, name: t.name };
}

/** The sender of a message as push data (a contact gets `type: "contact"`), or null (system). */
export function senderPushData(state: NimchatSandboxState, m: SandboxMessage): Record<string, unknown> | null {
  switch (m.sender.kind) {
    case 'contact': {
      const c = state.contacts.get(m.sender.id);
      return c ? contactPushData(c) : null;
    }
    case 'user': {
      const userId = m.sender.id;
      const u = state.users.find((x) => x.id === userId);
      return u ? userPushData(u) : null;
    }
    case 'agent_bot': {
      const b = state.agentBots.get(m.sender.id);
      return b ? botPushData(b) : null;
    }
    default:
      return null;
  }
}

/** The top-level `sender` of a message webhook. */
export function senderWebhookData(state: NimchatSandboxState, m: SandboxMessage): Record<string, unknown> | null {
  if (m.sender.kind === 'contact') {
    const c = state.contacts.get(m.sender.id);
    return c ? contactWebhookData(c) : null;
  }
  return senderPushData(state, m);
}

export function senderType(m: SandboxMessage): string | null {
  return m.sender.kind === 'contact' ? 'Contact' : m.sender.kind === 'user' ? 'User' : m.sender.kind === 'agent_bot' ? 'AgentBot' : null;
}

export function attachmentsPayload(m: SandboxMessage) {
  return m.attachments.map((a) => ({
    id: a.id,
    message_id: m.id,
    file_type: a.file_type,
    account_id: ACCOUNT.id,
    extension: a.extension,
    data_url: a.data_url,
    thumb_url: a.thumb_url,
    file_size: a.file_size,
  }));
}

/** Incoming messages the agents have not seen (none is ever marked seen here), at most 10 as the server counts them. */
export function unreadCount(conv: SandboxConversation): number {
  return Math.min(10, conv.messages.filter((m) => m.message_type === 'incoming').length);
}

/** A message as nested in a conversation (`messages[]`, `last_non_activity_message`): integer `message_type`. */
export function messagePushData(state: NimchatSandboxState, m: SandboxMessage) {
  const conv = state.conversation(m.conversationId);
  const ci = state.contactInboxes.get(conv.contactInboxId);
  const sender = senderPushData(state, m);
  return {
    id: m.id,
    content: m.content,
    account_id: ACCOUNT.id,
    inbox_id: conv.inboxId,
    conversation_id: m.conversationId,
    message_type: MESSAGE_TYPE_NUMBER[m.message_type],
    created_at: m.created_at,
    updated_at: isoTime(m.updated_at),
    private: m.private,
    status: 'sent',
    source_id: null,
    content_type: m.content_type,
    content_attributes: m.content_attributes,
    sender_type: senderType(m),
    sender_id: m.sender.kind === 'system' ? null : m.sender.id,
    external_source_ids: {},
    additional_attributes: {},
    processed_message_content: m.content,
    sentiment: {},
    conversation: { assignee_id: conv.assigneeId, unread_count: unreadCount(conv), last_activity_at: conv.last_activity_at, contact_inbox: { source_id: ci?.sourceId ?? null } },
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
    ...(sender ? { sender } : {}),
  };
}

export function contactInboxJson(ci: SandboxContactInbox, createdAt: number) {
  return {
    id: ci.id,
    contact_id: ci.contactId,
    inbox_id: ci.inboxId,
    source_id: ci.sourceId,
    created_at: isoTime(createdAt),
    updated_at: isoTime(createdAt),
    hmac_verified: false,
    pubsub_token: ci.pubsubToken,
  };
}

/** The last message that is not an activity note. */
export function lastChatMessage(conv: SandboxConversation): SandboxMessage | undefined {
  const chat = conv.messages.filter((m) => m.message_type !== 'activity');
  return chat[chat.length - 1];
}

/** The conversation as webhooks carry it (`channel` at the top level, `meta.assignee` null when unassigned). */
export function conversationPushData(state: NimchatSandboxState, conv: SandboxConversation) {
  const contact = state.contact(conv.contactId);
  const ci = state.contactInbox(conv.contactInboxId);
  const assignee = conv.assigneeId === null ? undefined : state.users.find((u) => u.id === conv.assigneeId);
  const team = conv.teamId === null ? undefined : state.teams.find((t) => t.id === conv.teamId);
  const last = lastChatMessage(conv);
  return {
    additional_attributes: conv.additional_attributes,
    can_reply: true,
    channel: 'Channel::Api',
    contact_inbox: contactInboxJson(ci, contact.created_at),
    id: conv.id,
    inbox_id: conv.inboxId,
    messages: last ? [messagePushData(state, last)] : [],
    labels: conv.labels,
    meta: {
      sender: contactPushData(contact),
      assignee: assignee ? userPushData(assignee) : null,
      assignee_type: assignee ? 'User' : null,
      team: team ? teamPushData(team) : null,
      hmac_verified: false,
    },
    status: conv.status,
    custom_attributes: conv.custom_attributes,
    snoozed_until: conv.snoozed_until,
    unread_count: unreadCount(conv),
    first_reply_created_at: conv.first_reply_created_at === null ? null : isoTime(conv.first_reply_created_at),
    priority: conv.priority,
    waiting_since: conv.waiting_since ?? 0,
    agent_last_seen_at: 0,
    contact_last_seen_at: 0,
    last_activity_at: conv.last_activity_at,
    timestamp: conv.last_activity_at,
    created_at: conv.created_at,
    updated_at: conv.updated_at,
  };
}

/** `message_created` / `message_updated`: the message at the top level (string message_type). */
export function messageEventPayload(state: NimchatSandboxState, event: string, m: SandboxMessage) {
  const conv = state.conversation(m.conversationId);
  const inbox = state.inbox(conv.inboxId);
  return {
    event,
    id: m.id,
    content: m.content,
    content_type: m.content_type,
    content_attributes: m.content_attributes,
    message_type: m.message_type,
    private: m.private,
    created_at: isoTime(m.created_at),
    source_id: null,
    additional_attributes: {},
    sender: senderWebhookData(state, m),
    inbox: { id: inbox.id, name: inbox.name },
    account: ACCOUNT,
    conversation: conversationPushData(state, conv),
    ...(m.attachments.length > 0 ? { attachments: attachmentsPayload(m) } : {}),
  };
}

export function conversationEventPayload(
  state: NimchatSandboxState,
  event: string,
  conv: SandboxConversation,
  changed: Record<string, { previous_value: unknown; current_value: unknown }> | null,
) {
  return {
    event,
    ...conversationPushData(state, conv),
    account: ACCOUNT,
    ...(event === 'conversation_updated' || event === 'conversation_status_changed'
      ? { changed_attributes: changed ? Object.entries(changed).map(([k, v]) => ({ [k]: v })) : null }
      : {}),
  };
}
